"""Utterance generators for the 18 built-in tools.

Each tool has templates (see template.py) whose `{slot}`s map to an argument and a value generator. A
generator returns (surface, value): the surface goes into the utterance; the value is the argument
(a span of the surface for strings, a number for numeric arguments). Optional arguments appear only
when the template mentions them.
"""
from __future__ import annotations

import random
from typing import Callable

from . import novel as N, spoken, vocab as V

Gen = Callable[[random.Random], tuple[str, object]]

# --------------------------------------------------------------------------- value generators


def _same(f: Callable[[random.Random], str]) -> Gen:
    def g(rng: random.Random) -> tuple[str, object]:
        s = f(rng)
        return s, s
    return g


def g_duration(rng):
    s = spoken.duration(rng)
    return s, s


def g_timer_name(rng):
    s = rng.choice(V.TIMER_NAMES)
    return s, s


def g_clock(rng):
    s = spoken.clock_time(rng)
    return s, s


def g_day(rng):
    s = spoken.day(rng)
    return s, s


ALARM_NAMES = ["work", "gym", "school", "medication", "pills", "flight", "morning run", "wake up", "meeting",
               "nap", "feeding", "church", "yoga", "bus", "training", "swim", "early shift", "night shift",
               "dog walk", "study", "jog", "prayer", "baby", "commute", "class", "practice", "airport"]


def g_alarm_name(rng):
    s = rng.choice(ALARM_NAMES)
    return s, s


def _task_phrase(rng: random.Random) -> str:
    r = rng.random()
    people = V.REMINDER_OBJECTS["people"]
    things = V.REMINDER_OBJECTS["things"]
    if r < 0.22:
        return rng.choice(["call", "text", "email", "message", "ring", "phone", "call back", "check on",
                           "visit", "meet", "pick up", "drop off", "thank", "congratulate", "reply to",
                           "follow up with", "wish happy birthday to", "invite", "pay back"]) + " " + rng.choice(people)
    if r < 0.40:
        return rng.choice(["buy", "pick up", "get", "grab", "order", "return", "bring", "pack", "charge",
                           "take", "renew", "pay", "send", "print", "sign", "find", "drop off", "collect",
                           "clean", "check", "wash", "take out", "put out", "water", "feed", "walk",
                           "defrost", "fix", "replace", "change", "book", "cancel", "mail"]) + " " + rng.choice(things)
    if r < 0.85:
        return rng.choice(_TASKS)
    return rng.choice(["go to", "leave for", "head to", "drive to", "get to", "stop by"]) + " " + rng.choice(
        ["the gym", "work", "the airport", "the bank", "the post office", "school", "the store", "practice",
         "the meeting", "the station", "church", "the pharmacy", "the doctor", "the dentist", "class"])


_TASKS = [
    "take my medication", "take my pills", "take the chicken out of the freezer", "turn off the oven",
    "check the oven", "stretch", "drink water", "drink some water", "stand up", "take a break",
    "go to bed", "go to sleep", "wake up the kids", "start dinner", "start cooking", "put the kettle on",
    "move the car", "move the laundry to the dryer", "switch the laundry", "hang up the laundry",
    "take the bins out", "put the bins out", "take out the trash", "do the dishes", "unload the dishwasher",
    "water the plants", "water the tomatoes", "feed the cat", "feed the dog", "walk the dog",
    "give the dog his medicine", "clean the litter box", "vacuum the living room", "mow the lawn",
    "pay rent", "pay the bills", "pay the electricity bill", "submit my timesheet", "submit the report",
    "send the invoice", "finish my essay", "study for the exam", "practice piano", "do my homework",
    "call the doctor's office", "book a dentist appointment", "schedule a haircut", "renew my passport",
    "check my email", "reply to sarah's email", "back up my laptop", "charge my phone", "charge the car",
    "check the mail", "pick up the kids from school", "pick up the dry cleaning", "get gas",
    "fill up the tank", "buy milk on the way home", "buy a birthday present for emma", "order more coffee",
    "cancel my gym membership", "return the library books", "return the rental car", "check in for my flight",
    "leave for the airport", "pack my gym bag", "bring my umbrella", "lock the back door", "close the windows",
    "turn the heating down", "put sunscreen on", "take a photo of the receipt", "log my workout",
    "meditate", "go for a run", "do my exercises", "write in my journal", "read a chapter", "call my mom back",
    "wish dad a happy birthday", "send mom flowers", "update my resume", "apply for the job",
    "register for the marathon", "watch the game", "record the show", "check the score",
    "clean the fridge", "defrost the freezer", "change the sheets", "replace the air filter",
    "test the smoke alarm", "get the car serviced", "rotate the tires", "pick up my prescription",
    "refill my prescription", "feed the fish", "bring in the packages", "sign the permission slip",
    "book the restaurant", "confirm the reservation", "buy tickets for the concert", "print the boarding pass",
    "take the cake out", "flip the steak", "check on the roast", "stir the soup", "turn the sprinklers off",
    "put the leftovers in the fridge", "set out the clothes for tomorrow", "prepare for the meeting",
    "join the zoom call", "join the standup", "call into the meeting", "send the slides to the team",
    "file my taxes", "cancel the free trial", "unsubscribe from the newsletter", "clear my inbox",
    "get off the bus", "switch trains", "leave work early", "get some sleep", "take a nap", "eat lunch",
    "have a snack", "check the baby", "change the baby's diaper", "give the baby a bottle", "pump",
]


