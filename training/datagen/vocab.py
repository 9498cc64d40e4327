"""Vocabularies for argument values and wrappers, written for this generator from general knowledge."""
from __future__ import annotations

import random

# --------------------------------------------------------------------------- smart home

ROOMS = [
    "kitchen", "living room", "bedroom", "master bedroom", "guest room", "guest bedroom", "bathroom",
    "downstairs bathroom", "upstairs bathroom", "hallway", "hall", "office", "home office", "study",
    "dining room", "garage", "basement", "attic", "porch", "front porch", "back porch", "patio", "garden",
    "backyard", "front yard", "kids room", "kids' room", "nursery", "playroom", "laundry room",
    "utility room", "den", "family room", "lounge", "sunroom", "conservatory", "library", "pantry",
    "entryway", "foyer", "staircase", "stairs", "landing", "loft", "workshop", "gym", "media room",
    "game room", "cinema room", "closet", "walk-in closet", "balcony", "terrace", "deck", "shed",
    "emma's room", "jack's room", "the boys' room", "sophie's bedroom", "upstairs", "downstairs",
    "first floor", "second floor", "ground floor", "main floor", "back room", "spare room", "mudroom",
    "breakfast nook", "wine cellar", "sauna", "pool house", "driveway", "side yard",
]

LIGHT_DEVICES = [
    "lights", "light", "lamp", "ceiling light", "ceiling lights", "floor lamp", "desk lamp", "table lamp",
    "bedside lamp", "reading lamp", "night light", "chandelier", "pendant lights", "spotlights",
    "downlights", "strip lights", "led strip", "light strip", "fairy lights", "string lights",
    "christmas lights", "christmas tree", "porch light", "porch lights", "outdoor lights", "garden lights",
    "path lights", "flood light", "floodlight", "security light", "wall lights", "sconces", "under cabinet lights",
    "vanity light", "mirror light", "accent lights", "hue lights", "bulb", "smart bulb", "lava lamp",
    "island lights", "track lighting", "recessed lights", "overhead light", "big light", "main light",
]

OTHER_DEVICES = [
    "wemo", "wemo plug", "wemo switch", "sonos", "echo", "nest", "philips hue", "kasa plug", "tv plug",
    "lamp plug", "heater plug", "switch", "light switch", "power socket", "wall socket", "mains",
    "fan", "ceiling fan", "desk fan", "tower fan", "air purifier", "purifier", "humidifier", "dehumidifier",
    "heater", "space heater", "radiator", "air conditioner", "ac", "a/c", "air con", "aircon", "tv",
    "television", "telly", "smart tv", "projector", "sound bar", "soundbar", "speaker", "speakers",
    "stereo", "radio", "coffee maker", "coffee machine", "espresso machine", "kettle", "electric kettle",
    "toaster", "oven", "microwave", "dishwasher", "washing machine", "washer", "dryer", "tumble dryer",
    "robot vacuum", "vacuum", "roomba", "mop", "sprinklers", "sprinkler", "irrigation", "pool pump",
    "hot tub", "jacuzzi", "electric blanket", "heated blanket", "towel warmer", "towel rail", "fireplace",
    "fire", "boiler", "water heater", "hot water", "extractor fan", "exhaust fan", "range hood",
    "printer", "computer", "pc", "monitor", "game console", "xbox", "playstation", "router",
    "smart plug", "plug", "outlet", "socket", "power strip", "charger", "fountain", "aquarium light",
    "fish tank", "fish tank pump", "ev charger", "car charger", "dehumidifier in the basement",
    "white noise machine", "diffuser", "oil diffuser", "baby monitor", "camera", "security camera",
    "cameras", "alarm system", "doorbell camera", "heated floor", "floor heating", "towel heater",
    "slow cooker", "rice cooker", "air fryer", "instant pot", "bread maker", "grill", "patio heater",
    "mosquito lamp", "bug zapper", "christmas decorations", "hallway sensor", "motion sensor",
]

NAMED_DEVICE_OWNERS = ["emma's", "jack's", "mom's", "dad's", "grandma's", "kids'", "sam's", "olivia's"]

