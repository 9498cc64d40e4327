#!/usr/bin/python3
"""Choose a model's abstention floor (config.json `decision.min_confidence`, src/engine/abstain.ts).

  /usr/bin/python3 training/calibrate.py --model models/default --data training/data/gen-eval.jsonl

Runs the shipped engine (`node dist/src/cli.js predict --batch`, so `npm run build` first) on a *generated* check
set with abstaining off, then picks the floor from a grid that maximises call accuracy + refusal accuracy there
(the two numbers the project's targets are set on: right calls, and no action on requests no tool serves) and
writes it into the model's config.json. Never run it on the dev or held-out sets: the floor
would then be tuned on the data it is measured with.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
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


def best(rows: list[dict]) -> dict:
    """The floor with the highest score; ties: the lower floor."""
    return max(rows, key=lambda r: (r["score"], -r["min_confidence"]))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="model directory whose config.json gets decision.min_confidence")
    ap.add_argument("--data", required=True, help="a generated check set (id, query, expected)")
    ap.add_argument("--scorer", default=os.path.join(os.path.dirname(ROOT), "shared", "eval", "score.py"))
    ap.add_argument("--dry-run", action="store_true", help="print the table, leave config.json alone")
    a = ap.parse_args(argv)
    for bad in ("shared/eval", "heldout"):
        if bad in os.path.abspath(a.data):
            ap.error(f"--data {a.data}: calibrate on a generated set, never on the dev or held-out sets")
    with tempfile.TemporaryDirectory() as tmp:
        pred = os.path.join(tmp, "pred.jsonl")
        subprocess.run(["node", os.path.join(ROOT, "dist", "src", "cli.js"), "predict", "--batch", a.data, "--model", a.model,
                        "--min-confidence", "0", "--out", pred], check=True)
        predictions = [json.loads(x) for x in open(pred) if x.strip()]
    rows = floor_scores(predictions, a.data, a.scorer, GRID)
    for r in rows:
        print(json.dumps(r))
    choice = best(rows)
    print(f"chosen: min_confidence {choice['min_confidence']} (call accuracy "
          f"{choice['call_accuracy']}, refusal accuracy {choice['refusal_accuracy']} on {os.path.basename(a.data)}; "
          f"without abstaining: {rows[0]['call_accuracy']}, {rows[0]['refusal_accuracy']})", file=sys.stderr)
    if not a.dry_run:
        path = os.path.join(a.model, "config.json")
        cfg = json.load(open(path))
        cfg["decision"] = {"min_confidence": choice["min_confidence"],
                           "chosen_on": f"{os.path.basename(a.data)} (generated): best call + refusal accuracy",
                           "call_accuracy": choice["call_accuracy"], "refusal_accuracy": choice["refusal_accuracy"]}
        tmp_path = path + ".tmp"
        with open(tmp_path, "w") as f:
            json.dump(cfg, f, indent=2)
            f.write("\n")
        os.replace(tmp_path, path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