def g_task(rng):
    s = _task_phrase(rng)
    return s, s


def g_about(rng):
    s = rng.choice(V.REMINDER_FREE)
    return s, s


def g_that(rng):
    s = rng.choice(V.REMINDER_THAT)
    return s, s


def g_rel(rng):
    s = spoken.relative_time(rng)
    return s, s


def g_when(rng):
    s = spoken.reminder_when(rng)
    return s, s


def g_place(rng):
    s = V.place(rng)
    return s, s


def _mode_gen(mode: str) -> Gen:
    def g(rng):
        return rng.choice(V.MODES[mode]), mode
    g.enum = ["driving", "walking", "cycling", "transit"]  # type: ignore[attr-defined]  (a value, never a span)
    return g


def g_device(rng):
    r = rng.random()
    if r < 0.55:
        return _target_light(rng)
    return _target_other(rng)


def _target_light(rng):
    dev = rng.choice(V.LIGHT_DEVICES)
    r = rng.random()
    if r < 0.42:
        s = rng.choice(V.ROOMS) + " " + dev
    elif r < 0.56:
        s = dev + rng.choice([" in the ", " in the ", " in ", " on the "]) + rng.choice(V.ROOMS)
    elif r < 0.62:
        s = rng.choice(V.NAMED_DEVICE_OWNERS) + " " + dev
    elif r < 0.70:
        s = rng.choice(["all the lights", "all lights", "all the lamps", "every light", "the lights everywhere",
                        "all the lights downstairs", "all the lights upstairs", "outside lights"])
    else:
        s = dev
    return s, s


def _target_other(rng):
    dev = rng.choice(V.OTHER_DEVICES)
    r = rng.random()
    if r < 0.3:
        s = rng.choice(V.ROOMS) + " " + dev
    elif r < 0.38:
        s = dev + " in the " + rng.choice(V.ROOMS)
    else:
        s = dev
    return s, s


def g_room(rng):
    s = rng.choice(V.ROOMS)
    return s, s


def g_everything(rng):
    s = rng.choice(["everything", "everything", "all the lights", "all the devices", "all the lamps"]) + " in the " + rng.choice(V.ROOMS)
    return s, s


def g_light_target(rng):
    if rng.random() < 0.3:
        return g_room(rng)
    return _target_light(rng)


def g_pct(rng):
    return spoken.percent(rng)


def g_colour(rng):
    s = rng.choice(V.COLOURS)
    return s, s


def g_temp(rng):
    return spoken.temperature(rng)


THERMOSTATS = ["thermostat", "heating", "heat", "heater", "ac", "air conditioning", "air conditioner",
               "a/c", "upstairs thermostat", "downstairs thermostat", "nest", "climate", "hvac", "radiator",
               "bedroom thermostat", "office heater", "floor heating", "hallway thermostat", "main thermostat",
               "temperature", "boiler"]


def g_thermostat(rng):
    s = rng.choice(THERMOSTATS)
    return s, s


def g_lock(rng):
    s = rng.choice(V.LOCKS)
    if s.startswith("the ") and s != "the doors":
        s = s[4:]
    if rng.random() < 0.1:
        s = rng.choice(V.ROOMS) + " door"
    return s, s


def g_cover(rng):
    c = rng.choice(V.COVERS)
    r = rng.random()
    if r < 0.35:
        s = rng.choice(V.ROOMS) + " " + c
    elif r < 0.45:
        s = c + " in the " + rng.choice(V.ROOMS)
    elif r < 0.5:
        s = rng.choice(["all the blinds", "all the curtains", "all the shades", "every blind", "all the shutters",
                        "all the windows"])
    else:
        s = c
    return s, s


def g_scene(rng):
    s = rng.choice(V.SCENES)
    return s, s


# --------------------------------------------------------------------------- templates per tool

_DUR = ("duration", g_duration)
_TNAME = ("name", g_timer_name)

TOOLS: dict[str, dict] = {}


def _tool(name: str, slots: dict, templates: list[str], imperative: list[str] | None = None):
    """templates: any form; imperative: forms that polite wrappers ('could you ...') may precede."""
    TOOLS[name] = {"slots": slots, "templates": templates, "imperative": imperative or []}