COVERS = [
    "blinds", "curtains", "shades", "shutters", "roller blinds", "roller shades", "venetian blinds",
    "drapes", "window blinds", "window shades", "garage door", "garage", "gate", "front gate",
    "driveway gate", "side gate", "garden gate", "awning", "patio awning", "skylight", "skylight blind",
    "roof window", "window", "windows", "sunshade", "sun shade", "pergola", "pergola roof", "shade",
    "blackout blinds", "blackout curtains", "roman blinds", "vertical blinds", "sheer curtains",
    "storm shutters", "rolling shutter", "roller shutter", "canopy", "cat flap", "dog door", "hatch",
    "pool cover", "barn door", "carport door", "garage doors", "velux", "louvers",
]

LOCKS = [
    "front door", "back door", "side door", "garage door", "patio door", "main door", "door",
    "kitchen door", "basement door", "cellar door", "shed", "shed door", "gate", "front gate", "back gate",
    "deadbolt", "smart lock", "the lock", "porch door", "sliding door", "french doors", "balcony door",
    "office door", "study door", "bedroom door", "safe", "gun safe", "mailbox", "letterbox", "car",
    "the car", "apartment door", "entrance", "main entrance", "storage room", "garden door", "laundry door",
    "all the doors", "every door", "the doors", "front and back doors", "pool gate", "bike shed",
]

SCENES = [
    "movie night", "movie time", "movie", "cinema", "dinner", "dinner party", "romantic", "romance",
    "relax", "relaxing", "chill", "cozy", "cosy", "reading", "read", "focus", "work", "working",
    "concentrate", "energize", "bright", "dimmed", "nightlight", "night", "good night", "goodnight",
    "good morning", "morning", "wake up", "sunrise", "sunset", "evening", "bedtime", "sleep", "nap",
    "party", "disco", "gaming", "game night", "tv time", "tv", "away", "vacation", "holiday", "home",
    "welcome home", "arrive home", "leaving", "leave home", "all off", "everything off", "lights out",
    "christmas", "halloween", "spooky", "candlelight", "fireplace", "spa", "bath time", "yoga",
    "meditation", "workout", "dinner time", "breakfast", "cooking", "clean up", "cleaning", "kids bedtime",
    "story time", "date night", "study time", "homework", "late night", "midnight snack", "guest mode",
    "entertaining", "summer evening", "tropical twilight", "arctic aurora", "savanna sunset", "spring blossom",
    "concentration", "energy boost", "wind down", "quiet time", "music", "karaoke", "barbecue", "bbq",
    "welcome", "security", "alert", "panic", "storm", "rainy day", "sunday morning", "lazy sunday",
]

COLOURS = [
    "red", "blue", "green", "yellow", "orange", "purple", "pink", "white", "warm white", "cool white",
    "daylight", "soft white", "bright white", "cyan", "magenta", "teal", "turquoise", "violet", "lavender",
    "lilac", "indigo", "gold", "amber", "crimson", "scarlet", "maroon", "navy", "navy blue", "sky blue",
    "light blue", "dark blue", "baby blue", "royal blue", "lime", "lime green", "dark green", "forest green",
    "mint", "mint green", "sea green", "olive", "peach", "coral", "salmon", "rose", "hot pink", "light pink",
    "fuchsia", "beige", "cream", "ivory", "warm", "cool", "candlelight", "sunset orange", "deep red",
    "blood red", "cherry red", "lemon yellow", "sunflower", "aqua", "powder blue", "periwinkle", "plum",
    "burgundy", "tangerine", "apricot", "chartreuse", "emerald", "jade", "sapphire", "ruby", "neon green",
    "electric blue", "pastel pink", "pastel blue", "soft pink", "warm yellow", "relax", "natural light",
    "2700 kelvin", "4000k", "6500 k", "christmas colors", "rainbow", "#ff0000", "rgb 255 0 0",
]

# --------------------------------------------------------------------------- timers / reminders

TIMER_NAMES = [
    "pasta", "egg", "eggs", "rice", "pizza", "oven", "cake", "bread", "cookies", "tea", "coffee",
    "laundry", "washing", "dryer", "workout", "plank", "stretching", "meditation", "nap", "study",
    "homework", "reading", "pomodoro", "break", "focus", "parking", "parking meter", "meter", "roast",
    "turkey", "chicken", "steak", "potatoes", "soup", "sauce", "brownies", "muffins", "popcorn", "noodles",
    "boiled eggs", "soft boiled egg", "tea steeping", "kettle", "bath", "shower", "screen time", "game time",
    "tv", "timeout", "time out", "piano practice", "practice", "dishwasher", "charging", "phone", "medicine",
    "dough", "proofing", "marinade", "slow cooker", "grill", "barbecue", "burgers", "fries", "vegetables",
    "broccoli", "salmon", "fish", "lasagna", "casserole", "pie", "hair dye", "face mask", "teeth", "sauna",
    "interval", "run", "rest", "cooldown", "kids", "bedtime", "quiz", "presentation", "call", "meeting",
    "first", "second", "kitchen", "baby bottle", "sourdough", "garlic bread", "hard boiled eggs", "cupcakes",
]

