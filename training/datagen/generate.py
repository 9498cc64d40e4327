"""Assemble training samples: utterance + declared tools -> answer (Needle format), deterministic per seed.

A sample is `{"query", "tools", "answer", "kind", "retrieval"}`: `tools` are the declarations in prompt order
(as the daemon passes them: name, description, parameters), `answer` the list of calls (`[]` for none),
`retrieval` the declaration of the called tool (for the contrastive head) or null.
"""
from __future__ import annotations

import copy
import json
import random
import re
from pathlib import Path

from . import catalogue as C
from . import negatives as N
from . import synthetic as S
from . import template as T
from . import vocab as V

REPO = Path(__file__).resolve().parents[2]
CATALOGUE_FILES = [REPO / "tools" / p / "tools.json" for p in ("timers", "navigation", "smarthome")]


def load_declarations(path: Path) -> list[dict]:
    """Tools as the daemon puts them in the prompt: without `examples` and `sensitive`."""
    data = json.loads(Path(path).read_text())
    if isinstance(data, dict):
        data = data.get("tools", [])
    out = []
    for t in data:
        d = {"name": t["name"]}
        if "description" in t:
            d["description"] = t["description"]
        d["parameters"] = t.get("parameters", {"type": "object", "properties": {}, "required": []})
        out.append(d)
    return out


def load_catalogue() -> list[dict]:
    decls = []
    for f in CATALOGUE_FILES:
        decls += load_declarations(f)
    return decls


PLUGIN_OF = {"set_timer": "timers", "cancel_timer": "timers", "timer_status": "timers", "set_alarm": "timers",
             "cancel_alarm": "timers", "set_reminder": "timers", "navigate": "navigation", "travel_time": "navigation",
             "stop_navigation": "navigation"}
for _n in ("turn_on", "turn_off", "set_light", "set_temperature", "lock", "unlock", "open_cover", "close_cover",
           "activate_scene"):
    PLUGIN_OF[_n] = "smarthome"

# tools that could plausibly serve the same request: removed together when building "tool not declared" negatives
CONFUSABLE = {
    "turn_on": {"set_light", "activate_scene"}, "turn_off": {"set_light"}, "set_light": {"turn_on", "turn_off"},
    "open_cover": {"unlock"}, "close_cover": {"lock"}, "lock": {"close_cover"}, "unlock": {"open_cover"},
    "set_timer": {"set_alarm", "set_reminder"}, "set_alarm": {"set_timer", "set_reminder"},
    "set_reminder": {"set_alarm", "set_timer"}, "navigate": {"travel_time"}, "travel_time": {"navigate"},
    "cancel_timer": {"turn_off", "cancel_alarm"}, "cancel_alarm": {"turn_off", "cancel_timer"},
    "activate_scene": {"turn_on"}, "timer_status": set(), "stop_navigation": {"turn_off"},
    "set_temperature": set(),
}

DESC_PARAPHRASES = {
    "set_timer": ["Start a timer that counts down", "Set a countdown timer", "Starts a countdown timer.", "Create a timer"],
    "cancel_timer": ["Stop a running timer", "Cancel a timer", "Cancels the timer with the given label"],
    "timer_status": ["Report the time remaining on a timer", "How much time a timer has left", "Get timer status"],
    "set_alarm": ["Create an alarm at a time of day", "Set an alarm clock", "Sets a wake-up alarm"],
    "cancel_alarm": ["Remove an alarm", "Cancel an alarm", "Delete or turn off alarms"],
    "set_reminder": ["Create a reminder", "Remind the user about something later", "Set a reminder with text and time"],
    "navigate": ["Get directions to a destination", "Navigate to a place", "Start navigation"],
    "travel_time": ["Estimate the travel time to a destination", "How long the trip to a place takes", "Get ETA to a place"],
    "stop_navigation": ["End navigation", "Cancel the active route", "Stop turn-by-turn guidance"],
    "turn_on": ["Switch a device or room on", "Turn something on", "Power on a device"],
    "turn_off": ["Switch a device or room off", "Turn something off", "Power off a device"],
    "set_light": ["Change light brightness or color", "Dim, brighten or recolour lights", "Adjust lights"],
    "set_temperature": ["Change the target temperature", "Set the heating or cooling setpoint", "Adjust the thermostat"],
    "lock": ["Lock a door or lock", "Engage a smart lock", "Lock"],
    "unlock": ["Unlock a door or lock", "Open a smart lock", "Unlock"],
    "open_cover": ["Open or raise a cover (blinds, curtains, garage door, gate)", "Raise blinds or open a gate"],
    "close_cover": ["Close or lower a cover (blinds, curtains, garage door, gate)", "Lower blinds or close a gate"],
    "activate_scene": ["Turn on a scene", "Run a home scene by name", "Apply a lighting scene"],
}

