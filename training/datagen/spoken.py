"""Spoken forms of numbers, durations, clock times and days.

Every generator takes a `random.Random` and returns the surface string as a user would say or type it
(digits or words, recogniser-style or typed). Values in the training answers are these strings verbatim
(the Needle value convention: a value is the span of the utterance).
"""
from __future__ import annotations

import random

_UNITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
          "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
          "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def num_words(n: int, hyphen: bool = False) -> str:
    """English words for 0 <= n < 10000 ("twenty one", or "twenty-one" with hyphen)."""
    if n < 0:
        return "minus " + num_words(-n, hyphen)
    if n < 20:
        return _UNITS[n]
    if n < 100:
        t, u = divmod(n, 10)
        if u == 0:
            return _TENS[t]
        return _TENS[t] + ("-" if hyphen else " ") + _UNITS[u]
    if n < 1000:
        h, r = divmod(n, 100)
        head = _UNITS[h] + " hundred"
        return head if r == 0 else head + " and " + num_words(r, hyphen)
    th, r = divmod(n, 1000)
    head = num_words(th, hyphen) + " thousand"
    return head if r == 0 else head + " " + num_words(r, hyphen)


def number(rng: random.Random, n: int, p_words: float = 0.4) -> str:
    """n as digits or words."""
    if rng.random() < p_words:
        return num_words(n, hyphen=rng.random() < 0.2)
    return str(n)


# --------------------------------------------------------------------------- durations

_UNIT_FORMS = {
    "second": ["seconds", "seconds", "seconds", "secs", "sec", "second"],
    "minute": ["minutes", "minutes", "minutes", "mins", "min", "minute"],
    "hour": ["hours", "hours", "hours", "hrs", "hour"],
}
_UNIT_ONE = {"second": ["a second", "one second", "1 second"],
             "minute": ["a minute", "one minute", "1 minute", "1 min"],
             "hour": ["an hour", "one hour", "1 hour", "1 hr"]}


def _amount(rng: random.Random, n: int, unit: str, p_words: float) -> str:
    if n == 1:
        return rng.choice(_UNIT_ONE[unit])
    forms = _UNIT_FORMS[unit]
    u = rng.choice(forms)
    if u in ("second", "minute", "hour") and rng.random() < 0.7:
        u = u + "s"
    return number(rng, n, p_words) + " " + u


def duration(rng: random.Random, p_words: float = 0.45) -> str:
    """A spoken duration: '5 minutes', 'an hour and a half', '1 hour 15 minutes and 30 seconds', ..."""
    r = rng.random()
    if r < 0.38:
        n = rng.choice([1, 2, 3, 4, 5, 5, 6, 7, 8, 9, 10, 10, 12, 15, 15, 20, 20, 25, 30, 30, 35, 40, 45,
                        45, 50, 55, 60, 75, 90, 100, 120])
        return _amount(rng, n, "minute", p_words)
    if r < 0.50:
        n = rng.choice([5, 10, 15, 20, 25, 30, 30, 40, 45, 50, 60, 90, 120])
        return _amount(rng, n, "second", p_words)
    if r < 0.60:
        n = rng.choice([1, 1, 2, 2, 3, 4, 5, 6, 8, 10, 12, 24])
        return _amount(rng, n, "hour", p_words)
    if r < 0.70:
        return rng.choice(["half an hour", "a half hour", "half hour", "a quarter of an hour",
                           "quarter of an hour", "an hour and a half", "one and a half hours",
                           "1 and a half hours", "a minute and a half", "two and a half minutes",
                           "2 and a half minutes", "five and a half minutes", "1.5 hours",
                           "two and a half hours", "a couple of minutes", "a couple of hours",
                           "an hour and a quarter", "three quarters of an hour", "1.5 minutes",
                           "ninety minutes", "half a minute"])
    if r < 0.90:
        # compound: hours+minutes, minutes+seconds
        if rng.random() < 0.5:
            h = rng.choice([1, 1, 1, 2, 2, 3])
            m = rng.choice([5, 10, 15, 15, 20, 30, 30, 40, 45, 50])
            a, b = _amount(rng, h, "hour", p_words), _amount(rng, m, "minute", p_words)
        else:
            m = rng.choice([1, 1, 2, 2, 3, 4, 5, 10])
            s = rng.choice([10, 15, 20, 30, 30, 45])
            a, b = _amount(rng, m, "minute", p_words), _amount(rng, s, "second", p_words)
        return a + rng.choice([" and ", " and ", " "]) + b
    if r < 0.96:
        h = rng.choice([1, 1, 2])
        m = rng.choice([5, 10, 15, 20, 30, 45])
        s = rng.choice([10, 15, 20, 30, 45])
        return (_amount(rng, h, "hour", p_words) + rng.choice([" ", ", "]) + _amount(rng, m, "minute", p_words)
                + rng.choice([" and ", " "]) + _amount(rng, s, "second", p_words))
    return rng.choice(["90s", "1h30m", "10m", "45s", "2h", "25 min", "3 mins", "1 hr 20 min", "5m",
                       "20 sec", "1:30:00", "15mins", "30secs"])


