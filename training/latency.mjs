// Model-level latency of an exported model directory with onnxruntime-node (what the engine runs):
// one encoder pass over T tokens + `steps` cached decoder calls of one token each.
//   node training/latency.mjs models/default [T=480] [steps=24] [runs=30]
// Pause the training first (kill -STOP $(cat training/runs/train.pid); kill -CONT afterwards).
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const require = createRequire(path.resolve("package.json"));
const ort = require("onnxruntime-node");
const [dir, T = 480, steps = 24, runs = 30] = [process.argv[2], ...process.argv.slice(3).map(Number)];
if (!dir) throw new Error("usage: node training/latency.mjs MODEL_DIR [T] [steps] [runs]");
const a = JSON.parse(fs.readFileSync(path.join(dir, "config.json"), "utf8")).architecture;
const opt = { intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: "all" };
const enc = await ort.InferenceSession.create(path.join(dir, "encoder.onnx"), opt);
const dec = await ort.InferenceSession.create(path.join(dir, "decoder.onnx"), opt);
const i64 = (xs, dims) => new ort.Tensor("int64", BigInt64Array.from(xs.map(BigInt)), dims);

async function once() {
  const ids = Array.from({ length: T }, (_, i) => 6 + ((i * 37) % (a.vocab_size - 6)));
  const mask = i64(ids.map(() => 1), [1, T]);
  const t0 = performance.now();
  const eo = await enc.run({ input_ids: i64(ids, [1, T]), attention_mask: mask });
  const t1 = performance.now();
  const past = {};
  for (let l = 0; l < a.decoder_layers; l++) {
    for (const kv of ["k", "v"]) {
      past[`past_self_${kv}_${l}`] = new ort.Tensor("float32", new Float32Array(0), [1, a.num_kv_heads, 0, a.head_dim]);
    }
  }
  let tok = 1;
  for (let s = 0; s < steps; s++) {
    const feeds = { input_ids: i64([tok], [1, 1]), position_ids: i64([s], [1, 1]), encoder_attention_mask: mask, ...past };
    for (let l = 0; l < a.decoder_layers; l++) {
      feeds[`cross_k_${l}`] = eo[`cross_k_${l}`];
      feeds[`cross_v_${l}`] = eo[`cross_v_${l}`];
    }
    const o = await dec.run(feeds);
    for (let l = 0; l < a.decoder_layers; l++) {
      past[`past_self_k_${l}`] = o[`present_self_k_${l}`];
      past[`past_self_v_${l}`] = o[`present_self_v_${l}`];
    }
    tok = 6 + s;
  }
  return [t1 - t0, performance.now() - t1];
}

for (let i = 0; i < 3; i++) await once();
const res = [];
for (let i = 0; i < runs; i++) res.push(await once());
const q = (k, p) => { const v = res.map((r) => (k < 2 ? r[k] : r[0] + r[1])).sort((x, y) => x - y); return +v[Math.min(v.length - 1, Math.floor(p * v.length))].toFixed(1); };
console.log(JSON.stringify({ model: dir, T, steps, runs, encoder_ms_p50: q(0, 0.5), decoder_ms_p50: q(1, 0.5), total_ms_p50: q(2, 0.5), total_ms_p95: q(2, 0.95) }));