EXTRA_PARAMS = [
    ("room", {"type": "string", "description": "Room"}), ("device_id", {"type": "string", "description": "Device id"}),
    ("transition", {"type": "integer", "description": "Transition seconds"}),
    ("sound", {"type": "string", "description": "Alert sound"}), ("repeat", {"type": "boolean", "description": "Repeat"}),
    ("avoid_tolls", {"type": "boolean", "description": "Avoid toll roads"}),
    ("priority", {"type": "string", "enum": ["low", "normal", "high"], "description": "Priority"}),
    ("notes", {"type": "string", "description": "Extra notes"}), ("volume", {"type": "integer", "description": "Volume"}),
    ("user", {"type": "string", "description": "Which user"}), ("confirm", {"type": "boolean", "description": "Ask first"}),
]


def to_flat(decl: dict) -> dict:
    """Needle v1 flat parameters: {"arg": {"type", "description", "required": bool}}."""
    p = decl.get("parameters", {})
    req = set(p.get("required", []))
    flat = {}
    for k, v in p.get("properties", {}).items():
        f = dict(v)
        f["required"] = k in req
        flat[k] = f
    out = {"name": decl["name"]}
    if "description" in decl:
        out["description"] = decl["description"]
    out["parameters"] = flat
    return out


def vary_decl(decl: dict, rng: random.Random, p: float = 0.25) -> dict:
    """Small variations of a declaration (description paraphrase, extra optional parameter, flat format)."""
    if rng.random() > p:
        return decl
    d = copy.deepcopy(decl)
    if rng.random() < 0.5 and d["name"] in DESC_PARAPHRASES:
        d["description"] = rng.choice(DESC_PARAPHRASES[d["name"]])
    props = d["parameters"].setdefault("properties", {})
    if rng.random() < 0.4:
        name, spec = rng.choice(EXTRA_PARAMS)
        if name not in props:
            props[name] = dict(spec)
    if rng.random() < 0.15:
        for v in props.values():
            v.pop("description", None)
    if rng.random() < 0.1:
        d = to_flat(d)
    return d


# --------------------------------------------------------------------------- style


def _strip_punct(s: str, keep_apostrophe: bool) -> str:
    s = re.sub(r"(?<=\d)%", " percent", s)
    s = re.sub(r"[?!,;\"]", " ", s)
    s = re.sub(r"(?<!\d)\.|\.(?!\d)", " ", s)
    s = re.sub(r"(?<!\d):|:(?!\d)", " ", s)
    if not keep_apostrophe:
        s = s.replace("'", "")
    return re.sub(r"\s+", " ", s).strip()


def make_style(rng: random.Random):
    """A function applied alike to the whole query and to every string value."""
    r = rng.random()
    if r < 0.55:  # speech recogniser: lower case, no punctuation
        keep_ap = rng.random() < 0.6
        colon_space = rng.random() < 0.35

        def f(s: str) -> str:
            s = _strip_punct(s.lower(), keep_ap)
            if colon_space:
                s = re.sub(r"(\d):(\d)", r"\1 \2", s)
            return s
        return f, "asr"
    if r < 0.85:
        return (lambda s: s), "typed"
    cap_all = rng.random() < 0.3
    return ((lambda s: s.upper()) if cap_all and rng.random() < 0.1 else (lambda s: s)), "typed"


def finish_typed(q: str, rng: random.Random, question: bool) -> str:
    if rng.random() < 0.6:
        q = q[:1].upper() + q[1:]
    end = rng.random()
    if question and end < 0.7:
        q += "?"
    elif end < 0.25:
        q += "."
    elif end < 0.3:
        q += "!"
    return q


