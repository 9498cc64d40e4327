#!/usr/bin/python3
"""Tokenise generated JSONL into the packed, xz-compressed form (needle_data.save_packed) that train.py reads
as --data FILE.pack, so that a large training set travels in a few tens of MB.

  python3 training/pack.py --tokenizer training/runs/tok/needle.model IN.jsonl OUT.pack
"""
from __future__ import annotations

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import sentencepiece as spm  # noqa: E402

from needle_data import save_packed, tokenize_file  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("src")
    ap.add_argument("dst")
    args = ap.parse_args(argv)
    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    ds = tokenize_file(args.src, sp, args.tokenizer)
    save_packed(ds, args.dst)
    print(f"packed {len(ds)} samples into {args.dst} ({os.path.getsize(args.dst) / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
