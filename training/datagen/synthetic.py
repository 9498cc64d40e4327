"""Synthetic tools: hand-written domain frames (messaging, music, weather, ...) whose names, descriptions and
parameter names are varied per sample, plus fully random tools with generic utterances. They teach the model
to read the declarations and copy values instead of memorising the catalogue; they also turn everyday
requests that the catalogue cannot serve into positives when (and only when) a fitting tool is declared.
"""
from __future__ import annotations

import random
import string

from . import spoken, vocab as V

PEOPLE = ["john", "sarah", "mom", "dad", "mike", "emma", "olivia", "liam", "noah", "ava", "sophia", "james",
          "lucas", "mia", "grandma", "grandpa", "alex", "sam", "chris", "taylor", "jordan", "priya", "raj",
          "wei", "yuki", "carlos", "maria", "fatima", "ahmed", "lena", "jonas", "pierre", "chloe", "the team",
          "my boss", "jessica", "david", "rachel", "ben", "kate", "tom", "anna", "peter", "laura", "dr. smith",
          "uncle joe", "aunt mary", "my sister", "my brother", "the landlord", "steve", "nina", "omar", "zoe"]
MESSAGES = ["i'm running late", "i'll be there in ten minutes", "see you soon", "call me when you can",
            "happy birthday", "dinner is ready", "can you pick up milk", "on my way", "running 5 minutes late",
            "the meeting is moved to 3", "don't forget the tickets", "i love you", "good night", "thanks for today",
            "are we still on for lunch", "i'm home", "the package arrived", "let's meet at the cafe",
            "congratulations", "where are you", "call me back", "i miss you", "bring snacks", "i'll call you later",
            "the kids are asleep", "leaving work now", "what time is the game", "can we reschedule"]
SONGS = ["bohemian rhapsody", "hey jude", "shape of you", "blinding lights", "hotel california", "let it be",
         "yesterday", "imagine", "wonderwall", "billie jean", "thriller", "purple rain", "hallelujah",
         "rolling in the deep", "bad guy", "levitating", "uptown funk", "someone like you", "smells like teen spirit",
         "sweet caroline", "dancing queen", "take on me", "africa", "clocks", "yellow", "viva la vida",
         "here comes the sun", "stairway to heaven", "despacito", "happy", "halo", "perfect", "thunderstruck"]
ARTISTS = ["the beatles", "queen", "taylor swift", "adele", "drake", "beyonce", "ed sheeran", "coldplay",
           "the weeknd", "billie eilish", "bruno mars", "miles davis", "mozart", "beethoven", "bach",
           "radiohead", "nirvana", "abba", "michael jackson", "prince", "dua lipa", "kendrick lamar",
           "fleetwood mac", "the rolling stones", "pink floyd", "daft punk", "norah jones", "bob marley"]
GENRES = ["jazz", "classical", "rock", "pop", "hip hop", "country", "blues", "lo-fi", "ambient", "metal",
          "reggae", "folk", "electronic", "soul", "r&b", "indie", "punk", "disco", "techno", "piano music",
          "chill music", "workout music", "christmas music", "kids songs", "rain sounds", "white noise"]
LANGUAGES = ["spanish", "french", "german", "italian", "japanese", "chinese", "korean", "portuguese",
             "russian", "arabic", "hindi", "dutch", "swedish", "greek", "turkish", "polish"]
DISHES = ["pizza", "pad thai", "sushi", "a burger", "chicken tikka masala", "lasagna", "tacos", "ramen",
          "a caesar salad", "pho", "fried rice", "spaghetti carbonara", "a margherita pizza", "dumplings",
          "a burrito", "fish and chips", "banana bread", "pancakes", "chocolate cake", "guacamole",
          "beef stew", "chili", "mac and cheese", "shakshuka", "risotto", "curry", "a smoothie"]
ITEMS = ["milk", "eggs", "bread", "butter", "coffee", "bananas", "apples", "toilet paper", "dish soap",
         "olive oil", "rice", "pasta", "tomatoes", "cheese", "yogurt", "chicken breasts", "orange juice",
         "batteries", "paper towels", "cereal", "onions", "garlic", "shampoo", "toothpaste", "dog food"]
LISTS = ["shopping", "grocery", "groceries", "to do", "todo", "packing", "costco", "hardware store",
         "christmas", "birthday", "wish", "work", "chores", "movies to watch", "books to read"]