_QWORDS = ("how", "what", "when", "is", "are", "can", "could", "will", "would", "do", "does", "am", "where", "which")


def wrap(text: str, rng: random.Random, imperative: bool) -> str:
    """Wake words, fillers, polite forms."""
    pre, post = [], []
    if rng.random() < 0.12:
        pre.append(rng.choice(V.WAKE) + rng.choice([" ", ", "]))
    if rng.random() < 0.12:
        pre.append(rng.choice(V.FILLERS) + rng.choice([" ", ", ", " "]))
    if imperative and rng.random() < 0.3:
        p = rng.choice(V.POLITE_PRE)
        pre.append(p + " ")
    if rng.random() < 0.15:
        post.append(rng.choice([" ", ", "]) + rng.choice(V.POLITE_POST))
    return "".join(pre) + text + "".join(post)


# --------------------------------------------------------------------------- utterance from a template


def realize(templates_imp: list[str], templates_other: list[str], slots: dict, rng: random.Random,
            required: set[str] | None = None, implied: dict | None = None):
    """Expand a template, fill slots -> (raw text, {arg: (surface, value)}) or None."""
    for _ in range(20):
        imperative = bool(templates_imp) and (not templates_other or rng.random() < 0.6)
        tpl = rng.choice(templates_imp if imperative else templates_other)
        text = T.expand(tpl, rng)
        names = T.slots_in(text)
        if any(n not in slots for n in names):
            raise KeyError("template %r uses unknown slot among %r" % (tpl, names))
        args_present = {slots[n][0] for n in names}
        if required and not required <= args_present:
            continue
        return text, names, imperative
    return None


def fill_template(text: str, names: list[str], slots: dict, rng: random.Random):
    """Fill the slots -> (utterance, {arg: value}, span_args). Slots of the same argument become one span
    (from the first slot's start to the last one's end); string values equal to their surface are spans."""
    out, i = "", 0
    pieces = []  # (slot, start, end, value)
    for m in re.finditer(r"\{(\w+)\}", text):
        out += text[i:m.start()]
        surf, val = slots[m.group(1)][1](rng)
        start = len(out)
        out += surf
        pieces.append((m.group(1), start, len(out), val, surf))
        i = m.end()
    out += text[i:]
    spans, values = {}, {}
    for n, s, e, val, surf in pieces:
        arg = slots[n][0]
        if arg in spans:
            spans[arg] = (spans[arg][0], e)
            values.pop(arg, None)
        elif isinstance(val, str) and val == surf and not getattr(slots[n][1], "enum", None):
            spans[arg] = (s, e)
        else:
            values[arg] = val
    args = {a: out[s:e] for a, (s, e) in spans.items() if a not in values}
    args.update(values)
    args = {a: v for a, v in args.items() if not a.startswith("_")}  # "_origin": said, but no argument
    return out, args, set(spans) - set(values)


_MODE_WORDS = [
    (re.compile(r"\b(walk|walking|on foot)\b"), "walking"),
    (re.compile(r"\b(drive|driving)\b"), "driving"),
    (re.compile(r"\b(bike|cycle|cycling|biking)\b"), "cycling"),
    (re.compile(r"\b(bus|train|transit|public transport|subway)\b"), "transit"),
]


def implied_mode(template_text: str) -> str | None:
    bare = re.sub(r"\{\w+\}", " ", template_text)
    for rx, mode in _MODE_WORDS:
        if rx.search(bare):
            return mode
    return None


def style_sample(query: str, args: dict, rng: random.Random, imperative: bool, question: bool,
                 span_args: set[str] | None = None):
    """Wrap and style; span values follow the same transformation. None when a value got lost."""
    q = wrap(query, rng, imperative)
    f, kind = make_style(rng)
    q2 = f(q)
    new_args = {}
    for k, v in args.items():
        if isinstance(v, str) and (span_args is None or k in span_args):
            v2 = f(v)
            if not v2 or v2 not in q2:
                return None
            new_args[k] = v2
        else:
            new_args[k] = v
    if kind == "typed" and rng.random() < 0.12:
        # names typed the way they appear in a home app: "Kitchen Light", "Movie Night"
        for k, v in list(new_args.items()):
            if (span_args is None or k in span_args) and isinstance(v, str) and len(v) > 2 and v in q2 \
                    and k not in ("time", "duration", "day", "text"):
                t = v.title().replace("'S", "'s")
                q2 = q2.replace(v, t, 1)
                new_args[k] = t
    if kind == "typed":
        q2 = finish_typed(q2, rng, question)
        for k, v in new_args.items():
            if (span_args is None or k in span_args) and isinstance(v, str) and v not in q2 \
                    and q2.startswith(v[:1].upper() + v[1:]):
                new_args[k] = v[:1].upper() + v[1:]  # the span as typed, capital included
    return q2, new_args