_tool("set_timer", {"duration": _DUR, "name": _TNAME}, templates=[
    "timer {duration}", "timer for {duration}", "{duration} timer", "{duration} timer please",
    "{name} timer {duration}", "{name} timer for {duration}", "{name} {duration}",
    "a timer for {duration}", "i need a timer for {duration}", "i need a {duration} timer",
    "i want a timer for {duration}", "can i get a {duration} timer", "can you time {duration}",
    "could you set a timer for {duration}", "can you set a {name} timer for {duration}",
    "let me know when {duration} (is|are|has|have) (up|passed)", "tell me when {duration} (is|are) up",
    "the {name} needs {duration}(,|) set a timer", "{duration} on the clock", "{duration} countdown",
    "i'm (cooking|making|baking) {name}(,|) set a timer for {duration}", "{name} (is|are) in(,|) {duration} timer",
    "timer(,|:) {duration}(,|:) {name}", "timer {duration} for {name}", "timer for {duration} for the {name}",
    "set timer {duration}", "start timer {duration}", "timer {duration} go",
], imperative=[
    "(set|start|create|make|put on|run|begin|add) (a|an|one) {duration} timer",
    "(set|start|create|make|put on|run|begin) (a|the|one) timer for {duration}",
    "(set|start|create|make) (a|the|my) {name} timer for {duration}",
    "(set|start|create|make) a {duration} {name} timer",
    "(set|start|create) a timer (for|of) {duration} (for|called|named|labeled|labelled) {name}",
    "(set|start|create) a timer (called|named|labeled) {name} for {duration}",
    "(set|start) a timer for the {name} for {duration}",
    "(set|start) a timer for {duration} for the {name}",
    "time {duration} for the {name}", "time (my|the) {name} for {duration}",
    "count down {duration}", "countdown (for|from) {duration}", "start (a|the) countdown (for|from) {duration}",
    "start counting down {duration}", "set a countdown (for|of) {duration}",
    "set a timer to go off in {duration}", "put a timer on for {duration}", "give me a {duration} timer",
    "(buzz|ping|beep|alert) me in {duration}",
    "time {duration}", "set the {name} timer to {duration}", "set a timer (for|on) the {name} (for|to) {duration}",
])

_tool("cancel_timer", {"name": _TNAME}, templates=[
    "never mind the timer", "never mind the {name} timer", "i don't need the timer anymore",
    "i don't need the {name} timer anymore", "no more timer", "timer off", "cancel timer", "stop timer",
    "forget the timer", "forget about the {name} timer", "the {name} is done(,|) cancel the timer",
    "the {name} timer can be (cancelled|stopped)", "(cancel|stop) the {name} one",
], imperative=[
    "(cancel|stop|delete|remove|clear|kill|end|dismiss|abort|get rid of|turn off|switch off|shut off) (the|my) timer",
    "(cancel|stop|delete|remove|clear|kill|end|dismiss|abort|get rid of|turn off) (the|my) {name} timer",
    "(cancel|stop|delete|remove|clear|end) the timer for (the|my) {name}",
    "(cancel|stop|delete|remove|clear) the timer (called|named|labeled) {name}",
    "(cancel|stop|delete|clear|remove) all (the|my) timers", "(cancel|stop|clear) every timer",
    "(silence|mute|quiet) the timer", "(silence|mute|stop) the {name} timer", "reset the timer",
    "(stop|cancel) the countdown", "(cancel|stop) the {name} countdown",
])

_tool("timer_status", {"name": _TNAME}, templates=[
    "how much time is left", "how much time is left on (the|my) timer", "how much time (is left|is remaining|remains) on (the|my) {name} timer",
    "how long is left on (the|my) timer", "how long (is left|left) on the {name} timer", "how much longer on the {name}",
    "how much longer (on|for) (the|my) timer", "what's left on (the|my) timer", "what's (left|remaining) on the {name} timer",
    "time left on the {name}", "time left on (the|my) timer", "timer status", "how's (the|my) timer (doing|going)",
    "how many minutes (are|) left", "how many minutes (are left|left) on the {name} timer", "how many seconds left",
    "is the {name} timer (done|finished|up) (yet|)", "is (the|my) timer (done|finished|almost done) (yet|)",
    "when will the {name} timer go off", "when (does|will) (the|my) timer go off", "when's the timer going off",
    "how long until the {name} (is|are) (done|ready)", "how long until (the|my) timer (goes off|rings|is done)",
    "how long (till|until) the {name} timer (is done|goes off|rings)", "status of (the|my) {name} timer",
    "what timers do i have", "what timers are running", "are there any timers running", "do i have a timer (running|going|on)",
    "how much time do i have left", "how long do i have left on the {name}", "how are my timers doing",
    "where are we on the {name} timer", "what's the status of (the|my) timer", "remaining time on the {name} timer",
    "how far along is the {name} timer", "is my timer still (going|running)",
], imperative=[
    "(check|show|tell me) (the|my) timer", "(check|show me) (the|my) {name} timer", "(check|show) my timers",
    "(tell me|let me know) how much time is left (on the {name} timer|)", "check on the {name} timer",
    "give me a timer update", "read me the time left on the {name} timer",
])

