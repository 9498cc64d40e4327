"""Novel argument values: names the closed vocabularies never contain.

A user's devices, rooms, scenes and reminders are called anything ("play corner lights", "Zephyr",
"refill the quinoa jar"). When every training value comes from a short list, the model learns to write
list entries instead of copying the utterance. With probability `rate` a catalogue value generator is
replaced by one drawing its words from a general English word list (/usr/share/dict/words, Debian's
`wamerican`) or from made-up syllable words, so copying is the only way to get the value right.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Callable

from . import vocab as V

WORDS_FILE = Path("/usr/share/dict/words")

# Share of catalogue string values drawn from here (set by generate.Generator from --novel).
rate = 0.0

_ONSETS = ["b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m", "n", "p",
           "pl", "qu", "r", "s", "sh", "sk", "st", "t", "th", "tr", "v", "w", "z", ""]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "oo", "y", "ie"]
_CODAS = ["", "", "n", "r", "l", "s", "x", "th", "m", "ck", "nd", "st"]

_lower: list[str] | None = None
_proper: list[str] | None = None


def _load() -> tuple[list[str], list[str]]:
    global _lower, _proper
    if _lower is None:
        lower, proper = [], []
        if WORDS_FILE.exists():
            for w in WORDS_FILE.read_text(encoding="utf-8", errors="ignore").split("\n"):
                if not (3 <= len(w) <= 12 and w.isascii() and w.isalpha()):
                    continue
                if w.islower():
                    lower.append(w)
                elif w[0].isupper() and w[1:].islower():
                    proper.append(w)
        _lower, _proper = sorted(set(lower)), sorted(set(proper))
    return _lower, _proper  # type: ignore[return-value]


def pseudo_word(rng: random.Random) -> str:
    return "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                   for _ in range(rng.choice([1, 2, 2, 3])))


def word(rng: random.Random) -> str:
    lower, _ = _load()
    if lower and rng.random() < 0.75:
        return rng.choice(lower)
    return pseudo_word(rng)


def proper(rng: random.Random) -> str:
    _, names = _load()
    if names and rng.random() < 0.8:
        return rng.choice(names)
    return pseudo_word(rng).capitalize()


def phrase(rng: random.Random, lo: int = 1, hi: int = 2) -> str:
    return " ".join(word(rng) for _ in range(rng.randint(lo, hi)))


def _cased(s: str, rng: random.Random) -> str:
    return s.title().replace("'S", "'s") if rng.random() < 0.25 else s


def device(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        s = phrase(rng) + " " + rng.choice(V.LIGHT_DEVICES + V.OTHER_DEVICES[:40])
    elif r < 0.6:
        s = rng.choice(V.ROOMS) + " " + word(rng)
    elif r < 0.7:
        s = proper(rng) + "'s " + rng.choice(V.LIGHT_DEVICES + V.OTHER_DEVICES[:40])
    else:
        s = phrase(rng)
    return _cased(s, rng)


def named(nouns: list[str]) -> Callable[[random.Random], str]:
    """Covers, locks: a made-up name with one of the usual nouns ("quartz blinds"), or the name alone."""
    def g(rng: random.Random) -> str:
        s = phrase(rng, 1, 1) + " " + rng.choice(nouns) if rng.random() < 0.7 else phrase(rng)
        return _cased(s, rng)
    return g


def room(rng: random.Random) -> str:
    s = phrase(rng) + rng.choice(["", "", "", " room", " area"])
    return _cased(s, rng)


def task(rng: random.Random) -> str:
    verb = rng.choice(["buy", "get", "call", "check", "order", "bring", "fix", "clean", "book", "send",
                       "pick up", "return", "refill", "email", "finish", "pack", "water", "feed", "move",
                       "look up", "write", "read", "sign", "cancel", "renew", "find", "ask about", "visit"])
    obj = rng.choice(["", "the ", "my ", "some ", "a ", "our "]) + phrase(rng, 1, 3)
    tail = rng.choice(["", "", "", " for " + proper(rng), " with " + proper(rng), " at " + proper(rng)])
    return verb + " " + obj + tail


def place(rng: random.Random) -> str:
    r = rng.random()
    name = " ".join(proper(rng) for _ in range(rng.randint(1, 3)))
    if r < 0.25:
        name += " " + rng.choice(["Park", "Center", "Mall", "Station", "Street", "Lake", "Museum", "Plaza"])
    elif r < 0.4:
        name += " in " + proper(rng)
    return name if rng.random() < 0.7 else name.lower()


def scene(rng: random.Random) -> str:
    return _cased(phrase(rng), rng)


def short_name(rng: random.Random) -> str:
    return word(rng)


def mixed(usual: Callable[[random.Random], tuple[str, object]], novel: Callable[[random.Random], str]):
    """A value generator that is `usual`, except that a `rate` share of its values come from `novel`."""
    def g(rng: random.Random) -> tuple[str, object]:
        if rate > 0 and rng.random() < rate:
            s = novel(rng)
            return s, s
        return usual(rng)
    if hasattr(usual, "enum"):
        g.enum = usual.enum  # type: ignore[attr-defined]
    return g