def is_question(text: str) -> bool:
    return text.split(" ", 1)[0] in _QWORDS


# --------------------------------------------------------------------------- catalogue utterances


def catalogue_utterance(tool: str, rng: random.Random, base: dict):
    """base: the tool's declaration as in tools.json (required set, argument order)."""
    decl = base
    spec = C.TOOLS[tool]
    req = set(decl["parameters"].get("required", []))
    for _ in range(10):
        r = realize(spec["imperative"], spec["templates"], spec["slots"], rng, req)
        if r is None:
            return None
        text, names, imperative = r
        filled, args, span_args = fill_template(text, names, spec["slots"], rng)
        if tool in ("navigate", "travel_time") and "mode" not in args:
            m = implied_mode(text)
            if m:
                args["mode"] = m
        styled = style_sample(filled, args, rng, imperative, is_question(filled), span_args)
        if styled is None:
            continue
        q, a = styled
        return q, order_args(a, decl)
    return None


def order_args(args: dict, decl: dict) -> dict:
    props = list(decl["parameters"].get("properties", {}).keys())
    return {k: args[k] for k in sorted(args, key=lambda k: props.index(k) if k in props else 99)}


# --------------------------------------------------------------------------- synthetic frames


def instantiate_frame(frame: dict, rng: random.Random):
    """A declaration with randomly chosen name/description/parameter names, and the rename map."""
    name = rng.choice(frame["names"])
    desc = rng.choice(frame["descs"])
    rename = {}
    props = {}
    required = []
    for pname, spec in frame["params"].items():
        new = pname if not spec["alts"] or rng.random() < 0.6 else rng.choice(spec["alts"])
        rename[pname] = new
        typ = spec["type"]
        p = {"type": typ}
        gen = spec["gen"]
        if getattr(gen, "enum", None):
            p["enum"] = list(gen.enum)
        if rng.random() < 0.9:
            p["description"] = rng.choice(spec["descs"])
        props[new] = p
        if spec["required"]:
            required.append(new)
    decl = {"name": name, "description": desc, "parameters": {"type": "object", "properties": props, "required": required}}
    return decl, rename


def frame_utterance(frame: dict, decl: dict, rename: dict, rng: random.Random):
    slots = {p: (rename[p], spec["gen"]) for p, spec in frame["params"].items()}
    required = set(decl["parameters"]["required"])
    templates = frame["templates"]
    for _ in range(10):
        r = realize([], templates, slots, rng, required)
        if r is None:
            return None
        text, names, _ = r
        filled, args, span_args = fill_template(text, names, slots, rng)
        styled = style_sample(filled, args, rng, False, is_question(filled), span_args)
        if styled:
            q, a = styled
            return q, order_args(a, decl)
    return None


FRAME_BY_NAME = {f["names"][0]: f for f in S.FRAMES}


# --------------------------------------------------------------------------- the sample builder