_ALARM = {"time": ("time", g_clock), "day": ("day", g_day), "name": ("name", g_alarm_name)}
_tool("set_alarm", _ALARM, templates=[
    "alarm (at|for) {time}", "alarm {time}", "{time} alarm", "alarm for {time} {day}", "alarm {day} at {time}",
    "alarm {day} {time}", "{day} {time} alarm", "{time} alarm {day}", "i need an alarm (at|for) {time}",
    "i need to (get up|wake up|be up) (at|by) {time}", "i need to (get up|wake up|be up) at {time} {day}",
    "i have to (get up|wake up) at {time} {day}", "i want to wake up at {time}", "i want to (get up|wake up) at {time} {day}",
    "can you wake me (up|) at {time}", "could you wake me (up|) {day} at {time}", "wake up call (at|for) {time}",
    "alarm (at|for) {time} (called|named|labeled) {name}", "{name} alarm (at|for) {time}", "{name} alarm {day} at {time}",
    "new alarm {time}", "new alarm for {time} {day}", "alarm please for {time}", "{time} wake up (call|) {day}",
    "wake me (up|) at {time}(,|) (it's|it is) for {name}",
], imperative=[
    "(set|create|make|schedule|add|put|program|put in) an alarm (for|at) {time}",
    "(set|create|make|schedule|add) (an|my) alarm (for|at) {time} {day}",
    "(set|create|make|schedule|add) an alarm {day} (at|for) {time}",
    "(set|create|make|schedule|add) an alarm for {day} at {time}",
    "(set|create|make|schedule|add) an alarm (for|at) {time} (on|for) {day}",
    "(set|create|put) a {time} alarm", "(set|create|put) a {time} alarm (for|) {day}",
    "(set|create) an alarm (called|named|labeled) {name} (for|at) {time}", "(set|create|add) a {name} alarm (for|at) {time}",
    "(set|create|add) a {name} alarm (for|at) {time} {day}", "(set|create) an alarm for {time} (and|) (call|name|label) it {name}",
    "wake me (up|) at {time}", "wake me (up|) at {time} {day}", "wake me (up|) {day} at {time}", "wake me (up|) {day} (morning|) at {time}",
    "get me up at {time}", "get me up at {time} {day}", "(set|change) my alarm (to|for) {time}", "(set|change) my alarm (to|for) {time} {day}",
    "(set|turn on) (an|the|my) alarm (for|at) {time} every {day_every}", "make sure i'm up at {time}",
    "(set|add) an alarm clock (for|at) {time}", "wake me (up|) at {time} for {name}",
    "(set|create|make) an alarm (for|) {reltime}", "wake me (up|) {reltime}", "(set|create) an alarm to go off {reltime}",
], )
TOOLS["set_alarm"]["slots"]["reltime"] = ("time", g_rel)
TOOLS["set_alarm"]["slots"]["day_every"] = ("day", lambda rng: (lambda d: (d, d))(rng.choice(spoken.DAYS + ["weekday"])))

_tool("cancel_alarm", {"time": ("time", g_clock), "day": ("day", g_day)}, templates=[
    "no alarm {day}", "no alarm (for|on) {day}", "i don't need (an|my|the) alarm {day}", "i don't need the {time} alarm (anymore|)",
    "i don't need to wake up at {time} (anymore|)", "i don't need to get up at {time} {day}", "alarm off",
    "forget the {time} alarm", "forget my alarm (for|on) {day}", "never mind the {time} alarm", "never mind the alarm {day}",
    "the {time} alarm (can go|isn't needed)", "i'm sleeping in {day}(,|) cancel my alarm",
], imperative=[
    "(cancel|delete|remove|turn off|disable|clear|get rid of|switch off|stop|deactivate|kill|erase) (my|the) alarm",
    "(cancel|delete|remove|turn off|disable|clear|get rid of|switch off|deactivate|erase) (my|the) {time} alarm",
    "(cancel|delete|remove|turn off|disable|clear) (my|the) alarm (for|at) {time}",
    "(cancel|delete|remove|turn off|disable|clear) (my|the) {day} alarm",
    "(cancel|delete|remove|turn off|disable|clear) (my|the) alarm (for|on) {day}",
    "(cancel|delete|remove|turn off|disable) (my|the) {time} alarm (for|on) {day}",
    "(cancel|delete|remove|turn off|disable) (my|the) alarm (for|at) {time} {day}",
    "(cancel|delete|remove|turn off|disable) (my|the) {day} {time} alarm",
    "(cancel|delete|remove|clear|turn off|disable) all (my|the|) alarms", "(cancel|delete|clear|turn off) every alarm",
    "(cancel|delete|remove) the alarm i set for {time}", "(cancel|delete|remove) the alarm i set for {day}",
    "skip (my|the) alarm {day}", "skip (my|the) {time} alarm", "(unset|turn off) the {time} wake up call",
])

_REM = {"text": ("text", g_task), "about": ("text", g_about), "that": ("text", g_that),
        "clock": ("time", g_clock), "rel": ("time", g_rel), "when": ("time", g_when)}
