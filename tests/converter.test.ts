// The checkpoint converter end to end: Python writes a needle.pkl-shaped checkpoint (the v1 tree, float16 numpy
// leaves, a partial config, random weights, a small shape), training/convert_checkpoint.py turns it into model
// directories, Python dumps the PyTorch reference's logits for fixed inputs, and the directories run here in
// onnxruntime-node. Skipped where /usr/bin/python3 lacks torch + onnx + sentencepiece.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { argmax } from "../src/engine/greedy.js";
import { NeedleOnnxModel } from "../src/engine/onnx-model.js";

const PYTHON = "/usr/bin/python3";
const ROOT = join(import.meta.dirname, "..");
const TOKENIZER = join(ROOT, "tests", "fixtures", "tokenizer", "bpe-1k.model"); // 1000 pieces, Needle's specials
const ready = spawnSync(PYTHON, ["-c", "import torch, onnx, sentencepiece"], { stdio: "ignore" }).status === 0;

const INPUTS = [
  { src: [17, 204, 9, 999, 5, 311, 40, 41, 42], tgt: [1, 4, 90, 91, 92, 93, 1] },
  { src: Array.from({ length: 70 }, (_, i) => 6 + ((i * 37) % 990)), tgt: [1, 4, ...Array.from({ length: 20 }, (_, i) => 100 + i)] },
];

// Writes needle.pkl and the reference logits (PyTorch model loaded from that very file).
const WRITE = String.raw`
import json, pickle, sys
sys.path.insert(0, "training")
import numpy as np, torch
from needle.config import NeedleConfig
from needle.model import Needle
from needle.random_weights import random_tree
req = json.load(sys.stdin)
c = NeedleConfig(d_model=64, num_heads=4, num_kv_heads=2, head_dim=16, encoder_layers=2, decoder_layers=3,
                 vocab_size=1000, retrieval_hidden=32, retrieval_dim=16, rope_theta=req["rope_theta"])
def f16(n):
    return {k: f16(v) for k, v in n.items()} if isinstance(n, dict) else np.asarray(n, np.float16)
tree = f16(random_tree(c, 11))
with open(req["ckpt"], "wb") as f:
    pickle.dump({"params": tree, "config": {"rope_theta": req["rope_theta"], "num_heads": 4}}, f)
with open(req["ckpt"], "rb") as f:
    obj = pickle.load(f)
m = Needle.from_checkpoint_tree(obj["params"], obj["config"]).eval()
out = []
for case in req["inputs"]:
    src, tgt = torch.tensor([case["src"]]), torch.tensor([case["tgt"]])
    with torch.no_grad():
        out.append(m(src, torch.ones_like(src, dtype=torch.bool), tgt)[0].tolist())
json.dump(out, sys.stdout)
`;

function py(args: string[], input?: string) {
  const r = spawnSync(PYTHON, args, { cwd: ROOT, input, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`python ${args.join(" ")} failed: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!ready)("convert_checkpoint.py -> model directory -> onnxruntime-node", () => {
  let dir: string;
  let ref: number[][][];
  const models: Record<string, NeedleOnnxModel> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "needle-convert-"));
    const ckpt = join(dir, "needle.pkl");
    // a non-default rope_theta that only the checkpoint's config carries
    ref = JSON.parse(py(["-c", WRITE], JSON.stringify({ ckpt, rope_theta: 500.0, inputs: INPUTS })));
    for (const quant of ["fp32", "int8", "int4"]) {
      py(["training/convert_checkpoint.py", "--checkpoint", ckpt, "--tokenizer", TOKENIZER, "--out", join(dir, quant),
        "--quant", quant]);
      models[quant] = await NeedleOnnxModel.load(join(dir, quant));
    }
  });

  afterAll(async () => {
    for (const m of Object.values(models)) await m.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("the directory carries the checkpoint's architecture and the tokenizer", () => {
    const m = models.fp32!;
    expect(m.config.architecture).toMatchObject({ d_model: 64, num_heads: 4, num_kv_heads: 2, head_dim: 16,
      encoder_layers: 2, decoder_layers: 3, vocab_size: 1000, rope_theta: 500 });
    expect(m.config.quantization).toBe("fp32");
    expect(existsSync(join(dir, "fp32", "tokenizer.model"))).toBe(true);
    // the exporter's default decoder: a step hands back its best 64 logits, not the whole row
    for (const q of ["fp32", "int8", "int4"]) expect(models[q]!.decoderIo).toBe(3);
    expect(models.int4!.config.quantization).toBe("int4");
  });

  test("fp32 graphs match the PyTorch reference within 1e-3 on logits", async () => {
    const m = models.fp32!;
    for (const [i, c] of INPUTS.entries()) {
      const enc = await m.encode(c.src);
      const { logits } = await m.decode(enc, m.emptyCache(), c.tgt);
      for (let t = 0; t < c.tgt.length; t++) {
        let worst = 0;
        for (let v = 0; v < 1000; v++) worst = Math.max(worst, Math.abs(logits[t]![v]! - ref[i]![t]![v]!));
        expect(worst).toBeLessThan(1e-3);
      }
    }
  });

  // (measured: worst |dlogit| int8 0.06, int4 0.63)
  test.each([["int8", 0.5, 0.85], ["int4", 1.2, 0.75]] as const)(
    "%s graphs stay close to the reference and agree on the top token", async (quant, maxDiff, minAgree) => {
    const m = models[quant]!;
    let agree = 0;
    let n = 0;
    for (const [i, c] of INPUTS.entries()) {
      const enc = await m.encode(c.src);
      let cache = m.emptyCache();
      for (let t = 0; t < c.tgt.length; t++) {
        const step = await m.decode(enc, cache, [c.tgt[t]!]);
        cache = step.cache;
        const row = step.logits[0]!;
        let worst = 0;
        for (let v = 0; v < 1000; v++) worst = Math.max(worst, Math.abs(row[v]! - ref[i]![t]![v]!));
        expect(worst).toBeLessThan(maxDiff);
        n++;
        if (argmax(row) === argmax(ref[i]![t]!)) agree++;
      }
    }
    expect(agree / n).toBeGreaterThan(minAgree);
  });
});