REMINDER_VERBS = [
    "call", "text", "email", "message", "ring", "phone", "buy", "pick up", "get", "grab", "order", "book",
    "schedule", "cancel", "pay", "renew", "return", "send", "take", "feed", "walk", "water", "clean",
    "wash", "do", "finish", "start", "check", "look at", "review", "submit", "print", "sign", "bring",
    "pack", "charge", "move", "put out", "take out", "drop off", "collect", "prepare", "make", "cook",
    "bake", "defrost", "thaw", "fix", "change", "replace", "update", "backup", "back up", "practice",
    "study for", "read", "watch", "listen to", "visit", "meet", "see", "congratulate", "wish", "thank",
    "invite", "confirm", "reply to", "answer", "follow up with", "tell", "ask", "remind", "help", "vacuum",
    "mow", "tidy", "iron", "fold", "hang up", "empty", "fill", "refill", "top up", "lock", "unplug",
    "turn off", "close", "open", "stretch", "meditate", "go to", "leave for", "head to", "drive to",
    "register for", "apply for", "file", "write", "post", "mail", "ship", "wrap", "donate", "sell",
]

REMINDER_OBJECTS = {
    "people": ["mom", "dad", "my mother", "my dad", "grandma", "grandpa", "my sister", "my brother", "the kids",
               "john", "sarah", "mike", "the boss", "my boss", "the dentist", "the doctor", "the vet",
               "the plumber", "the landlord", "aunt linda", "uncle bob", "emily", "david", "my wife", "my husband",
               "the babysitter", "the school", "the bank", "the insurance company", "jessica", "tom", "alex",
               "the electrician", "the office", "my manager", "priya", "carlos", "mr. thompson", "dr. patel"],
    "things": ["milk", "bread", "eggs", "the groceries", "dog food", "cat food", "diapers", "batteries",
               "the dry cleaning", "the package", "the parcel", "a birthday card", "flowers", "a present",
               "the prescription", "my medicine", "my pills", "my vitamins", "the tickets", "concert tickets",
               "the rent", "the electricity bill", "the phone bill", "the credit card bill", "the car",
               "the trash", "the garbage", "the recycling", "the bins", "the dishes", "the laundry",
               "the plants", "the garden", "the lawn", "the dog", "the cat", "the fish", "the baby",
               "my homework", "the report", "the presentation", "the slides", "the contract", "the forms",
               "my tax return", "the invoice", "my passport", "the library books", "the oven", "the chicken",
               "the roast", "the car registration", "my phone", "the laptop", "the camera", "my keys",
               "the thermostat", "the windows", "the back door", "the stove", "a table for two",
               "the oil change", "a haircut", "a dentist appointment", "the flight", "a taxi", "an uber",
               "the meeting notes", "the budget", "my emails", "the newsletter", "the dishwasher",
               "the smoke detector battery", "the filter", "the sheets", "the towels", "the car seat",
               "the lunch boxes", "the school forms", "the permission slip", "the gym bag", "my umbrella"],
}

REMINDER_FREE = [
    "the meeting", "the dentist appointment", "my doctor's appointment", "the team call", "the game",
    "the parent teacher conference", "mom's birthday", "our anniversary", "the deadline", "the webinar",
    "the interview", "trash day", "recycling day", "the farmers market", "yoga class", "the bus",
    "the school pickup", "soccer practice", "the concert", "the party", "the flight", "check in for my flight",
    "the sale", "the quarterly review", "the conference call", "lunch with sarah", "dinner with the neighbors",
    "book club", "choir practice", "the vet appointment", "the car service", "my haircut", "the delivery",
    "the package arriving", "the free trial ending", "the library books being due", "the parking permit",
]

REMINDER_THAT = [
    "the plumber is coming", "the package arrives", "the store closes early", "the rent is due",
    "my car is in the shop", "the kids have a half day", "the meeting moved", "i have a call with the bank",
    "grandma is visiting", "the game starts", "i left the laundry in the washer", "the oven is on",
    "the parking expires", "the trial ends", "my flight leaves", "the tickets go on sale",
    "the cleaner is coming", "it's trash day", "the library books are due", "the report is due",
]