_tool("set_reminder", _REM, templates=[
    "reminder to {text}", "reminder to {text} at {clock}", "reminder to {text} {rel}", "reminder {when} to {text}",
    "reminder: {text}", "reminder for {when}: {text}", "reminder about {about} {when}",
    "don't let me forget to {text}", "don't let me forget to {text} {when}", "don't let me forget about {about}",
    "i need a reminder to {text}", "i need to remember to {text} {when}", "i need to be reminded to {text} at {clock}",
    "i want a reminder to {text} {rel}", "can you remind me to {text}", "could you remind me to {text} at {clock}",
    "can you remind me {when} to {text}", "will you remind me to {text} {rel}", "new reminder: {text}",
    "new reminder {text} {when}", "at {clock} remind me to {text}", "{rel} remind me to {text}",
    "{when} remind me to {text}", "{when} i need to {text}(,|) remind me",
], imperative=[
    "remind me to {text}", "remind me to {text} at {clock}", "remind me to {text} {rel}", "remind me to {text} {when}",
    "remind me at {clock} to {text}", "remind me {rel} to {text}", "remind me {when} to {text}",
    "remind me about {about}", "remind me about {about} at {clock}", "remind me about {about} {when}",
    "remind me {when} about {about}", "remind me of {about} {when}", "remind me that {that}", "remind me {when} that {that}",
    "remind me that {that} at {clock}", "(set|create|make|add|schedule) a reminder to {text}",
    "(set|create|make|add|schedule) a reminder to {text} at {clock}", "(set|create|make|add) a reminder to {text} {when}",
    "(set|create|make|add) a reminder (for|at) {clock} to {text}", "(set|create|add) a reminder {when} to {text}",
    "(set|create|add) a reminder for {when} to {text}", "(set|create|add) a reminder (about|for) {about}",
    "(set|create|add) a reminder (about|for) {about} {when}", "(add|put) {about} (to|on) my reminders",
    "make sure i remember to {text}", "make sure i remember to {text} {when}", "(ping|nudge|alert|buzz) me {when} to {text}",
    "(ping|nudge) me to {text} {rel}", "remind (me|us) to {text} {rel}", "remind me to {text} at {clock} {day}",
])
TOOLS["set_reminder"]["slots"]["day"] = ("time", g_day)  # "{clock} {day}": one span, merged in generate

_NAV = {"dest": ("destination", g_place), "origin": ("_origin", g_place), "drive": ("mode", _mode_gen("driving")),
        "walk": ("mode", _mode_gen("walking")), "bike": ("mode", _mode_gen("cycling")),
        "transit": ("mode", _mode_gen("transit"))}
_MODE_ANY = "({drive}|{walk}|{bike}|{transit})"
_tool("navigate", _NAV, templates=[
    "directions to {dest}", "directions to {dest} " + _MODE_ANY, "{dest} directions", "route to {dest}",
    "navigation to {dest}", "navigate {dest}", "how do i get to {dest}", "how do i get to {dest} " + _MODE_ANY,
    "how do i (get|go) to {dest} from here", "what's the (best|fastest|quickest) way to {dest}",
    "(directions|route|the way|navigation) from {origin} to {dest}", "how do i get from {origin} to {dest}",
    "get me from {origin} to {dest}", "(give me|show me|get) directions from {origin} to {dest}",
    "what's the (best|fastest) route from {origin} to {dest}", "navigate from {origin} to {dest} " + _MODE_ANY,
    "i want to (drive|walk|bike|cycle) to {dest}", "i'd like to (drive|walk|bike) to {dest}", "show me the route to {dest}",
    "(find|get) me (a|the) (route|way) to {dest}", "(give|get) me (the|) directions (to|for) {dest}", "(navigate|guide) me to {dest}",
    "where do i turn to get to {dest}", "what road do i take to get to {dest}", "can you show me how to get to {dest}",
    "(set|start) (the|) (gps|sat nav|satnav|maps) (to|for) {dest}", "(take|bring) me back (to {dest}|home)", "let's head (to|over to) {dest}",
    "what's the (best|fastest|quickest) way to get to {dest} " + _MODE_ANY, "which way to {dest}",
    "i want to go to {dest}", "i need to get to {dest}", "i need directions to {dest}", "let's go to {dest}",
    "let's go {dest}", "i'm heading to {dest}", "i'm going to {dest} " + _MODE_ANY, "we're going to {dest}, show me the way",
    "can you take me to {dest}", "can you give me directions to {dest}", "could you navigate to {dest}",
    "can you get me to {dest} " + _MODE_ANY, "show me how to get to {dest}", "get me directions to {dest}",
    "walking directions to {dest}", "driving directions to {dest}", "cycling directions to {dest}",
    "transit directions to {dest}", "bike route to {dest}", "public transport to {dest}",
    "i'd like to go to {dest}", "how can i get to {dest} " + _MODE_ANY, "where's the route to {dest}",
], imperative=[
    "(navigate|go|head) to {dest}", "(navigate|go|head) to {dest} " + _MODE_ANY,
    "(take|get|bring|lead|guide|route) me to {dest}", "(take|get|bring|guide|route) me to {dest} " + _MODE_ANY,
    "(take|get|bring) me home", "(navigate|head|go) home", "(give me|show me|get|find) directions to {dest}",
    "(give me|show me|get|find) directions to {dest} " + _MODE_ANY, "start (navigation|navigating|directions|a route) to {dest}",
    "(plot|plan|find|show me) a route to {dest}", "(plot|plan|find) a (driving|walking|cycling|bike|bus) route to {dest}",
    "drive me to {dest}", "walk me to {dest}", "(navigate|take me|directions) to {dest} (avoiding (tolls|highways|traffic)|using the highway|the fastest way|the scenic route)", "(set|put) {dest} as (my|the) destination", "show me the way to {dest}",
    "(set|change) (the|my) destination to {dest}", "guide me to {dest} " + _MODE_ANY, "start navigating to {dest}",
    "find me the way to {dest}", "get me to {dest} as fast as possible", "start a trip to {dest}",
])
# verb-implied modes: "drive me to" -> driving, "walk me to" -> walking (template post-processing in generate())