TOPICS = ["best pizza near me", "how to change a tire", "weather in paris", "the population of canada",
          "news about the election", "cheap flights to rome", "how tall is mount everest", "banana bread recipe",
          "symptoms of the flu", "the lakers score", "who won the world cup", "python list comprehension",
          "opening hours of the library", "how to tie a tie", "the meaning of serendipity", "tesla stock"]
TITLES = ["team meeting", "dentist", "lunch with sarah", "project review", "yoga class", "date night",
          "parent teacher meeting", "budget planning", "doctor's appointment", "standup", "book club",
          "soccer practice", "haircut", "flight to boston", "weekly sync", "coffee with mike", "job interview"]
SHOWS = ["the office", "friends", "breaking bad", "stranger things", "the crown", "planet earth",
         "the news", "game of thrones", "the simpsons", "seinfeld", "the mandalorian", "bluey", "top gear"]
PODCASTS = ["the daily", "serial", "radiolab", "this american life", "freakonomics", "hardcore history",
            "the joe rogan experience", "stuff you should know", "how i built this", "planet money"]
CURRENCIES = ["dollars", "euros", "pounds", "yen", "canadian dollars", "swiss francs", "pesos", "rupees"]
APPS = ["spotify", "netflix", "youtube", "the camera", "maps", "calendar", "settings", "whatsapp", "slack",
        "chrome", "the calculator", "notes", "photos", "gmail", "zoom", "uber"]
WORKOUTS = {"running": ["run", "running"], "cycling": ["ride", "cycling", "bike ride"],
            "yoga": ["yoga", "yoga session"], "strength": ["strength", "weights", "lifting"],
            "swimming": ["swim", "swimming"], "walking": ["walk", "walking"], "hiit": ["hiit", "interval"]}


def _pick(lst):
    return lambda rng: (lambda s: (s, s))(rng.choice(lst))


def _int(lo, hi, words=0.35):
    def g(rng):
        n = rng.randint(lo, hi)
        return spoken.number(rng, n, words), n
    return g


def _num(lo, hi):
    def g(rng):
        if rng.random() < 0.3:
            v = round(rng.uniform(lo, hi), 1)
            if v == int(v):
                v = int(v)
            return str(v), v
        n = rng.randint(int(lo), int(hi))
        return spoken.number(rng, n, 0.3), n
    return g


def _enum(mapping: dict):
    """mapping: enum value -> surface phrases."""
    def g(rng):
        v = rng.choice(list(mapping))
        return rng.choice(mapping[v]), v
    g.enum = list(mapping)  # type: ignore[attr-defined]
    return g


def _bool(true_phrases, false_phrases):
    def g(rng):
        if rng.random() < 0.6:
            return rng.choice(true_phrases), True
        return rng.choice(false_phrases), False
    g.boolean = True  # type: ignore[attr-defined]
    return g


def _time(rng):
    s = spoken.clock_time(rng)
    return s, s


def _when(rng):
    s = spoken.reminder_when(rng)
    return s, s


def _date(rng):
    s = rng.choice(["tomorrow", "today", "friday", "next monday", "on saturday", "march 3rd", "the 21st",
                    "next week", "this weekend", "june 12", "tuesday", "thursday", "december 24th", "tonight"])
    return s, s


def _dur(rng):
    s = spoken.duration(rng)
    return s, s


def _city(rng):
    s = rng.choice(V.CITIES)
    return s, s


def _place(rng):
    s = V.place(rng)
    return s, s


def P(type_, descs, gen, alts=(), required=False):
    return {"type": type_, "descs": descs, "gen": gen, "alts": list(alts), "required": required}