# --------------------------------------------------------------------------- navigation

PLACES_GENERIC = [
    "home", "work", "the office", "my office", "school", "the school", "the kids' school", "the gym",
    "the airport", "the train station", "the station", "the bus station", "the bus stop", "the subway",
    "the hospital", "the nearest hospital", "the closest pharmacy", "a pharmacy", "the pharmacy",
    "the nearest gas station", "a gas station", "the petrol station", "the supermarket", "the grocery store",
    "the mall", "the shopping center", "downtown", "the city center", "city centre", "the beach", "the park",
    "the library", "the post office", "the bank", "an atm", "the nearest atm", "the museum", "the zoo",
    "the stadium", "the cinema", "the movie theater", "the theatre", "the church", "the mosque",
    "the temple", "the synagogue", "the university", "campus", "the college", "the dentist", "the doctor's",
    "the vet", "the police station", "the fire station", "city hall", "the town hall", "the courthouse",
    "the dmv", "the harbor", "the marina", "the ferry terminal", "the port", "the pier", "the lake",
    "the mountains", "the trailhead", "the campsite", "the hotel", "my hotel", "the airbnb", "the conference center",
    "the convention center", "the parking garage", "the car park", "the nearest parking", "a parking spot",
    "the charging station", "the nearest ev charger", "the car wash", "the hardware store", "the bakery",
    "the butcher", "the farmers market", "the market", "the food court", "a coffee shop", "the nearest cafe",
    "a restaurant", "the nearest mcdonald's", "a pizza place", "the sushi place", "the pub", "the bar",
    "mom's house", "my mom's place", "dad's house", "grandma's house", "my sister's place", "my brother's",
    "john's house", "sarah's apartment", "my friend's house", "the neighbors", "the daycare", "the kindergarten",
    "the high school", "the swimming pool", "the pool", "the tennis club", "the golf course", "the ski resort",
    "the clinic", "the emergency room", "urgent care", "the veterinary clinic", "the embassy",
    "terminal 2", "gate b12", "platform 4", "the north entrance", "the main entrance", "the exit",
]

BRANDS = [
    "starbucks", "walmart", "target", "costco", "ikea", "home depot", "lowe's", "best buy", "whole foods",
    "trader joe's", "kroger", "safeway", "aldi", "lidl", "tesco", "sainsbury's", "waitrose", "mcdonald's",
    "burger king", "subway", "chipotle", "taco bell", "kfc", "wendy's", "dunkin", "tim hortons",
    "pizza hut", "domino's", "panera", "chick-fil-a", "in-n-out", "shake shack", "cvs", "walgreens",
    "boots", "shell", "bp", "chevron", "exxon", "7-eleven", "apple store", "the apple store",
    "barnes and noble", "planet fitness", "ups store", "fedex", "the ups store", "h&m", "zara", "primark",
    "macy's", "nordstrom", "marks and spencer", "tractor supply", "petsmart", "petco", "staples",
]

STREET_NAMES = [
    "main", "oak", "maple", "pine", "cedar", "elm", "washington", "lake", "hill", "park", "high", "church",
    "market", "baker", "king", "queen", "victoria", "station", "mill", "river", "sunset", "broadway",
    "lincoln", "jefferson", "madison", "franklin", "jackson", "chestnut", "walnut", "willow", "birch",
    "spring", "forest", "meadow", "cherry", "valley", "highland", "center", "union", "college", "bridge",
    "harbor", "ocean", "bay", "north", "south", "east", "west", "first", "second", "third", "fifth",
    "seventh", "42nd", "5th", "3rd", "1st", "mission", "castro", "abbey", "oxford", "cambridge", "kings",
]
STREET_TYPES = ["street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "drive",
                "way", "place", "court", "terrace", "crescent", "close", "parkway", "highway"]

CITIES = [
    "boston", "new york", "chicago", "seattle", "san francisco", "los angeles", "austin", "denver", "miami",
    "portland", "atlanta", "dallas", "houston", "phoenix", "philadelphia", "washington", "toronto",
    "vancouver", "montreal", "london", "manchester", "edinburgh", "dublin", "paris", "berlin", "munich",
    "amsterdam", "brussels", "madrid", "barcelona", "rome", "milan", "vienna", "zurich", "geneva",
    "copenhagen", "stockholm", "oslo", "helsinki", "prague", "warsaw", "lisbon", "sydney", "melbourne",
    "auckland", "tokyo", "osaka", "seoul", "singapore", "mumbai", "delhi", "bangalore", "dubai",
    "cape town", "nairobi", "mexico city", "sao paulo", "buenos aires", "san diego", "sacramento",
    "brooklyn", "queens", "oakland", "palo alto", "cambridge", "oxford", "bristol", "leeds", "glasgow",
    "the bronx", "jersey city", "newark", "santa monica", "pasadena", "berkeley", "salt lake city",
]

