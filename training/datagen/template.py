"""A tiny template language for utterances.

`(a|b|c)` picks one alternative, `[x]` keeps x half of the time, `{slot}` is replaced by a slot's surface
text. Alternatives nest: `(set|start) [a|the] timer` is fine; `[...]` content may itself contain `(..|..)`.
After expansion, runs of spaces collapse.
"""
from __future__ import annotations

import random
import re


def _parse(s: str, i: int, stop: str) -> tuple[list, int]:
    """Parse until one of the characters in `stop` at depth 0. Returns (alternatives, index)."""
    alts: list[list] = [[]]
    buf = ""
    while i < len(s):
        c = s[i]
        if c in stop:
            break
        if c == "|" and stop:
            alts[-1].append(buf)
            buf = ""
            alts.append([])
            i += 1
            continue
        if c == "(":
            alts[-1].append(buf)
            buf = ""
            sub, i = _parse(s, i + 1, ")")
            alts[-1].append(("alt", sub))
            i += 1
            continue
        if c == "[":
            alts[-1].append(buf)
            buf = ""
            sub, i = _parse(s, i + 1, "]")
            alts[-1].append(("opt", sub))
            i += 1
            continue
        buf += c
        i += 1
    alts[-1].append(buf)
    return alts, i


_CACHE: dict[str, list] = {}


def _render(node, rng: random.Random) -> str:
    if isinstance(node, str):
        return node
    kind, alts = node
    if kind == "opt":
        if rng.random() < 0.5:
            return ""
        if len(alts) == 1:
            return "".join(_render(n, rng) for n in alts[0])
        return "".join(_render(n, rng) for n in rng.choice(alts))
    return "".join(_render(n, rng) for n in rng.choice(alts))


def expand(template: str, rng: random.Random) -> str:
    """Expand alternatives/optionals; `{slot}` markers are left in place."""
    tree = _CACHE.get(template)
    if tree is None:
        tree, _ = _parse(template, 0, "")
        _CACHE[template] = tree
    out = "".join(_render(n, rng) for n in tree[0])
    return re.sub(r"\s+", " ", out).strip()


_SLOT = re.compile(r"\{(\w+)\}")


def slots_in(text: str) -> list[str]:
    return _SLOT.findall(text)


def fill(text: str, surfaces: dict[str, str]) -> str:
    return _SLOT.sub(lambda m: surfaces[m.group(1)], text)