FRAMES = [
    {"names": ["send_message", "send_text", "text_contact", "send_sms"],
     "descs": ["Send a text message to a contact", "Send an SMS", "Text someone", "Send a message"],
     "params": {"recipient": P("string", ["Who to send it to", "Contact name"], _pick(PEOPLE), ["to", "contact"], True),
                "message": P("string", ["The message text", "What to say"], _pick(MESSAGES), ["text", "body"], True)},
     "templates": ["(send|write) (a|) (message|text) to {recipient} (saying|that says) {message}", "text {recipient} {message}",
                   "tell {recipient} {message}", "message {recipient} (saying|) {message}", "send {recipient} a text: {message}",
                   "can you text {recipient} that {message}", "let {recipient} know {message}", "shoot {recipient} a text saying {message}"]},
    {"names": ["call_contact", "make_call", "phone_call", "dial"],
     "descs": ["Call a contact", "Start a phone call", "Place a call to someone"],
     "params": {"contact": P("string", ["Who to call"], _pick(PEOPLE), ["name", "callee"], True),
                "speaker": P("boolean", ["Use the speakerphone"], _bool(["on speaker", "on speakerphone"], ["without speaker", "off speaker"]))},
     "templates": ["call {contact}", "(ring|phone|dial) {contact}", "call {contact} {speaker}", "give {contact} a call",
                   "can you call {contact}", "i need to talk to {contact}, call them", "video call {contact}",
                   "get {contact} on the phone", "start a call with {contact} {speaker}"]},
    {"names": ["play_music", "play_song", "start_music", "music_play"],
     "descs": ["Play music", "Play a song, artist or genre", "Start playing music"],
     "params": {"query": P("string", ["Song, artist or genre"], lambda r: (lambda s: (s, s))(r.choice(SONGS + ARTISTS + GENRES)), ["song", "what"], True),
                "shuffle": P("boolean", ["Shuffle"], _bool(["on shuffle", "shuffled", "in random order"], ["in order", "without shuffle"]))},
     "templates": ["play {query}", "play {query} {shuffle}", "put on {query}", "i want to hear {query}", "play some {query}",
                   "can you play {query}", "listen to {query}", "start {query}", "play me {query} {shuffle}",
                   "i'm in the mood for {query}", "music: {query}"]},
    {"names": ["set_volume", "change_volume", "volume"],
     "descs": ["Set the speaker volume", "Change the media volume (0-100)"],
     "params": {"level": P("integer", ["Volume 0-100"], _int(0, 100), ["volume", "value"], True)},
     "templates": ["(set|change|turn) the volume to {level}", "volume {level}", "volume to {level} (percent|)",
                   "make it volume {level}", "turn it (up|down) to {level}", "set volume at {level}"]},
    {"names": ["get_weather", "weather_forecast", "check_weather", "forecast"],
     "descs": ["Get the weather forecast for a place", "Weather for a city and day", "Check the weather"],
     "params": {"location": P("string", ["City or place"], _city, ["city", "place"], False),
                "day": P("string", ["Day of the forecast"], _date, ["when", "date"]),
                "unit": P("string", ["Temperature unit"], _enum({"celsius": ["in celsius"], "fahrenheit": ["in fahrenheit"]}))},
     "templates": ["what's the weather (like|) in {location}", "weather in {location} {day}", "what's the weather {day}",
                   "will it rain in {location} {day}", "how hot will it be in {location} {day} {unit}", "forecast for {location}",
                   "what's the forecast {day}", "is it going to snow {day}", "weather {location}", "do i need an umbrella {day}",
                   "how cold is it in {location} {unit}", "what's the temperature outside in {location}"]},
    {"names": ["search_web", "web_search", "google", "search"],
     "descs": ["Search the web", "Look something up online"],
     "params": {"query": P("string", ["What to search for"], _pick(TOPICS), ["q", "terms"], True)},
     "templates": ["search (for|) {query}", "google {query}", "look up {query}", "search the web for {query}",
                   "find {query} online", "can you look up {query}"]},
    {"names": ["create_event", "add_calendar_event", "schedule_event", "calendar_add"],
     "descs": ["Add an event to the calendar", "Create a calendar event", "Schedule a meeting or appointment"],
     "params": {"title": P("string", ["Event title"], _pick(TITLES), ["name", "summary"], True),
                "date": P("string", ["Day of the event"], _date, ["day"]),
                "time": P("string", ["Start time"], _time, ["start", "at"])},
     "templates": ["(add|put|schedule) {title} (on|to) my calendar {date} at {time}", "schedule {title} {date}",
                   "create an event called {title} {date} at {time}", "(book|schedule) {title} for {date} at {time}",
                   "calendar: {title} {date}", "add {title} at {time} {date} to the calendar", "new event {title} {date}"]},
    {"names": ["check_calendar", "get_events", "list_events", "agenda"],
     "descs": ["List calendar events for a day", "What's on the calendar"],
     "params": {"date": P("string", ["Day to check"], _date, ["day"])},
     "templates": ["what's on my calendar {date}", "what do i have {date}", "am i free {date}", "show my agenda {date}",
                   "do i have any meetings {date}", "what's my schedule (like|) {date}", "read me my calendar"]},
    {"names": ["add_to_list", "add_item", "shopping_list_add", "list_add"],
     "descs": ["Add an item to a list", "Add something to the shopping list"],
     "params": {"item": P("string", ["The item"], _pick(ITEMS), ["what", "entry"], True),
                "list": P("string", ["Which list"], _pick(LISTS), ["list_name"])},
     "templates": ["add {item} to (my|the) {list} list", "put {item} on the {list} list", "add {item} to my list",
                   "we need {item}", "we're out of {item}, add it to the {list} list", "{list} list: {item}",
                   "can you add {item} to the {list} list"]},
    {"names": ["translate", "translate_text", "translation"],
     "descs": ["Translate text into another language", "Translate a phrase"],
     "params": {"text": P("string", ["Text to translate"], _pick(["good morning", "where is the bathroom", "thank you very much",
                                                                  "how much does this cost", "i love you", "cheers",
                                                                  "nice to meet you", "the bill please", "excuse me"]), ["phrase"], True),
                "language": P("string", ["Target language"], _pick(LANGUAGES), ["target_language", "to"], True)},
     "templates": ["translate {text} (in|into|to) {language}", "how do you say {text} in {language}",
                   "what's {text} in {language}", "say {text} in {language}", "{language} for {text}"]},
    {"names": ["convert_currency", "currency_convert", "exchange"],
     "descs": ["Convert an amount between currencies"],
     "params": {"amount": P("number", ["Amount"], _num(1, 500), ["value"], True),
                "from_currency": P("string", ["Source currency"], _pick(CURRENCIES), ["from"], True),
                "to_currency": P("string", ["Target currency"], _pick(CURRENCIES), ["to"], True)},
     "templates": ["convert {amount} {from_currency} to {to_currency}", "how much is {amount} {from_currency} in {to_currency}",
                   "{amount} {from_currency} to {to_currency}", "what are {amount} {from_currency} in {to_currency}"]},
    {"names": ["order_food", "food_order", "order_delivery"],
     "descs": ["Order food for delivery", "Order a meal"],
     "params": {"dish": P("string", ["What to order"], _pick(DISHES), ["item", "food"], True),
                "quantity": P("integer", ["How many"], _int(1, 6, 0.6), ["count", "qty"]),
                "restaurant": P("string", ["Restaurant"], _pick(["joe's pizza", "the thai place", "golden dragon", "sushi zen",
                                                                   "mcdonald's", "chipotle", "domino's", "taco bell", "nando's"]), ["from"])},
     "templates": ["order {dish} from {restaurant}", "order {quantity} {dish}", "get me {dish} from {restaurant}",
                   "i want to order {dish}", "can you order {quantity} {dish} from {restaurant}", "food delivery: {dish}"]},
    {"names": ["book_ride", "request_ride", "call_taxi", "order_cab"],
     "descs": ["Book a taxi or ride", "Request a car to a destination"],
     "params": {"destination": P("string", ["Where to"], _place, ["to", "dropoff"], True),
                "ride_type": P("string", ["Kind of car"], _enum({"standard": ["a regular", "a normal", "a standard"], "xl": ["a big", "an xl"],
                                                                  "premium": ["a fancy", "a premium", "a black car"]}), ["type"])},
     "templates": ["(book|get|call|order) me {ride_type} (taxi|cab|ride|car) to {destination}", "(book|get|call) a (taxi|cab|ride|uber) to {destination}",
                   "i need a (cab|ride) to {destination}", "(order|call) {ride_type} (car|ride) to {destination}"]},
    {"names": ["take_note", "create_note", "add_note", "note"],
     "descs": ["Save a note", "Write down a note"],
     "params": {"content": P("string", ["Text of the note"], _pick(["the wifi password is blue42", "parked on level 3",
                                                                   "buy a gift for emma", "idea for the blog post", "the gate code is 1234",
                                                                   "call the insurance about the claim", "pick a paint color"]), ["text", "body"], True)},
     "templates": ["(take|make|write|jot down) a note(:|) {content}", "note (that|) {content}", "write down {content}",
                   "save a note saying {content}", "remember that {content}", "add a note {content}"]},
    {"names": ["start_workout", "log_workout", "begin_exercise", "track_activity"],
     "descs": ["Start tracking a workout", "Begin an exercise session"],
     "params": {"activity": P("string", ["Kind of workout"], _enum({k: v for k, v in WORKOUTS.items()}), ["type", "sport"], True),
                "duration": P("string", ["Planned length, as spoken"], _dur, ["length"])},
     "templates": ["start a {activity} workout", "start (a|my) {activity} (session|workout) for {duration}", "track my {activity}",
                   "begin {activity}", "i'm going for a {activity}, track it", "log a {activity} of {duration}"]},
    {"names": ["play_podcast", "podcast", "play_episode"],
     "descs": ["Play a podcast episode"],
     "params": {"show": P("string", ["Podcast name"], _pick(PODCASTS), ["podcast", "name"], True),
                "episode": P("integer", ["Episode number"], _int(1, 300), ["number"])},
     "templates": ["play {show}", "play episode {episode} of {show}", "play the latest {show}", "put on {show} episode {episode}",
                   "i want to listen to {show}", "resume {show}"]},
    {"names": ["play_show", "watch", "play_video", "tv_play"],
     "descs": ["Play a show or movie on the TV", "Start a TV show"],
     "params": {"title": P("string", ["Show or movie"], _pick(SHOWS), ["show", "name"], True),
                "season": P("integer", ["Season"], _int(1, 9, 0.5)), "episode": P("integer", ["Episode"], _int(1, 20, 0.5))},
     "templates": ["play {title}", "put on {title}", "watch {title} season {season} episode {episode}", "i want to watch {title}",
                   "play season {season} of {title}", "start {title} on the tv", "play {title} season {season}"]},
    {"names": ["open_app", "launch_app", "start_app"],
     "descs": ["Open an app", "Launch an application"],
     "params": {"app": P("string", ["App name"], _pick(APPS), ["name", "application"], True)},
     "templates": ["open {app}", "launch {app}", "start {app}", "go to {app}", "bring up {app}", "can you open {app}"]},
    {"names": ["set_do_not_disturb", "do_not_disturb", "dnd", "quiet_mode"],
     "descs": ["Turn do not disturb on or off", "Silence notifications"],
     "params": {"enabled": P("boolean", ["On or off"], _bool(["on", "turn on"], ["off", "turn off"]), ["on", "state"], True),
                "duration": P("string", ["How long, as spoken"], _dur, ["for"])},
     "templates": ["{enabled} do not disturb", "do not disturb {enabled}", "{enabled} do not disturb for {duration}",
                   "silence my notifications for {duration}", "{enabled} quiet mode"]},
    {"names": ["get_stock_price", "stock_quote", "stock_price"],
     "descs": ["Get the current price of a stock", "Stock quote by ticker or company"],
     "params": {"symbol": P("string", ["Ticker or company"], _pick(["apple", "tesla", "aapl", "msft", "google", "amazon",
                                                                    "nvidia", "tsla", "the s&p 500", "bitcoin", "microsoft"]), ["ticker", "company"], True)},
     "templates": ["what's {symbol} trading at", "price of {symbol}", "how is {symbol} doing", "stock price of {symbol}",
                   "check {symbol} stock", "{symbol} share price"]},
    {"names": ["find_recipe", "recipe_search", "get_recipe"],
     "descs": ["Find a recipe", "Search recipes by dish"],
     "params": {"dish": P("string", ["Dish"], _pick(DISHES), ["query", "food"], True),
                "max_minutes": P("integer", ["Maximum cooking time in minutes"], _int(10, 90), ["time_limit"])},
     "templates": ["find a recipe for {dish}", "how do i make {dish}", "recipe for {dish} under {max_minutes} minutes",
                   "show me how to cook {dish}", "i want to make {dish}, find a recipe"]},
    {"names": ["log_water", "track_water", "drink_log"],
     "descs": ["Log water intake in millilitres"],
     "params": {"amount_ml": P("integer", ["Millilitres"], _int(100, 1000, 0.3), ["ml", "amount"], True)},
     "templates": ["log {amount_ml} ml of water", "i drank {amount_ml} milliliters", "add {amount_ml} ml water",
                   "track {amount_ml} ml"]},
    {"names": ["track_package", "package_status", "where_is_my_order"],
     "descs": ["Track a package by tracking number or store"],
     "params": {"tracking": P("string", ["Tracking number or store"], lambda r: (lambda s: (s, s))(
         r.choice(["1z999aa10123456784", "amazon", "the ikea order", "the shoes", "9400 1000 0000 0000", "my ebay order",
                   "order 5531", "the dhl package"])), ["tracking_number", "order"], True)},
     "templates": ["where is {tracking}", "track {tracking}", "when will {tracking} arrive", "status of {tracking}",
                   "has {tracking} shipped"]},
    {"names": ["set_wallpaper", "change_watch_face", "set_watch_face"],
     "descs": ["Change the watch face", "Set the display theme"],
     "params": {"style": P("string", ["Face or theme name"], _pick(["minimal", "analog", "digital", "modular", "photo",
                                                                 "astronomy", "infograph", "chronograph", "dark", "solar"]), ["face", "theme"], True)},
     "templates": ["(change|set|switch) (the|my) watch face to {style}", "use the {style} face", "{style} watch face",
                   "switch to {style} theme"]},
    {"names": ["start_stopwatch", "stopwatch", "stopwatch_start"],
     "descs": ["Start a stopwatch"],
     "params": {"label": P("string", ["Label"], _pick(["run", "lap", "plank", "race", "test", "practice"]), ["name"])},
     "templates": ["start (a|the) stopwatch", "start (a|the) {label} stopwatch", "stopwatch go", "begin timing my {label}"]},
    {"names": ["snooze_alarm", "snooze"],
     "descs": ["Snooze the ringing alarm"],
     "params": {"minutes": P("integer", ["Snooze minutes"], _int(1, 30, 0.5), ["duration"])},
     "templates": ["snooze", "snooze for {minutes} minutes", "snooze the alarm", "give me {minutes} more minutes",
                   "snooze {minutes} minutes"]},
    {"names": ["read_news", "get_news", "news_briefing"],
     "descs": ["Read the news headlines", "News on a topic"],
     "params": {"topic": P("string", ["Topic"], _pick(["sports", "politics", "technology", "business", "science", "local",
                                                       "world", "entertainment", "the election", "football"]), ["category"])},
     "templates": ["what's the news", "read me the {topic} news", "latest {topic} headlines", "what's happening in {topic}",
                   "news about {topic}", "give me the news"]},
    {"names": ["find_phone", "ring_phone", "locate_phone"],
     "descs": ["Make the phone ring to find it"],
     "params": {"device": P("string", ["Which device"], _pick(["phone", "iphone", "tablet", "ipad", "earbuds", "keys", "wallet"]), ["name"])},
     "templates": ["find my {device}", "where is my {device}", "ring my {device}", "i can't find my {device}", "locate my {device}"]},
    {"names": ["set_fan_speed", "fan_speed", "set_fan"],
     "descs": ["Set the speed of a fan", "Fan speed 1-5"],
     "params": {"fan": P("string", ["Which fan"], _pick(["bedroom fan", "ceiling fan", "desk fan", "living room fan", "fan"]), ["target", "device"]),
                "speed": P("integer", ["Speed level"], _int(1, 5, 0.5), ["level"], True)},
     "templates": ["set the {fan} to speed {speed}", "{fan} speed {speed}", "fan speed {speed}", "turn the {fan} to level {speed}",
                   "put the {fan} on {speed}"]},
    {"names": ["start_vacuum", "vacuum_room", "clean_room", "robot_clean"],
     "descs": ["Send the robot vacuum to clean a room"],
     "params": {"room": P("string", ["Room to clean"], _pick(V.ROOMS), ["area", "target"]),
                "mode": P("string", ["Cleaning mode"], _enum({"quiet": ["quietly", "in quiet mode"], "turbo": ["on turbo", "in turbo mode"],
                                                              "standard": ["normally"]}))},
     "templates": ["vacuum the {room}", "clean the {room} {mode}", "send the robot to the {room}", "start vacuuming {mode}",
                   "have the vacuum do the {room}", "vacuum the {room} {mode}"]},
    {"names": ["set_oven", "preheat_oven", "oven_temperature"],
     "descs": ["Preheat the oven", "Set the oven temperature"],
     "params": {"temperature": P("integer", ["Degrees"], _int(150, 450, 0.3), ["degrees", "temp"], True),
                "mode": P("string", ["Oven mode"], _enum({"bake": ["bake", "on bake"], "broil": ["broil"], "convection": ["convection", "fan"]}))},
     "templates": ["preheat the oven to {temperature}", "set the oven to {temperature} degrees", "oven {temperature} {mode}",
                   "{mode} at {temperature}", "preheat to {temperature} degrees on {mode}"]},
    {"names": ["share_location", "send_location"],
     "descs": ["Share my location with a contact"],
     "params": {"contact": P("string", ["Who"], _pick(PEOPLE), ["with", "to"], True),
                "duration": P("string", ["For how long"], _dur, ["for"])},
     "templates": ["share my location with {contact}", "send {contact} my location", "let {contact} see where i am for {duration}",
                   "share my location with {contact} for {duration}"]},
    {"names": ["measure_heart_rate", "check_heart_rate", "heart_rate"],
     "descs": ["Measure the heart rate on the watch"],
     "params": {},
     "templates": ["check my heart rate", "what's my pulse", "measure my heart rate", "how fast is my heart beating"]},
    {"names": ["battery_status", "check_battery", "get_battery"],
     "descs": ["Report the battery level of a device"],
     "params": {"device": P("string", ["Which device"], _pick(["watch", "glasses", "phone", "hub", "earbuds"]), ["target"])},
     "templates": ["how much battery is left on my {device}", "battery level of the {device}", "check the {device} battery",
                   "is my {device} charged", "what's my battery at"]},
    {"names": ["take_photo", "capture_photo", "camera_shoot"],
     "descs": ["Take a photo with the glasses camera"],
     "params": {"count": P("integer", ["Number of photos"], _int(1, 10, 0.6), ["number"]),
                "timer_seconds": P("integer", ["Self timer in seconds"], _int(2, 10, 0.6), ["delay"])},
     "templates": ["take a (photo|picture)", "take {count} photos", "snap a picture", "take a picture in {timer_seconds} seconds",
                   "take {count} pictures with a {timer_seconds} second delay"]},
    {"names": ["record_video", "start_recording", "video_record"],
     "descs": ["Record a video"],
     "params": {"duration": P("string", ["Length, as spoken"], _dur, ["length"])},
     "templates": ["record a video", "start recording", "record {duration} of video", "film this for {duration}",
                   "record a {duration} video"]},
    {"names": ["set_brightness_screen", "screen_brightness", "display_brightness"],
     "descs": ["Set the display brightness of the watch or glasses"],
     "params": {"level": P("integer", ["Percent"], _int(0, 100), ["brightness", "percent"], True)},
     "templates": ["screen brightness {level}", "set the display to {level} percent", "make my screen {level} percent bright",
                   "display brightness to {level}"]},
    {"names": ["pay_bill", "make_payment", "send_money", "transfer_money"],
     "descs": ["Send money to a contact", "Pay someone"],
     "params": {"recipient": P("string", ["Who"], _pick(PEOPLE), ["to", "payee"], True),
                "amount": P("number", ["Amount"], _num(1, 300), ["value", "sum"], True)},
     "templates": ["send {recipient} {amount} dollars", "pay {recipient} {amount}", "transfer {amount} to {recipient}",
                   "give {recipient} {amount} bucks", "venmo {recipient} {amount}"]},
    {"names": ["rate_limit_check", "check_traffic", "traffic_report"],
     "descs": ["Report traffic on a route or road"],
     "params": {"road": P("string", ["Road or route"], _pick(["i-95", "the highway", "the bridge", "the m25", "route 66",
                                                            "my commute", "the 101", "main street", "the tunnel"]), ["route"])},
     "templates": ["how's the traffic on {road}", "is there traffic on {road}", "traffic report for {road}", "any jams on {road}",
                   "what's traffic like"]},
    {"names": ["set_language", "change_language"],
     "descs": ["Change the assistant's language"],
     "params": {"language": P("string", ["Language"], _pick(LANGUAGES), ["lang"], True)},
     "templates": ["switch to {language}", "change the language to {language}", "speak {language}", "use {language} from now on"]},
    {"names": ["roll_dice", "dice", "random_number"],
     "descs": ["Roll dice", "Pick a random number"],
     "params": {"sides": P("integer", ["Number of sides"], _int(2, 20, 0.5), ["max"]),
                "count": P("integer", ["How many dice"], _int(1, 5, 0.7), ["dice"])},
     "templates": ["roll a die", "roll {count} dice", "roll a {sides} sided die", "pick a number up to {sides}", "roll {count} d{sides}"]},
]