class Builder:
    def __init__(self, seed: int, plugin_files: list[Path] | None = None):
        self.rng = random.Random(seed)
        self.catalogue = load_catalogue()
        self.cat_by_name = {d["name"]: d for d in self.catalogue}
        self.plugins = []  # (decl, [(query, args)]) from plugin declaration files
        for pf in plugin_files or []:
            self.plugins += load_plugin_examples(pf)

    # ---- prompt assembly
    def _k(self) -> int:
        r = self.rng.random()
        if r < 0.035:
            return 18
        return self.rng.choice([1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 8, 8])

    def _distractors(self, n: int, exclude: set[str], focus: str | None = None) -> list[dict]:
        rng = self.rng
        out: list[dict] = []
        names = set(exclude)
        cat = [d for d in self.catalogue if d["name"] not in names]
        attempts = 0
        while len(out) < n and attempts < 100:
            attempts += 1
            r = rng.random()
            if focus and r < 0.35:
                pool = [d for d in cat if PLUGIN_OF.get(d["name"]) == PLUGIN_OF.get(focus) and d["name"] not in names]
                if not pool:
                    continue
                d = rng.choice(pool)
            elif r < 0.72:
                pool = [d for d in cat if d["name"] not in names]
                if not pool:
                    continue
                d = rng.choice(pool)
            elif r < 0.92 or not self.plugins:
                if rng.random() < 0.75:
                    f = rng.choice(S.FRAMES)
                    if f["names"][0] in self._frame_excl:
                        continue
                    d, _ = instantiate_frame(f, rng)
                else:
                    d, _ = S.random_tool(rng)
            else:
                d = rng.choice(self.plugins)[0]
            if d["name"] in names:
                continue
            names.add(d["name"])
            out.append(vary_decl(d, rng, 0.2) if d["name"] in self.cat_by_name else d)
        return out

    def _prompt(self, main: list[dict], exclude: set[str], focus: str | None, k: int | None = None) -> list[dict]:
        k = k or self._k()
        if k == 18:
            tools = [vary_decl(d, self.rng, 0.1) for d in self.catalogue if d["name"] not in exclude]
            tools = [t for t in tools if t["name"] not in {m["name"] for m in main}] + main
            extra = self.rng.choice([0, 0, 0, 1, 2])
            tools += self._distractors(extra, exclude | {t["name"] for t in tools})
        else:
            tools = main + self._distractors(max(0, k - len(main)), exclude | {m["name"] for m in main}, focus)
        self.rng.shuffle(tools)
        return tools

    # ---- sample kinds
    def catalogue_positive(self):
        rng = self.rng
        tool = rng.choices(list(C.TOOLS), weights=[TOOL_WEIGHTS.get(t, 1.0) for t in C.TOOLS])[0]
        decl = vary_decl(self.cat_by_name[tool], rng, 0.25)
        u = catalogue_utterance(tool, rng, self.cat_by_name[tool])
        if u is None:
            return None
        q, args = u
        self._frame_excl = set()
        if rng.random() < 0.35:
            tools = self._retrieval_like([decl], {tool}, tool)
        else:
            tools = self._prompt([decl], {tool}, tool)
        return sample(q, tools, [{"name": tool, "arguments": args}], "catalogue", decl)

    def _retrieval_like(self, main: list[dict], names: set[str], focus: str | None, k: int = 8) -> list[dict]:
        """What the engine's top-8 retrieval puts in front of the model: catalogue tools only, the ones
        closest to the request first (same plugin, confusable neighbours), then others."""
        rng = self.rng
        near = [d for d in self.catalogue if d["name"] not in names and focus and
                (d["name"] in CONFUSABLE.get(focus, set()) or PLUGIN_OF[d["name"]] == PLUGIN_OF.get(focus))]
        far = [d for d in self.catalogue if d["name"] not in names and d not in near]
        rng.shuffle(near)
        rng.shuffle(far)
        n_near = min(len(near), rng.randint(len(near) // 2, len(near))) if near else 0
        picked = near[:n_near] + far
        tools = list(main) + [vary_decl(d, rng, 0.1) for d in picked[:max(0, k - len(main))]]
        rng.shuffle(tools)
        return tools

    def catalogue_undeclared(self):
        rng = self.rng
        tool = rng.choice(list(C.TOOLS))
        decl = self.cat_by_name[tool]
        u = catalogue_utterance(tool, rng, decl)
        if u is None:
            return None
        q, _ = u
        excl = {tool} | CONFUSABLE.get(tool, set())
        self._frame_excl = set()
        k = self.rng.choice([1, 2, 3, 4, 5, 6, 7, 8])
        tools = self._distractors(k, excl, tool)
        if not tools:
            return None
        self.rng.shuffle(tools)
        return sample(q, tools, [], "neg_undeclared", None)

    def frame_positive(self):
        rng = self.rng
        f = rng.choice(S.FRAMES)
        decl, rename = instantiate_frame(f, rng)
        u = frame_utterance(f, decl, rename, rng)
        if u is None:
            return None
        q, args = u
        self._frame_excl = {f["names"][0]}
        tools = self._prompt([decl], {decl["name"]}, None)
        if rng.random() < 0.1:
            decl2 = to_flat(decl)
            tools = [decl2 if t is decl else t for t in tools]
        return sample(q, tools, [{"name": decl["name"], "arguments": args}], "frame", decl)

    def frame_undeclared(self):
        rng = self.rng
        f = rng.choice(S.FRAMES)
        decl, rename = instantiate_frame(f, rng)
        u = frame_utterance(f, decl, rename, rng)
        if u is None:
            return None
        self._frame_excl = {f["names"][0]}
        tools = self._distractors(rng.choice([1, 2, 3, 4, 5, 6, 8]), set(), None)
        rng.shuffle(tools)
        return sample(u[0], tools, [], "neg_frame_undeclared", None)

    def random_positive(self):
        rng = self.rng
        decl, utter = S.random_tool(rng)
        text, args = utter(rng)
        props = decl["parameters"]["properties"]
        spans = {k for k, v in args.items() if isinstance(v, str) and "enum" not in props[k]}
        styled = style_sample(text, args, rng, False, False, spans)
        if styled is None:
            return None
        q, args = styled
        self._frame_excl = set()
        tools = self._prompt([decl], {decl["name"]}, None, k=rng.choice([1, 2, 3, 4, 5, 6]))
        if rng.random() < 0.1:
            flat = to_flat(decl)
            tools = [flat if t is decl else t for t in tools]
        return sample(q, tools, [{"name": decl["name"], "arguments": order_args(args, decl)}], "random", decl)

    def negative(self):
        rng = self.rng
        cat = rng.choices(list(N.CATS), weights=[N.CATEGORY_WEIGHTS[c] for c in N.CATS])[0]
        tpls, conflicts = N.CATS[cat]
        text = N.fill_slots(T.expand(rng.choice(tpls), rng), rng)
        styled = style_sample(text, {}, rng, False, is_question(text))
        if styled is None:
            return None
        self._frame_excl = set(conflicts)
        k = self._k()
        if k == 18:
            tools = [vary_decl(d, rng, 0.1) for d in self.catalogue]
        elif rng.random() < 0.35:  # the daemon's situation: 8 catalogue tools picked by retrieval
            tools = self._retrieval_like([], set(), rng.choice(list(C.TOOLS)))
        else:
            tools = self._distractors(k, set(), None)
        rng.shuffle(tools)
        return sample(styled[0], tools, [], "neg_" + cat, None)

    def multi(self):
        """Two catalogue requests in one utterance -> two calls (rare)."""
        rng = self.rng
        t1, t2 = rng.sample([t for t in C.TOOLS if PLUGIN_OF[t] == "smarthome"] + ["set_timer", "set_alarm", "navigate"], 2)
        d1, d2 = self.cat_by_name[t1], self.cat_by_name[t2]
        u1 = catalogue_utterance(t1, rng, d1)
        u2 = catalogue_utterance(t2, rng, d2)
        if not u1 or not u2:
            return None
        q1 = u1[0].rstrip(".?!")
        q2 = u2[0].rstrip(".?!")
        a2 = dict(u2[1])
        if q2[:1].isupper() and q2[1:2].islower():
            for k, v in a2.items():
                if isinstance(v, str) and q2.startswith(v):
                    a2[k] = v[:1].lower() + v[1:]
            q2 = q2[:1].lower() + q2[1:]
        u2 = (q2, a2)
        q = q1 + rng.choice([" and ", " and then ", ", and ", " then "]) + q2
        self._frame_excl = set()
        tools = self._prompt([d1, d2], {t1, t2}, t1)
        return sample(q, tools, [{"name": t1, "arguments": u1[1]}, {"name": t2, "arguments": u2[1]}], "multi", None)

    def plugin_positive(self):
        rng = self.rng
        if not self.plugins:
            return None
        decl, exs = rng.choice(self.plugins)
        if not exs:
            return None
        text, args = rng.choice(exs)
        props = decl.get("parameters", {}).get("properties", {})
        spans = {k for k, v in args.items() if isinstance(v, str) and "enum" not in props.get(k, {}) and v in text}
        styled = style_sample(text, args, rng, False, is_question(text), spans)
        if styled is None:
            return None
        self._frame_excl = set()
        tools = self._prompt([decl], {decl["name"]}, None)
        return sample(styled[0], tools, [{"name": decl["name"], "arguments": order_args(styled[1], decl)}], "plugin", decl)

    def plugin_undeclared(self):
        rng = self.rng
        if not self.plugins:
            return None
        decl, exs = rng.choice(self.plugins)
        if not exs:
            return None
        text, _ = rng.choice(exs)
        styled = style_sample(text, {}, rng, False, is_question(text))
        self._frame_excl = set()
        excl = {decl["name"]} | {d["name"] for d, _ in self.plugins}
        tools = self._distractors(rng.choice([1, 2, 3, 4, 5, 6]), excl | set(C.TOOLS), None)
        rng.shuffle(tools)
        return sample(styled[0], tools, [], "neg_plugin_undeclared", None) if styled else None

    MIX = [("catalogue_positive", 0.44), ("frame_positive", 0.13), ("random_positive", 0.07), ("multi", 0.015),
           ("negative", 0.17), ("catalogue_undeclared", 0.08), ("frame_undeclared", 0.04),
           ("plugin_positive", 0.03), ("plugin_undeclared", 0.01)]

    def one(self) -> dict:
        mix = self.MIX if self.plugins else [(k, w) for k, w in self.MIX if not k.startswith("plugin")]
        while True:
            kind = self.rng.choices([k for k, _ in mix], weights=[w for _, w in mix])[0]
            self._frame_excl = set()
            s = getattr(self, kind)()
            if s is not None:
                return s


TOOL_WEIGHTS = {"set_reminder": 1.4, "set_alarm": 1.3, "turn_on": 1.3, "turn_off": 1.3, "set_light": 1.3,
                "set_timer": 1.2, "navigate": 1.2, "travel_time": 1.2, "set_temperature": 1.0, "cancel_alarm": 1.0,
                "stop_navigation": 0.6, "lock": 0.7, "unlock": 0.7, "timer_status": 0.9, "cancel_timer": 0.9}


def sample(query: str, tools: list[dict], answer: list[dict], kind: str, retrieval: dict | None) -> dict:
    return {"query": query, "tools": tools, "answer": answer, "kind": kind, "retrieval": retrieval}


# --------------------------------------------------------------------------- plugin examples


def label_example(decl: dict, ex) -> tuple[str, dict] | None:
    """A plugin example -> (utterance, arguments).

    An example is either `{"query": ..., "arguments": {...}}` (labelled) or a plain string, labelled here
    only from what is certain: enum values said verbatim, and the single number of a tool with a single
    numeric parameter. A plain example whose required arguments cannot be labelled is skipped.
    """
    params = decl.get("parameters", {})
    props = params.get("properties", {})
    required = set(params.get("required", []))
    if isinstance(ex, dict):
        return ex["query"], dict(ex.get("arguments", {}))
    text = str(ex)
    args = {}
    low = text.lower()
    numeric = [k for k, v in props.items() if v.get("type") in ("integer", "number")]
    for k, v in props.items():
        for e in v.get("enum", []) or []:
            if isinstance(e, str) and re.search(r"\b%s\b" % re.escape(e.lower()), low):
                args[k] = e
                break
    nums = re.findall(r"\b\d+(?:\.\d+)?\b", text)
    if len(numeric) == 1 and len(nums) == 1:
        n = float(nums[0])
        args[numeric[0]] = int(n) if props[numeric[0]].get("type") == "integer" or n == int(n) else n
    if not required <= set(args):
        return None
    return text, args


def load_plugin_examples(path: Path) -> list[tuple[dict, list[tuple[str, dict]]]]:
    raw = json.loads(Path(path).read_text())
    if isinstance(raw, dict):
        raw = raw.get("tools", [])
    out = []
    for t in raw:
        decl = load_declarations_from_obj(t)
        exs = [e for e in (label_example(decl, x) for x in t.get("examples", [])) if e]
        out.append((decl, exs))
    return out


def load_declarations_from_obj(t: dict) -> dict:
    d = {"name": t["name"]}
    if "description" in t:
        d["description"] = t["description"]
    d["parameters"] = t.get("parameters", {"type": "object", "properties": {}, "required": []})
    return d
