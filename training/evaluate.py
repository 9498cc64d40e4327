#!/usr/bin/python3
"""Quick Python-side evaluation of a training checkpoint on an eval-format JSONL.

  /usr/bin/python3 training/evaluate.py --checkpoint training/runs/main/last.pt \
      --tokenizer training/runs/tok/needle.model --data /work/shared/eval/catalogue-dev.jsonl \
      --out training/runs/eval/catalogue-dev.pred.jsonl [--max-tools 8]

Items without `tools` get the 18 built-in declarations (tools/*/tools.json, as the daemon declares them).
With more than --max-tools declared, the retrieval head keeps the top ones (the engine's behaviour; 0 = all).
Greedy decoding with the torch model, constrained on tool names and argument keys. Writes predictions
(`{"id", "calls", "confidence", "ms"}`) and prints the scorer's JSON summary (shared/eval/score.py --json).
For measuring only: nothing here feeds back into training.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import sentencepiece as spm  # noqa: E402
import torch  # noqa: E402

from datagen.generate import load_catalogue  # noqa: E402
from needle.checkpoint import load_any  # noqa: E402
from needle.model import Needle  # noqa: E402
from needle_decode import ConstrainedDecoder, parse_calls, retrieve  # noqa: E402
from needle_prompt import encode_prompt  # noqa: E402

SCORER = "/work/shared/eval/score.py"


def load_model(path: str) -> Needle:
    cfg, flat = load_any(path)
    m = Needle(cfg)
    m.load_checkpoint_tree(flat)
    m.eval()
    return m


def predict_file(model, sp, items: list[dict], max_tools: int, batch: int, bf16: bool, log=sys.stderr) -> list[dict]:
    catalogue = load_catalogue()
    dec = ConstrainedDecoder(model, sp)
    preds = []
    t_all = time.time()
    for start in range(0, len(items), batch):
        chunk = items[start:start + batch]
        t0 = time.time()
        tools_list, enc = [], []
        for it in chunk:
            tools = it.get("tools") or catalogue
            tools = retrieve(model, sp, it["query"], tools, max_tools)
            tools_list.append(tools)
            enc.append(encode_prompt(sp, it["query"], tools))
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            outs = dec.decode_batch(enc, tools_list)
        ms = (time.time() - t0) * 1000 / len(chunk)
        for it, tools, (text, conf) in zip(chunk, tools_list, outs):
            calls = parse_calls(text, tools)
            preds.append({"id": it["id"], "calls": calls if calls is not None else [], "confidence": round(conf, 4),
                          "ms": round(ms, 1), "raw": text})
        if log:
            print(f"\r{start + len(chunk)}/{len(items)} ({time.time() - t_all:.0f}s)", end="", file=log, flush=True)
    if log:
        print(file=log)
    return preds


def score(expected: str, pred: str) -> dict:
    r = subprocess.run([sys.executable, SCORER, expected, pred, "--json"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("--checkpoint", required=True, help="training checkpoint (.pt) or needle.pkl")
    ap.add_argument("--tokenizer", required=True)
    ap.add_argument("--data", required=True, help="eval JSONL ({id, query, expected[, tools]})")
    ap.add_argument("--out", required=True, help="predictions JSONL to write")
    ap.add_argument("--max-tools", type=int, default=8, help="retrieval keeps this many tools (0: all declared)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--fp32", action="store_true", help="no bf16 autocast")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    sp = spm.SentencePieceProcessor(model_file=args.tokenizer)
    model = load_model(args.checkpoint)
    items = [json.loads(line) for line in open(args.data) if line.strip()]
    if args.limit:
        items = items[:args.limit]
    preds = predict_file(model, sp, items, args.max_tools, args.batch, not args.fp32)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        for p in preds:
            f.write(json.dumps(p) + "\n")
    expected = args.data
    if args.limit:
        expected = args.out + ".expected.jsonl"
        with open(expected, "w") as f:
            for it in items:
                f.write(json.dumps(it) + "\n")
    s = score(expected, args.out)
    keys = ["call_accuracy", "refusal_accuracy", "tool_selection_accuracy", "argument_accuracy",
            "false_call_rate_on_negatives", "unevidenced_argument_rate", "n"]
    print(json.dumps({k: s.get(k) for k in keys}))
    with open(args.out + ".summary.json", "w") as f:
        json.dump(s, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