# --------------------------------------------------------------------------- fully random tools

_RVERBS = ["update", "create", "delete", "fetch", "sync", "archive", "assign", "approve", "export", "import",
           "rename", "publish", "schedule", "register", "reset", "query", "compute", "scan", "tag", "flag",
           "submit", "dispatch", "calibrate", "toggle", "boost", "mute", "restore", "label", "pin", "rate"]
_RNOUNS = ["invoice", "ticket", "record", "profile", "widget", "shipment", "campaign", "sensor", "report",
           "playlist", "account", "order", "zone", "device", "project", "task", "lead", "asset", "room",
           "badge", "contract", "sprinkler", "garden_bed", "aquarium", "pet_feeder", "printer_job", "camera",
           "greenhouse", "pool", "drone", "bike_lock", "plant", "beacon", "doorbell", "garage_light", "feeder"]
_RPARAMS = [
    ("status", "string", lambda r: r.choice(["paid", "pending", "closed", "open", "shipped", "active", "done"])),
    ("priority", "string", lambda r: r.choice(["high", "low", "medium", "urgent", "normal"])),
    ("owner", "string", lambda r: r.choice(PEOPLE)),
    ("label", "string", lambda r: r.choice(["blue", "alpha", "spring sale", "kitchen", "weekly", "north wing", "backup"])),
    ("title", "string", lambda r: r.choice(TITLES)),
    ("city", "string", lambda r: r.choice(V.CITIES)),
    ("color", "string", lambda r: r.choice(V.COLOURS[:30])),
    ("note", "string", lambda r: r.choice(MESSAGES)),
    ("zone", "string", lambda r: r.choice(V.ROOMS)),
    ("amount", "number", None), ("count", "integer", None), ("level", "integer", None), ("minutes", "integer", None),
    ("percent", "integer", None), ("quantity", "integer", None), ("price", "number", None), ("id", "integer", None),
    ("enabled", "boolean", None), ("notify", "boolean", None), ("urgent", "boolean", None),
    ("mode", "enum", ["auto", "manual", "eco", "boost", "silent", "night"]),
    ("size", "enum", ["small", "medium", "large"]), ("speed", "enum", ["slow", "normal", "fast"]),
    ("direction", "enum", ["up", "down", "left", "right"]), ("format", "enum", ["pdf", "csv", "json"]),
]


