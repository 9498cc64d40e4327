#!/usr/bin/python3
"""Check training/heldout/heldout.jsonl and prove that the scorer reads its values.

Usage (from the repository root):
    /usr/bin/python3 training/heldout/validate.py [--set PATH] [--score PATH] [--write-predictions PATH]

Checks, each failure printed with the item id:
  * every line parses, has exactly id/query/expected/source, ids are heldout:<n> and unique,
    source is "heldout", queries are unique, expected holds at most one call;
  * calls name a tool of tools/*/tools.json and their arguments satisfy its JSON schema
    (types, enum, required, minimum/maximum, no unknown arguments);
  * every string argument is a span of the query (case-insensitive); every number is stated
    in the query (digits or words, as score.py reads number words);
  * every duration parses to seconds and every set_alarm/cancel_alarm time parses to a clock time
    with score.py's own parsers; a set_reminder time parses as a clock time or an offset, or is
    listed as a day/period phrase (matched by the string rule);
  * scoring, with score.py's own scoring code:
      - the expected calls used as predictions score 100%;
      - predictions with every value rewritten in another form (durations as "<n> seconds",
        clock times as "H:MM am/pm", numbers as "<n> percent"/"<n> degrees", strings with "the"
        and "'s" noise) score 100%;
      - predictions with every parsed duration/time shifted (+1 minute / +1 hour) score 0% on
        those items, so the 100% above comes from parsing, not from string equality.
--write-predictions PATH writes the expected calls as a predictions file, for
    /usr/bin/python3 /work/shared/eval/score.py training/heldout/heldout.jsonl PATH
Exit status 0 when everything holds, 1 otherwise. Prints the counts per tool.
"""
import argparse
import collections
import glob
import importlib.util
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load_score(path):
    spec = importlib.util.spec_from_file_location("needled_score", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_tools():
    tools = {}
    for path in sorted(glob.glob(os.path.join(ROOT, "tools", "*", "tools.json"))):
        with open(path, encoding="utf-8") as f:
            for t in json.load(f):
                tools[t["name"]] = t
    return tools


def schema_errors(tool, args):
    params = tool["parameters"]
    props = params.get("properties", {})
    errs = ["missing required %r" % r for r in params.get("required", []) if r not in args]
    for k, v in args.items():
        if k not in props:
            errs.append("unknown argument %r" % k)
            continue
        p = props[k]
        t = p.get("type")
        if t == "string" and not isinstance(v, str):
            errs.append("%s: not a string" % k)
        if t == "integer" and (isinstance(v, bool) or not isinstance(v, int)):
            errs.append("%s: not an integer" % k)
        if t == "number" and (isinstance(v, bool) or not isinstance(v, (int, float))):
            errs.append("%s: not a number" % k)
        if "enum" in p and v not in p["enum"]:
            errs.append("%s: %r not in enum" % (k, v))
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if "minimum" in p and v < p["minimum"]:
                errs.append("%s: below minimum" % k)
            if "maximum" in p and v > p["maximum"]:
                errs.append("%s: above maximum" % k)
        if isinstance(v, str) and not v.strip():
            errs.append("%s: empty string" % k)
    return errs


# set_reminder times that are days or periods, not clock times or offsets: the scorer
# compares these with its string rule, so they need no parse.
PERIOD_WORDS = re.compile(r"\b(tonight|today|tomorrow|morning|evening|afternoon|lunch|week|month|monday|tuesday|"
                          r"wednesday|thursday|friday|saturday|sunday|\d+(st|nd|rd|th))\b", re.I)

# `mode` is an enum: the value is evidenced by a word of the query, not a span.
MODE_WORDS = {
    "walking": r"\b(walk|walking|on foot)\b",
    "cycling": r"\b(cycle|cycling|bike|biking)\b",
    "driving": r"\b(drive|driving|car)\b",
    "transit": r"\b(train|tube|bus|subway|public transport|transit)\b",
}


def number_stated(score, n, query):
    q = score.words_to_numbers(re.sub(r"\bpoint\b", ".", query.lower()))
    q = re.sub(r"(\d) \. (\d)", r"\1.\2", q)
    nums = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", q)]
    if float(n) in nums:
        return True
    if float(n) == 100 and re.search(r"\b(a|one) hundred\b", query.lower()):
        return True
    # "twenty one and a half" -> 21.5
    return bool(re.search(r"\b%d and a half\b" % int(n), q)) and float(n) - int(n) == 0.5


def fmt_clock(c):
    h, m, known = c
    if not known:
        return "%d:%02d" % (h, m)
    ampm = "am" if h < 12 else "pm"
    return "%d:%02d %s" % (h % 12 or 12, m, ampm)


def rewrite(score, name, arg, v):
    """The same value said another way (must still match)."""
    if arg == "duration":
        d = score.parse_duration(v)
        return v if d is None else "%d seconds" % round(d)
    if arg == "time":
        c = score.parse_clock(v)
        if c is not None:
            return fmt_clock(c)
        d = score.parse_duration(v)
        if d is not None:
            return "in %d seconds" % round(d)
        return "the " + v
    if arg == "brightness" and isinstance(v, (int, float)):
        return "%d percent" % v
    if arg == "temperature" and isinstance(v, (int, float)):
        return "%g degrees" % v
    if arg == "mode":
        return v
    return "the " + v


def shift(score, arg, v):
    """The value moved by a minute or an hour (must no longer match); None when not parsed."""
    if arg == "duration":
        d = score.parse_duration(v)
        return None if d is None else "%d seconds" % (round(d) + 60)
    if arg == "time":
        c = score.parse_clock(v)
        if c is not None:
            h, m, known = c
            return fmt_clock(((h + 1) % (24 if known else 12) or (0 if known else 12), m, known))
        d = score.parse_duration(v)
        if d is not None:
            return "in %d seconds" % (round(d) + 60)
    return None


def predictions(items, value_fn):
    out = []
    for it in items:
        calls = []
        for c in it["expected"]:
            calls.append({"name": c["name"], "arguments": {k: value_fn(c["name"], k, v) for k, v in c["arguments"].items()}})
        out.append({"id": it["id"], "calls": calls})
    return out


def score_preds(score, items, preds):
    by_id = {p["id"]: p for p in preds}
    return [score.score_record(it, by_id.get(it["id"])) for it in items]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", default=os.path.join(HERE, "heldout.jsonl"))
    ap.add_argument("--score", default="/work/shared/eval/score.py")
    ap.add_argument("--write-predictions")
    a = ap.parse_args(argv)
    score = load_score(a.score)
    tools = load_tools()
    errors = []
    items = []
    with open(a.set, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                errors.append("line %d: blank line" % ln)
                continue
            try:
                items.append(json.loads(line))
            except ValueError as e:
                errors.append("line %d: bad JSON (%s)" % (ln, e))

    seen_ids, seen_q = set(), set()
    reminder_periods = []
    for n, it in enumerate(items, 1):
        iid = it.get("id")
        where = "%s" % iid
        if set(it) != {"id", "query", "expected", "source"}:
            errors.append("%s: keys %s" % (where, sorted(it)))
        if iid != "heldout:%d" % n:
            errors.append("%s: expected id heldout:%d" % (where, n))
        if iid in seen_ids:
            errors.append("%s: duplicate id" % where)
        seen_ids.add(iid)
        q = it.get("query")
        if not isinstance(q, str) or not q.strip():
            errors.append("%s: empty query" % where)
            continue
        if q.lower() in seen_q:
            errors.append("%s: duplicate query" % where)
        seen_q.add(q.lower())
        if it.get("source") != "heldout":
            errors.append("%s: source %r" % (where, it.get("source")))
        exp = it.get("expected")
        if not isinstance(exp, list) or len(exp) > 1:
            errors.append("%s: expected must be a list of at most one call" % where)
            continue
        for c in exp:
            name, args = c.get("name"), c.get("arguments")
            if set(c) != {"name", "arguments"} or not isinstance(args, dict):
                errors.append("%s: malformed call %r" % (where, c))
                continue
            if name not in tools:
                errors.append("%s: unknown tool %r" % (where, name))
                continue
            errors += ["%s: %s" % (where, e) for e in schema_errors(tools[name], args)]
            errors += ["%s: %s" % (where, e) for e in score.validate_call(score.CATALOGUE_TOOLS, c)]
            for k, v in args.items():
                if k == "mode":
                    if not re.search(MODE_WORDS.get(v, r"$^"), q, re.I):
                        errors.append("%s: mode %r not evidenced by a word of the query" % (where, v))
                elif isinstance(v, str):
                    if v.lower() not in q.lower():
                        errors.append("%s: %s=%r is not a span of the query" % (where, k, v))
                elif not number_stated(score, v, q):
                    errors.append("%s: %s=%r is not stated in the query" % (where, k, v))
                if k == "duration" and score.parse_duration(v) is None:
                    errors.append("%s: duration %r does not parse" % (where, v))
                if k == "time" and name in ("set_alarm", "cancel_alarm") and score.parse_clock(v) is None:
                    errors.append("%s: clock time %r does not parse" % (where, v))
                if k == "time" and name == "set_reminder":
                    if score.parse_clock(v) is None and score.parse_duration(v) is None:
                        if PERIOD_WORDS.search(v):
                            reminder_periods.append(v)
                        else:
                            errors.append("%s: reminder time %r neither parses nor is a day/period" % (where, v))

    ident = predictions(items, lambda name, k, v: v)
    if a.write_predictions:
        with open(a.write_predictions, "w", encoding="utf-8") as f:
            for p in ident:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")

    for label, preds in (("identity", ident),
                         ("rewritten values", predictions(items, lambda name, k, v: rewrite(score, name, k, v)))):
        bad = [r["id"] for r in score_preds(score, items, preds) if not r["correct"]]
        if bad:
            errors.append("%s predictions: %d item(s) scored wrong: %s" % (label, len(bad), ", ".join(bad[:20])))
        else:
            print("%-18s predictions: %d/%d correct" % (label, len(items), len(items)))

    shifted_items = [it for it in items if it["expected"] and any(
        shift(score, k, v) is not None for k, v in it["expected"][0]["arguments"].items())]
    shifted = predictions(shifted_items, lambda name, k, v: shift(score, k, v) or v)
    still_ok = [r["id"] for r in score_preds(score, shifted_items, shifted) if r["correct"]]
    if still_ok:
        errors.append("shifted durations/times still scored correct: %s" % ", ".join(still_ok[:20]))
    else:
        print("%-18s predictions: 0/%d correct (as they must be)" % ("shifted times", len(shifted_items)))

    counts = collections.Counter(it["expected"][0]["name"] if it["expected"] else "(negative)" for it in items)
    print("\nitems %d, positives %d, negatives %d (%.1f%%)" % (
        len(items), len(items) - counts["(negative)"], counts["(negative)"], 100.0 * counts["(negative)"] / max(1, len(items))))
    for name in list(tools) + ["(negative)"]:
        print("  %-16s %4d" % (name, counts.get(name, 0)))
    missing = [t for t in tools if counts.get(t, 0) == 0]
    if missing:
        errors.append("tools without items: %s" % ", ".join(missing))
    if reminder_periods:
        print("\nset_reminder times matched by the string rule: %s" % ", ".join(sorted(set(reminder_periods))))
    if errors:
        print("\n%d problem(s):" % len(errors))
        for e in errors:
            print("  " + e)
        return 1
    print("\nok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BrokenPipeError:
        sys.exit(0)