# --------------------------------------------------------------------------- clock times

_MIN_WORDS = {0: "", 5: "oh five", 10: "ten", 15: "fifteen", 20: "twenty", 25: "twenty five",
              30: "thirty", 35: "thirty five", 40: "forty", 45: "forty five", 50: "fifty", 55: "fifty five"}


def _hour_word(rng: random.Random, h: int, p_words: float) -> str:
    return num_words(h) if rng.random() < p_words else str(h)


def _with_ampm(rng: random.Random, s: str, ampm: str) -> str:
    if not ampm:
        return s
    if s[-1].isdigit() and "." not in ampm and rng.random() < 0.3:
        return s + ampm
    return s + " " + ampm


def clock_time(rng: random.Random, p_words: float = 0.45, allow_ampm: bool = True) -> str:
    """A spoken clock time: '7', 'seven am', '6:45', 'half past seven', 'quarter to eight', 'noon', ..."""
    h = rng.choice([1, 2, 3, 4, 5, 5, 6, 6, 6, 7, 7, 7, 7, 8, 8, 8, 9, 9, 10, 10, 11, 11, 12])
    m = rng.choice([0, 0, 0, 0, 0, 15, 30, 30, 30, 45, 10, 20, 40, 50, 5, 25, 35, 55])
    ampm = ""
    if allow_ampm and rng.random() < 0.45:
        ampm = rng.choice(["am", "pm", "am", "pm", "am", "pm", "a.m.", "p.m.", "AM", "PM"])
    r = rng.random()
    if r < 0.10:
        return rng.choice(["noon", "midnight", "midday", "12 noon", "twelve noon"])
    if r < 0.40:
        if m == 0 and rng.random() < 0.6:
            s = str(h)
            if not ampm and rng.random() < 0.3:
                s += rng.choice([" o'clock", " oclock", " o clock"])
            return _with_ampm(rng, s, ampm)
        return _with_ampm(rng, "%d:%02d" % (h, m), ampm)
    if r < 0.62:
        hw = num_words(h)
        if m == 0:
            s = hw + (rng.choice([" o'clock", " oclock", ""]) if not ampm else "")
        else:
            s = hw + " " + _MIN_WORDS[m] if m in _MIN_WORDS else hw + " " + num_words(m)
        return _with_ampm(rng, s, ampm.lower())
    if r < 0.80:
        form = rng.choice(["half past", "half past", "quarter past", "quarter to", "quarter to", "quarter after",
                           "ten past", "twenty past", "five past", "twenty to", "ten to", "five to",
                           "twenty five past"])
        hh = h % 12 + 1 if " to" in form else h
        s = form + " " + _hour_word(rng, hh, p_words + 0.3)
        if ampm and rng.random() < 0.5:
            s += " " + ampm.lower()
        return s
    if r < 0.92:
        hw = _hour_word(rng, h, p_words)
        if m == 0:
            mm = ""
        elif hw.isdigit():
            mm = ":%02d" % m
        else:
            mm = " " + (_MIN_WORDS.get(m) or num_words(m))
        part = rng.choice(["in the morning", "in the evening", "at night", "tonight", "in the afternoon"])
        return hw + mm + " " + part
    hh = rng.choice([6, 7, 8, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23])
    return rng.choice(["%02d:%02d" % (hh, m), "%d:%02d" % (hh, m), "%02d%02d" % (hh, m)])


