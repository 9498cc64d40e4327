#!/usr/bin/python3
"""Make (or reuse) a random-weight Needle model directory for speed benches: speed does not depend on values.

  python3 training/make_random_model.py --out DIR [--quant int8|int4|fp32] [--shape needle-26m] [--seed 0]
      [--tokenizer X.model]

The directory is rebuilt only when the exporter's code or the arguments changed (a stamp file records a hash of
both), so `npm run bench` pays the export once. Prints the directory on stdout.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from export import main as export_main  # noqa: E402

STAMP = ".needled-random-model"
SOURCES = ["export.py", "make_random_model.py", "needle/onnx_graphs.py", "needle/random_weights.py",
           "needle/config.py", "needle/tree.py"]


def fingerprint(args: list[str]) -> str:
    h = hashlib.sha256("\0".join(args).encode())
    for rel in SOURCES:
        with open(os.path.join(HERE, rel), "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--quant", choices=["int8", "int4", "fp32"], default="int8")
    p.add_argument("--shape", default="needle-26m")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tokenizer", default=None)
    p.add_argument("--force", action="store_true")
    a = p.parse_args(argv)
    export_args = ["--random", "--shape", a.shape, "--seed", str(a.seed), "--quant", a.quant, "--out", a.out,
                   "--name", f"random-{a.shape}-{a.quant}"]
    if a.tokenizer:
        export_args += ["--tokenizer", a.tokenizer]
    fp = fingerprint(export_args)
    stamp = os.path.join(a.out, STAMP)
    if not a.force and os.path.isfile(stamp) and open(stamp).read().strip() == fp:
        print(a.out)
        return 0
    rc = export_main(export_args)
    if rc != 0:
        return rc
    with open(stamp, "w") as f:
        f.write(fp + "\n")
    print(a.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