_tool("travel_time", _NAV, templates=[
    "how long (will it take|does it take|would it take) to (get|go) to {dest}",
    "how long (will it take|does it take|would it take) (me|us|) to (get|go) to {dest} " + _MODE_ANY,
    "how long to {dest}", "how long to {dest} " + _MODE_ANY, "how long is the (drive|ride|trip|journey|commute) to {dest}",
    "how long (does it take|will it take|is it) from {origin} to {dest}", "how long from {origin} to {dest} " + _MODE_ANY,
    "how far is it from {origin} to {dest}", "what's the travel time from {origin} to {dest}",
    "how long will it take (me|us|) to (drive|walk|bike|get) (to|over to) {dest}", "how long would the (drive|walk|bike ride|bus ride) to {dest} take",
    "how long (until|till|before) i (get|arrive) (to|at) {dest}", "how long will i be on the road to {dest}", "what's the eta for {dest}",
    "how long is the walk to {dest}", "how far is {dest}", "how far is {dest} " + _MODE_ANY, "how far away is {dest}",
    "how far is it to {dest}", "how far is {dest} from (here|my location|where i am)", "how long will it take to get to {dest} if i leave (now|in an hour|after lunch)", "how many minutes to {dest}", "how many minutes to {dest} " + _MODE_ANY,
    "what's the (travel time|eta|drive time|driving time|commute time|commute) to {dest}",
    "what's my eta to {dest}", "(travel time|eta) to {dest}", "(travel time|eta) to {dest} " + _MODE_ANY,
    "when will i (get|arrive) (to|at) {dest}", "when would i get to {dest} if i left now",
    "if i leave now when (will|would) i get to {dest}", "how long would it take me to walk to {dest}",
    "how long does it take to (drive|walk|bike|cycle) to {dest}", "how long (does|would) the bus take to {dest}",
    "how long is the train (ride|) to {dest}", "how long till i get to {dest}", "how long until we get to {dest}",
    "is it far to {dest}", "am i far from {dest}", "how much time to get to {dest} " + _MODE_ANY,
    "how much time do i need to get to {dest}", "how long of a drive is it to {dest}", "what time will i get to {dest}",
    "how quickly can i get to {dest}", "can i (make it|get) to {dest} in (twenty|30|ten) minutes",
    "how long would it take to get to {dest} " + _MODE_ANY, "how long is it to {dest} " + _MODE_ANY,
    "what's the distance to {dest}", "how many hours to {dest}", "how long is my commute to {dest}",
], imperative=[
    "(tell me|check|find out|estimate|calculate|give me) (the|my) travel time to {dest}",
    "(tell me|check|find out) how long it (takes|will take) to get to {dest}",
    "(tell me|check|find out) how long it (takes|will take) to get to {dest} " + _MODE_ANY,
    "(tell me|check) how far {dest} is", "(tell me|check) how far {dest} is " + _MODE_ANY,
    "(check|get) (the|my) eta (to|for) {dest}", "(tell me|let me know) how long the drive to {dest} is",
])

_tool("stop_navigation", {}, templates=[
    "stop navigating", "stop navigation", "end navigation", "navigation off", "no more directions",
    "i don't need directions anymore", "i don't need the directions", "i know the way from here",
    "i know where i'm going(,|) stop the directions", "we're here(,|) stop (the|) navigation", "i've arrived(,|) end the route",
    "we made it(,|) you can stop navigating", "that's enough directions", "stop the route", "cancel route",
    "enough with the directions", "quit navigation", "exit navigation", "end trip", "end route",
], imperative=[
    "(stop|cancel|end|exit|quit|close|turn off|kill|abort|finish|terminate|shut off) (the|my) (navigation|directions|route|guidance|trip|turn by turn|gps)",
    "stop giving me directions", "stop (the|) turn by turn (directions|navigation|)", "(cancel|stop|end) the current (route|trip|navigation)",
    "(stop|cancel) guiding me", "(stop|end) route guidance", "(turn|switch) off (the|) navigation", "stop the gps",
])

_TGT = {"t": ("target", g_device)}
_tool("turn_on", dict(_TGT, room=("target", g_room), every=("target", g_everything)), templates=[
    "{t} on", "{t} on please", "lights on in the {room}", "i want the {t} on", "i need the {t} on",
    "can you turn on (the|) {t}", "could you switch on (the|) {t}", "can you turn (the|) {t} on",
    "can i get the {t} on", "(the|) {t} needs to be on", "let's have the {t} on", "it's (too|) dark in the {room}",
    "it's dark in the {room}(,|) (turn on the lights|lights please|)", "on with the {t}", "{room} on",
], imperative=[
    "(turn|switch|power|flip|put) on (the|my|) {t}", "(turn|switch|power|flip) (the|my|) {t} on",
    "(turn|switch) on (the|) {room}", "(turn|switch) (the|) {room} on", "(power up|fire up|start up|boot up|start) (the|my|) {t}",
    "(enable|activate) (the|my|) {t}", "(turn|switch) on {every}", "light up the {room}", "(turn|switch|put) the (lights|light|lamps|lamp) on in the {room}",
    "(turn|switch) {every} on", "get the {t} (going|running)", "(put|turn) the {t} on for me",
])

