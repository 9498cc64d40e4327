#!/usr/bin/python3
"""Choose a model's abstention floors (config.json `decision.min_confidence` and `decision.min_tool_similarity`,
src/engine/abstain.ts).

  /usr/bin/python3 training/calibrate.py --model models/default --data training/data/gen-check.jsonl \
      --similarity-data training/data/val.jsonl

Runs the shipped engine (`node dist/src/cli.js predict --batch`, so `npm run build` first) on a *generated* check
set with abstaining off, then picks the floor from a grid that maximises call accuracy + refusal accuracy there
(the two numbers the project's targets are set on: right calls, and no action on requests no tool serves) and
writes it into the model's config.json. Never run it on the dev or held-out sets: the floor
would then be tuned on the data it is measured with.

The tool-similarity floor is a recall rule, not a score maximum (the generated negatives no longer show the
decoder's mistakes, so maximising on them would pick no floor): the similarity (retrieval head, query to the
called tool) that SIMILARITY_KEEP of the right single calls reach, over --data (the installed catalogue) and the
--similarity-data sets (training-format lines with their own 1-8 tools and `answer`: plugin-like tools too).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIMILARITY_KEEP = 0.99   # the similarity floor keeps this share of the right single calls
MIN_SIMILARITY_SAMPLES = 200
GRID = [0.0, 0.005, 0.01, 0.015, 0.02, 0.03, 0.04, 0.05, 0.06, 0.08, 0.1, 0.12, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5]


def floor_scores(predictions: list[dict], data: str, scorer: str, grid: list[float]) -> list[dict]:
    """The scorer's summary for each floor: predictions below it lose their calls."""
    out = []
    for floor in grid:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
            for p in predictions:
                q = dict(p)
                if q.get("calls") and q.get("confidence", 1.0) < floor:
                    q["calls"] = []
                f.write(json.dumps(q) + "\n")
        try:
            r = subprocess.run([sys.executable, scorer, data, f.name, "--json"], capture_output=True, text=True, check=True)
        finally:
            os.unlink(f.name)
        s = json.loads(r.stdout)
        out.append({"min_confidence": floor, "score": round(s["call_accuracy"] + s["refusal_accuracy"], 4),
                    "call_accuracy": round(s["call_accuracy"], 4),
                    "refusal_accuracy": round(s["refusal_accuracy"], 4),
                    "positive_call_accuracy": round(s["positive_call_accuracy"], 4)})
    return out


def expected_calls(item: dict) -> list | None:
    """The expected calls of an eval-format (`expected`) or training-format (`answer`) line."""
    calls = item.get("expected", item.get("answer"))
    return calls if isinstance(calls, list) else None


def right_single_call_similarities(items: list[dict], predictions: list[dict]) -> list[float]:
    """tool_similarity of each prediction that makes the one expected call's tool (name match), by line order."""
    out = []
    for item, p in zip(items, predictions):
        exp = expected_calls(item)
        calls = p.get("calls") or []
        if exp and len(exp) == 1 and len(calls) == 1 and calls[0].get("name") == exp[0].get("name") \
                and isinstance(p.get("tool_similarity"), (int, float)):
            out.append(float(p["tool_similarity"]))
    return out


def similarity_floor(similarities: list[float], keep: float = SIMILARITY_KEEP) -> float | None:
    """The largest floor (2 decimals, rounded down) that `keep` of the similarities reach; None if too few."""
    if len(similarities) < MIN_SIMILARITY_SAMPLES:
        return None
    s = sorted(similarities)
    v = s[int((1.0 - keep) * len(s))]
    return max(0.0, math.floor(v * 100) / 100)


def best(rows: list[dict]) -> dict:
    """The floor with the highest score; ties: the lower floor."""
    return max(rows, key=lambda r: (r["score"], -r["min_confidence"]))


def predict(model: str, data: str) -> list[dict]:
    """The shipped engine's predictions for every line of `data`, abstaining off, tools scored."""
    with tempfile.TemporaryDirectory() as tmp:
        pred = os.path.join(tmp, "pred.jsonl")
        subprocess.run(["node", os.path.join(ROOT, "dist", "src", "cli.js"), "predict", "--batch", data, "--model", model,
                        "--min-confidence", "0", "--min-tool-similarity", "0", "--score-tools", "--out", pred], check=True)
        return [json.loads(x) for x in open(pred) if x.strip()]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model directory whose config.json gets decision.min_confidence")
    ap.add_argument("--data", required=True, help="a generated check set (id, query, expected)")
    ap.add_argument("--similarity-data", action="append", default=[],
                    help="more generated sets (training format: query, tools, answer) for the tool-similarity floor")
    ap.add_argument("--scorer", default=os.path.join(os.path.dirname(ROOT), "shared", "eval", "score.py"))
    ap.add_argument("--dry-run", action="store_true", help="print the table, leave config.json alone")
    a = ap.parse_args(argv)
    for path in [a.data, *a.similarity_data]:
        for bad in ("shared/eval", "heldout"):
            if bad in os.path.abspath(path):
                ap.error(f"{path}: calibrate on a generated set, never on the dev or held-out sets")
    predictions = predict(a.model, a.data)
    items = [json.loads(x) for x in open(a.data) if x.strip()]
    similarities = right_single_call_similarities(items, predictions)
    for path in a.similarity_data:
        more = [json.loads(x) for x in open(path) if x.strip()]
        similarities += right_single_call_similarities(more, predict(a.model, path))
    sim_floor = similarity_floor(similarities)
    rows = floor_scores(predictions, a.data, a.scorer, GRID)
    for r in rows:
        print(json.dumps(r))
    choice = best(rows)
    print(f"chosen: min_confidence {choice['min_confidence']} (call accuracy "
          f"{choice['call_accuracy']}, refusal accuracy {choice['refusal_accuracy']} on {os.path.basename(a.data)}; "
          f"without abstaining: {rows[0]['call_accuracy']}, {rows[0]['refusal_accuracy']})", file=sys.stderr)
    sets = ", ".join(os.path.basename(p) for p in [a.data, *a.similarity_data])
    print(f"tool-similarity floor: {sim_floor} ({SIMILARITY_KEEP:.0%} of {len(similarities)} right single calls on "
          f"{sets} reach it)", file=sys.stderr)
    if not a.dry_run:
        path = os.path.join(a.model, "config.json")
        cfg = json.load(open(path))
        cfg["decision"] = {"min_confidence": choice["min_confidence"],
                           "chosen_on": f"{os.path.basename(a.data)} (generated): best call + refusal accuracy",
                           "call_accuracy": choice["call_accuracy"], "refusal_accuracy": choice["refusal_accuracy"]}
        if sim_floor is not None:
            cfg["decision"].update({
                "min_tool_similarity": sim_floor,
                "min_tool_similarity_chosen_on": f"{sets} (generated): reached by {SIMILARITY_KEEP:.0%} of "
                                                 f"{len(similarities)} right single calls"})
        tmp_path = path + ".tmp"
        with open(tmp_path, "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        os.replace(tmp_path, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
