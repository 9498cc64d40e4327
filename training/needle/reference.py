#!/usr/bin/python3
"""Reference outputs of the PyTorch model for cross-language tests (tests/engine-onnx*.test.ts).

Reads one JSON request on stdin, writes one JSON answer on stdout:
  {"shape": "tiny" | {NeedleConfig fields}, "seed": 0,
   "export": [{"out": DIR, "quant": "fp32"|"int8"|"int4", ...GraphOptions fields}],   # model dirs to write
   "tokenizer": PATH | null,
   "cases": [{"src": [ids], "tgt": [ids]}],             # teacher-forced logits for tgt given src
   "greedy": {"max_new": 12, "no_repeat": false}}      # torch greedy (uncached, from [eos]) per case;
                                                        # no_repeat bans ids already in the prefix
-> {"config": {...}, "cases": [{"logits": [[...]...], "embedding": [...], "greedy": [ids], "greedy_stopped": ...}]}
"""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from needle.config import SHAPES, NeedleConfig  # noqa: E402
from needle.model import Needle  # noqa: E402
from needle.onnx_graphs import GraphOptions  # noqa: E402
from needle.random_weights import random_flat  # noqa: E402


def greedy(m: Needle, src: list[int], max_new: int, no_repeat: bool) -> tuple[list[int], str]:
    c = m.config
    S = torch.tensor([src])
    M = torch.ones_like(S, dtype=torch.bool)
    with torch.no_grad():
        enc = m.encode(S, M)
        prefix = [c.eos_id]
        out: list[int] = []
        while len(out) < max_new:
            logits = m.decode(torch.tensor([prefix]), enc, M)[0, -1]
            if no_repeat:  # random weights with a tied embedding otherwise repeat the last token forever
                logits[prefix] = -float("inf")
            nxt = int(torch.argmax(logits))
            if nxt == c.eos_id:
                return out, "stop"
            out.append(nxt)
            prefix.append(nxt)
    return out, "length"


def run(req: dict) -> dict:
    torch.set_num_threads(2)
    shape = req.get("shape", "tiny")
    cfg = SHAPES[shape] if isinstance(shape, str) else NeedleConfig.from_dict({**SHAPES["tiny"].to_dict(), **shape})
    flat = random_flat(cfg, int(req.get("seed", 0)))
    if req.get("export"):
        from export import export_model_dir
        for e in req["export"]:
            e = dict(e)
            out = e.pop("out")
            export_model_dir(flat, cfg, out, GraphOptions(**e), tokenizer=req.get("tokenizer"),
                             name="test-random", source=f"random(seed={req.get('seed', 0)})")
    m = Needle(cfg)
    m.load_checkpoint_tree(flat)
    m.eval()
    cases = []
    for case in req.get("cases", []):
        src, tgt = case["src"], case["tgt"]
        S = torch.tensor([src])
        M = torch.ones_like(S, dtype=torch.bool)
        with torch.no_grad():
            logits = m(S, M, torch.tensor([tgt]))[0].numpy()
            emb = m.embed_text(S, M)[0].numpy()
        item = {"logits": np.round(logits, 6).tolist(), "embedding": np.round(emb, 7).tolist()}
        if req.get("greedy"):
            item["greedy"], item["greedy_stopped"] = greedy(
                m, src, int(req["greedy"].get("max_new", 12)), bool(req["greedy"].get("no_repeat", False)))
        cases.append(item)
    return {"config": cfg.to_dict(), "cases": cases}


if __name__ == "__main__":
    json.dump(run(json.load(sys.stdin)), sys.stdout)