_tool("turn_off", dict(_TGT, room=("target", g_room), every=("target", g_everything)), templates=[
    "{t} off", "{t} off please", "lights off in the {room}", "i want the {t} off", "no more {t}",
    "can you turn off (the|) {t}", "could you switch off (the|) {t}", "can you turn (the|) {t} off",
    "(the|) {t} needs to be off", "i'm done with the {t}(,|) turn it off", "off with the {t}", "{room} off",
    "i don't need the {t} anymore(,|) (turn|switch) it off",
], imperative=[
    "(turn|switch|power|shut|flip) off (the|my|) {t}", "(turn|switch|power|shut|flip) (the|my|) {t} off",
    "(turn|switch|shut) off (the|) {room}", "(turn|switch) (the|) {room} off", "(kill|cut) the {t}",
    "(disable|deactivate) (the|my|) {t}", "(turn|switch|shut) off {every}", "(power down|shut down) (the|) {t}", "(turn|switch|put) the (lights|light|lamps|lamp) off in the {room}",
    "(turn|switch) {every} off", "(stop|shut) (the|) {t}", "(turn|put) the {t} off for me",
])

_tool("set_light", {"t": ("target", g_light_target), "lt": ("target", _target_light), "pct": ("brightness", g_pct), "color": ("color", g_colour),
                    "room": ("target", g_room)}, templates=[
    "{t} (to|at) {pct} percent", "{t} {pct}%", "{t} (to|at) {pct}", "{t} {color}", "{t} to {color}",
    "{lt} (up|down|brighter|dimmer|darker)", "{lt} (up|down) (a bit|a little|please)",
    "brightness {pct}", "brightness (to|at) {pct} percent", "{t} brightness {pct}", "{pct} percent (brightness|) in the {room}",
    "{color} (light|lights) in the {room}", "{color} lights please", "can you dim (the|) {t} to {pct} percent",
    "can you make (the|) {t} {color}", "could you set (the|) {t} to {pct} percent", "i want the {t} {color}",
    "i want the {t} at {pct} percent", "(too bright|it's too bright)(,|) dim the {t}", "i'd like the {room} {color}",
    "can you change the {t} to {color}", "the {t} should be {color}", "{t} to {color} at {pct} percent",
], imperative=[
    "(set|dim|turn down|lower|bring down|drop) (the|) {t} to {pct} (percent|%|)",
    "(brighten|turn up|raise|bring up|increase) (the|) {t} to {pct} (percent|%|)",
    "(set|put|adjust|change) (the|) brightness (of|in) (the|) {t} to {pct} (percent|%|)",
    "(set|put|adjust|change) (the|) {t} brightness to {pct} (percent|%|)", "(dim|brighten|darken) (the|) {t}", "(turn|bring) (the|) {t} (down|up)", "(turn|bring) (down|up) (the|) {t}",
    "make (the|) {t} (brighter|dimmer|darker|less bright)",
    "(change|turn|make|set|switch) (the|) {t} {color}", "(change|set|switch|turn) (the|) {t} to {color}",
    "(change|set) the (color|colour) of (the|) {t} to {color}", "(set|change) the {t} (color|colour) to {color}",
    "(make|turn) the lights {color}", "(set|turn) the {t} to {color} (at|and) {pct} percent",
    "(make|set) the {room} {color}", "(dim|set) the {room} to {pct} percent", "(set|make) it {color} in the {room}",
    "(turn|switch) on the {t} at {pct} percent", "(set|change) the light (color|colour) to {color}",
    "(set|change) the (lighting|lights) to {pct} percent brightness", "give me {color} light in the {room}",
])

_TEMP = {"temp": ("temperature", g_temp), "therm": ("target", g_thermostat), "room": ("target", g_room)}
_DEG = "(degrees|degrees|degrees celsius|degrees fahrenheit|°|celsius|C|degrees c|)"
_tool("set_temperature", _TEMP, templates=[
    "{therm} (to|at) {temp} " + _DEG, "{temp} " + _DEG + " in the {room}", "{temp} degrees please",
    "i want it {temp} degrees (in here|in the {room}|)", "i'd like it to be {temp} degrees in the {room}",
    "can you set the {therm} to {temp}", "could you make it {temp} degrees in the {room}",
    "(it's|i'm) (cold|freezing|too cold)(,|) set the {therm} to {temp}", "(it's|i'm) (hot|boiling|too warm)(,|) (set|turn) the {therm} (down |)to {temp}",
    "temperature {temp}", "temperature (to|at) {temp} " + _DEG, "{room} temperature {temp}", "{room} to {temp} degrees",
    "can you (warm|heat) up the {room} to {temp}", "the {room} should be {temp} degrees",
], imperative=[
    "(set|put|change|adjust|turn) the {therm} to {temp} " + _DEG,
    "(set|change|adjust) the temperature to {temp} " + _DEG, "(set|change|adjust) the temperature in the {room} to {temp} " + _DEG,
    "(set|change) the {room} (temperature|) to {temp} " + _DEG, "(make|set|keep) it {temp} " + _DEG + " in the {room}",
    "(make|set|keep) it {temp} " + _DEG, "(turn|crank|bump|put) the {therm} (up|down) to {temp} " + _DEG,
    "(heat|warm up|warm) the {room} to {temp} " + _DEG, "(cool|cool down) the {room} to {temp} " + _DEG,
    "(set|program) the {room} {therm} to {temp}", "(set|put) the {therm} (on|at) {temp}", "(raise|lower|drop|increase|decrease) the {therm} to {temp}",
    "(raise|lower|drop|increase|decrease) the temperature to {temp} " + _DEG,
])