def relative_time(rng: random.Random, p_words: float = 0.45) -> str:
    """'in 20 minutes', 'in an hour', 'in half an hour' (a relative time as spoken)."""
    d = duration(rng, p_words)
    if d[0].isdigit() and ("h" in d[-2:] or "m" in d[-2:] or "s" in d[-2:]) and " " not in d:
        d = "20 minutes"
    return rng.choice(["in ", "in ", "in ", "after "]) + d + rng.choice(["", "", "", " from now"])


DAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def day(rng: random.Random) -> str:
    """A day or repetition for alarms: 'tomorrow', 'monday', 'weekdays', 'every day', ..."""
    r = rng.random()
    if r < 0.30:
        return "tomorrow"
    if r < 0.60:
        d = rng.choice(DAYS)
        return rng.choice([d, d, d, d + "s", "next " + d, "this " + d, d.capitalize()])
    if r < 0.75:
        return rng.choice(["weekdays", "weekends", "the weekend", "every day", "every weekday", "daily",
                           "workdays", "school days"])
    if r < 0.85:
        return "every " + rng.choice(DAYS)
    if r < 0.93:
        return rng.choice(["today", "tonight", "tomorrow morning", "the day after tomorrow", "this week",
                           "every morning", "this weekend", "next week", "mondays and wednesdays"])
    return rng.choice(["january 3rd", "the 15th", "march 12", "christmas day", "new year's day",
                       "my birthday", "june 1st", "the 1st"])


def reminder_when(rng: random.Random) -> str:
    """Any time expression for reminders: clock, relative, day + clock, day alone."""
    r = rng.random()
    if r < 0.35:
        return clock_time(rng)
    if r < 0.60:
        return relative_time(rng)
    if r < 0.78:
        d = day(rng)
        if d in ("tonight", "today") or d.startswith("every"):
            d = "tomorrow"
        c = clock_time(rng)
        return rng.choice([d + " at " + c, d + " at " + c, "at " + c + " " + d, d + " " + c])
    if rng.random() < 0.12:
        return rng.choice(["every day at ", "every morning at ", "every monday at ", "daily at ", "each night at ",
                           "every weekday at ", "every friday at "]) + clock_time(rng)
    return rng.choice(["tomorrow", "tonight", "this evening", "this afternoon", "later today", "tomorrow morning",
                       "next week", "on friday", "monday morning", "next monday", "this weekend", "at lunch",
                       "at lunchtime", "after work", "before bed", "at the end of the day", "in the morning",
                       "at dinner time", "tomorrow night", "on saturday", "next month", "end of the week",
                       "every day", "every morning", "every evening", "every week", "every sunday"])


def temperature(rng: random.Random) -> tuple[str, float]:
    """(spoken, value): 'twenty one' -> 21, '21.5' -> 21.5, '68' -> 68 (fahrenheit users)."""
    if rng.random() < 0.25:
        n = rng.randint(60, 80)
    else:
        n = rng.randint(15, 28)
    half = rng.random() < 0.15
    val = n + (0.5 if half else 0)
    r = rng.random()
    if r < 0.5:
        s = str(n) + (".5" if half else "")
    else:
        s = num_words(n, hyphen=rng.random() < 0.2) + (" point five" if half else "")
    return s, val


def percent(rng: random.Random) -> tuple[str, int]:
    n = rng.choice([0, 5, 10, 10, 15, 20, 20, 25, 30, 30, 35, 40, 40, 45, 50, 50, 55, 60, 60, 65, 70, 70, 75,
                    80, 80, 85, 90, 95, 100, 100, 1, 2, 3, 12, 33, 67, 42, 18])
    return number(rng, n, 0.4), n