def _rand_name(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.8:
        return rng.choice(_RVERBS) + "_" + rng.choice(_RNOUNS)
    if r < 0.9:
        return rng.choice(_RNOUNS) + "_" + rng.choice(_RVERBS)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(4, 9)))


def random_tool(rng: random.Random):
    """A fully random tool: (declaration, generator of (utterance, arguments))."""
    name = _rand_name(rng)
    verb, noun = (name.split("_", 1) + ["item"])[:2]
    noun_h = noun.replace("_", " ")
    k = rng.choice([0, 1, 1, 2, 2, 2, 3, 3, 4])
    specs = rng.sample(_RPARAMS, k)
    props, required = {}, []
    for pname, ptype, extra in specs:
        if ptype == "enum":
            props[pname] = {"type": "string", "enum": list(extra), "description": "The " + pname}
        else:
            props[pname] = {"type": ptype, "description": rng.choice(["The " + pname, pname.capitalize() + " of the " + noun_h,
                                                                      "New " + pname, pname.capitalize()])}
        if rng.random() < 0.5:
            required.append(pname)
    desc = rng.choice(["%s a %s", "%s the %s", "%ss a %s", "%s %s entries"]) % (verb.capitalize(), noun_h)
    decl = {"name": name, "description": desc,
            "parameters": {"type": "object", "properties": props, "required": required}}

    def utter(rng2: random.Random):
        args = {}
        parts = []
        for pname, ptype, extra in specs:
            if pname not in required and rng2.random() < 0.4:
                continue
            if ptype == "string":
                v = extra(rng2)
                surface = v
                args[pname] = v
            elif ptype == "enum":
                v = rng2.choice(extra)
                surface = v
                args[pname] = v
            elif ptype == "boolean":
                b = rng2.random() < 0.6
                args[pname] = b
                parts.append(rng2.choice([("with %s" if b else "without %s") % pname.replace("_", " "),
                                          "%s %s" % (pname, "on" if b else "off"), "%s %s" % (pname, "yes" if b else "no"),
                                          "%s %s" % (pname, "true" if b else "false")]))
                continue
            else:
                n = rng2.randint(1, 100) if ptype == "integer" else rng2.choice([rng2.randint(1, 500), round(rng2.uniform(0, 100), 2)])
                if isinstance(n, float) and n == int(n):
                    n = int(n)
                surface = spoken.number(rng2, n, 0.3) if isinstance(n, int) else str(n)
                args[pname] = n
            ph = pname.replace("_", " ")
            parts.append(rng2.choice(["%s %s", "%s %s", "with %s %s", "%s set to %s", "%s: %s", "%s = %s"]) % (ph, surface)
                         if rng2.random() < 0.85 else "set the %s to %s" % (ph, surface))
        joiner = rng2.choice([" and ", ", ", " "])
        head = rng2.choice(["%s the %s", "%s a %s", "please %s the %s", "can you %s the %s", "%s %s", "i want to %s the %s"]) % (verb, noun_h)
        text = head + ((" " + rng2.choice(["with ", "", ""]) + joiner.join(parts)) if parts else "")
        text = text.replace("with with", "with")
        return text, args

    return decl, utter