LANDMARKS = [
    "central park", "golden gate park", "the golden gate bridge", "times square", "the eiffel tower",
    "the louvre", "big ben", "hyde park", "the space needle", "pike place market", "union station",
    "grand central", "penn station", "king's cross", "heathrow", "jfk", "lax", "o'hare", "sfo",
    "the statue of liberty", "fisherman's wharf", "navy pier", "millennium park", "the national mall",
    "yellowstone", "yosemite", "lake tahoe", "niagara falls", "the grand canyon", "disneyland",
    "universal studios", "madison square garden", "wembley stadium", "fenway park", "wrigley field",
    "the white house", "the smithsonian", "the met", "moma", "the british museum", "the science museum",
    "stanford", "harvard", "mit", "ucla", "st. mary's hospital", "mercy hospital", "general hospital",
    "riverside park", "memorial park", "lincoln center", "the convention center downtown", "city park",
    "willow creek trail", "eagle rock", "bear mountain", "silver lake", "crystal lake", "pine valley mall",
    "westfield mall", "the outlet mall", "oak street beach", "venice beach", "santa monica pier",
]


def street_address(rng: random.Random) -> str:
    num = rng.choice([str(rng.randint(1, 99)), str(rng.randint(100, 999)), str(rng.randint(1000, 9999)),
                      str(rng.randint(1, 300)) + rng.choice(["a", "b"])])
    name = rng.choice(STREET_NAMES)
    st = rng.choice(STREET_TYPES)
    s = "%s %s %s" % (num, name, st)
    if rng.random() < 0.15:
        s += " " + rng.choice(["apartment 4", "apt 2b", "unit 5", "suite 300", "flat 3"])
    if rng.random() < 0.15:
        s += rng.choice([" in ", ", "]) + rng.choice(CITIES)
    return s


def place(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.42:
        return rng.choice(PLACES_GENERIC)
    if r < 0.57:
        b = rng.choice(BRANDS)
        return rng.choice([b, "the " + b, "the nearest " + b, "the closest " + b, b + " on " +
                           rng.choice(STREET_NAMES) + " " + rng.choice(["street", "avenue", "road"]),
                           "a " + b])
    if r < 0.72:
        return street_address(rng)
    if r < 0.85:
        return rng.choice(CITIES)
    return rng.choice(LANDMARKS)


MODES = {
    "driving": ["by car", "driving", "in the car", "drive", "by driving"],
    "walking": ["on foot", "walking", "by foot", "walk"],
    "cycling": ["by bike", "by bicycle", "cycling", "on my bike", "on the bike", "bike", "by cycling"],
    "transit": ["by bus", "by train", "by subway", "on public transport", "by public transit", "by transit",
                "on the bus", "on the train", "by metro", "by tram", "with public transportation", "on the subway"],
}

# --------------------------------------------------------------------------- wrappers

WAKE = ["hey needle", "needle", "ok needle", "okay needle", "hi needle", "hey", "yo", "hey assistant",
        "assistant", "computer", "hey computer", "alexa", "hey google", "ok google", "siri", "hey siri", "olly",
        "jarvis", "hey jarvis", "mycroft", "hey mycroft", "hey watch", "glasses"]
FILLERS = ["um", "uh", "umm", "er", "hmm", "so", "okay", "ok", "alright", "right", "well", "oh", "erm", "uhh",
           "okay so", "um so", "actually", "oh and", "quick one", "yeah", "listen"]
POLITE_PRE = ["please", "could you", "can you", "would you", "could you please", "can you please",
              "would you please", "will you", "i need you to", "i want you to", "i'd like you to",
              "go ahead and", "i'd like to", "please can you", "would you mind if you", "do me a favor and",
              "be a dear and", "kindly", "just", "quickly", "real quick", "can u", "pls", "plz"]
POLITE_POST = ["please", "thanks", "thank you", "for me", "for me please", "now", "right now", "asap",
               "if you can", "if you don't mind", "would you", "ok", "okay", "thx", "cheers", "quickly",
               "real quick", "now please", "when you get a chance"]
