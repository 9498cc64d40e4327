"""python3 -m datagen --seed 1 --n 200000 --out data/train.jsonl [--plugin tools.json ...]  (run from training/)"""
from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

from . import novel as N
from .generate import Builder


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Generate Needle training samples (JSONL).")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--plugin", type=Path, action="append", default=[],
                    help="a declarations file (tools.json) whose `examples` become extra training data")
    ap.add_argument("--eval-format", action="store_true",
                    help="write catalogue-only items in the eval format ({id, query, expected}) for pipeline checks")
    ap.add_argument("--novel", type=float, default=0.3,
                    help="share of catalogue names, places and reminder texts made of general words the vocabularies "
                         "lack, so that the model learns to copy them (0: the vocabularies only, as for train5)")
    args = ap.parse_args(argv)
    N.rate = args.novel
    b = Builder(args.seed, args.plugin)
    if args.eval_format:
        return write_eval(b, args)
    kinds = collections.Counter()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(args.out.suffix + ".tmp")
    with tmp.open("w") as f:
        for _ in range(args.n):
            s = b.one()
            kinds[s["kind"]] += 1
            f.write(json.dumps(s, separators=(",", ":")) + "\n")
    tmp.replace(args.out)
    neg = sum(v for k, v in kinds.items() if k.startswith("neg"))
    print("wrote %d samples to %s (negatives %.1f%%)" % (args.n, args.out, 100.0 * neg / max(1, args.n)), file=sys.stderr)
    for k, v in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print("  %-28s %6d" % (k, v), file=sys.stderr)
    return 0


def write_eval(b: Builder, args) -> int:
    """Synthetic items answered against the whole built-in catalogue: catalogue requests and generic negatives."""
    n = 0
    with args.out.open("w") as f:
        while n < args.n:
            kind = b.rng.random()
            b._frame_excl = set()
            s = b.catalogue_positive() if kind < 0.78 else b.negative()
            if s is None or s["kind"] == "multi":
                continue
            f.write(json.dumps({"id": "gen:%d" % n, "query": s["query"], "expected": s["answer"],
                                "source": "generated"}) + "\n")
            n += 1
    print("wrote %d eval-format items to %s" % (n, args.out), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