_LOCK = {"t": ("target", g_lock), "house": ("target", lambda r: (lambda s: (s, s))(r.choice(["house", "home", "apartment", "flat", "place", "doors"])))}
_tool("lock", _LOCK, templates=[
    "lock up", "{t} lock", "lock it", "i'm leaving(,|) lock (the|) {t}", "can you lock (the|) {t}",
    "could you lock up", "make sure (the|) {t} is locked", "is the {t} locked(,|) if not lock it",
    "lock up the {house}", "lock everything up", "going to bed(,|) lock (the|) {t}", "lock the place up",
], imperative=[
    "lock (the|my|) {t}", "(secure|bolt|deadbolt) (the|) {t}", "lock up (the|) {t}", "lock (the|) {t} (please|now|for me)",
    "(engage|activate) the lock on (the|) {t}", "(lock|secure) the {house}",
])

_tool("unlock", _LOCK, templates=[
    "unlock it", "{t} unlock", "can you unlock (the|) {t}", "could you unlock (the|) {t} for (the guests|my mom|the delivery guy|the cleaner)",
    "i'm home(,|) unlock (the|) {t}", "let me in(,|) unlock (the|) {t}", "i need the {t} unlocked",
], imperative=[
    "unlock (the|my|) {t}", "(unbolt|unlatch) (the|) {t}", "(disengage|release|open) the lock on (the|) {t}",
    "unlock (the|) {t} (please|now|for me)", "unlock the {house}",
])

_COV = {"c": ("target", g_cover)}
_tool("open_cover", _COV, templates=[
    "{c} up", "{c} open", "open {c} please", "can you open (the|) {c}", "could you raise (the|) {c}",
    "i want the {c} open", "let some light in(,|) open the {c}", "the {c} need to be open", "{c} all the way up",
], imperative=[
    "(open|raise|lift|pull up|roll up|open up) (the|my|) {c}", "(open|raise|lift) (the|) {c} (halfway|all the way|a bit|a little)",
    "(draw back|pull back|part) the {c}", "put (the|) {c} up", "(put|roll) the {c} up", "(open|raise) the {c} in the {room}",
])
TOOLS["open_cover"]["slots"]["room"] = ("target", g_room)

_tool("close_cover", _COV, templates=[
    "{c} down", "{c} closed", "close {c} please", "can you close (the|) {c}", "could you lower (the|) {c}",
    "i want the {c} closed", "it's too bright(,|) close the {c}", "the {c} need to be closed", "{c} all the way down",
], imperative=[
    "(close|shut|lower|pull down|roll down|close up) (the|my|) {c}", "(close|lower) (the|) {c} (halfway|all the way|a bit|a little)",
    "draw the {c}", "put (the|) {c} down", "(put|roll) the {c} down", "(close|lower|shut) the {c} in the {room}",
])
TOOLS["close_cover"]["slots"]["room"] = ("target", g_room)

_tool("activate_scene", {"s": ("scene", g_scene)}, templates=[
    "{s} scene", "{s} scene please", "scene {s}", "{s} mode", "{s} mode please", "it's {s} time",
    "can you (activate|start|turn on|set) the {s} scene", "could you put on the {s} scene", "i want the {s} scene",
    "let's do the {s} scene", "time for the {s} scene", "scene: {s}", "lights to {s} scene",
], imperative=[
    "(activate|start|run|trigger|launch|apply|load|enable|play) (the|) {s} scene", "(activate|start|run|trigger) {s}",
    "(turn|switch) on (the|) {s} scene", "(set|change) the scene to {s}", "(set|switch|change) to (the|) {s} scene",
    "(switch|go|change) to {s} mode", "(enable|activate|start|turn on) {s} mode", "(set|put|change) the (mood|lights|house) to {s}",
    "put on the {s} scene", "(activate|recall|set) scene {s}", "(set|switch) the lighting scene to {s}",
])

# --------------------------------------------------------------------------- novel values (see novel.py)

_NOVEL: dict[Callable, Callable[[random.Random], str]] = {
    g_device: N.device, _target_light: N.device, g_light_target: N.device, g_thermostat: N.device,
    g_room: N.room, g_cover: N.named(V.COVERS[:20]), g_lock: N.named(["door", "gate", "lock", "door lock"]),
    g_scene: N.scene, g_task: N.task, g_place: N.place, g_timer_name: N.short_name, g_alarm_name: N.short_name,
}
for _spec in TOOLS.values():
    for _slot, (_arg, _gen) in list(_spec["slots"].items()):
        if _gen in _NOVEL:
            _spec["slots"][_slot] = (_arg, N.mixed(_gen, _NOVEL[_gen]))
