#!/usr/bin/python3
"""Convert the official Needle checkpoint (needle.pkl + needle.model) into a model directory.

  python3 training/convert_checkpoint.py --checkpoint needle.pkl --tokenizer needle.model --out models/needle \\
      [--quant int8|int4|fp32] [--name NAME]

int4 is the precision Needle was trained for (INT4 fake-quant in groups of 32) and the fastest on a CPU;
int8 (the default) is closest to the float weights.

needle.pkl is a pickle {"params": nested dicts of numpy float16 (the tree of needle-v1.md), "config": {only the
keys training passed}}; missing config keys take the defaults (vocab 8192, rope_theta 10000, pad 0, ...), sizes
come from the weights' shapes. A missing key, a wrong shape or a tokenizer that does not fit is an error that
names it (exit status 2).
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from export import DEFAULT_TOP_K, ExportError, check_tokenizer, export_model_dir  # noqa: E402
from needle.checkpoint import load_pickle_checkpoint  # noqa: E402
from needle.onnx_graphs import GraphOptions  # noqa: E402
from needle.tree import CheckpointError  # noqa: E402

def convert(checkpoint: str, tokenizer: str, out: str, quant: str = "int8", name: str | None = None) -> dict:
    c, flat = load_pickle_checkpoint(checkpoint)
    check_tokenizer(tokenizer, c)
    # the exporter's default graphs (decoder I/O 3: a step hands back its 64 best logits, not the whole row)
    return export_model_dir(flat, c, out, GraphOptions(quant=quant, top_k=DEFAULT_TOP_K), tokenizer=tokenizer,
                            name=name or "needle-v1", source=os.path.basename(checkpoint))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", required=True, help="needle.pkl")
    p.add_argument("--tokenizer", required=True, help="needle.model (SentencePiece)")
    p.add_argument("--out", required=True, help="model directory to write (replaced atomically)")
    p.add_argument("--quant", choices=["int8", "int4", "fp32"], default="int8")
    p.add_argument("--name", default=None)
    a = p.parse_args(argv)
    try:
        cfg = convert(a.checkpoint, a.tokenizer, a.out, a.quant, a.name)
    except (CheckpointError, ExportError) as e:
        print(f"convert: error: {e}", file=sys.stderr)
        return 2
    print(f"convert: wrote {a.out} ({cfg['quantization']}, {cfg['architecture']['encoder_layers']}+"
          f"{cfg['architecture']['decoder_layers']} layers, d_model {cfg['architecture']['d_model']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
