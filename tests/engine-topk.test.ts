// Decoder I/O 3 (models/FORMAT.md): a step hands back each new token's top-K logits and log-sum-exp instead of
// the whole row; the whole row only on request. Real graphs from training/export.py run in onnxruntime-node:
//   - the model: top-K outputs = the top K of the `logits` output, log-sum-exp = the row's, fullLogits() = the
//     step's logits (and torch's), cached = uncached, the cache written once, stale re-runs refused;
//   - the engine: an I/O 3 export and an I/O 2 export of the same weights answer the same (calls, answer text,
//     status) with the same confidence and decision probabilities (within 1e-4): a random-weight model (its top
//     K often holds nothing the grammar allows, so the whole-row fallback runs) and, where a training
//     checkpoint exists, the trained weights.
// Skipped where /usr/bin/python3 lacks torch + onnx.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { logSumExp } from "../src/engine/confidence.js";
import { openEngine, type NeedleEngine } from "../src/engine/index.js";
import { NeedleOnnxModel, type DecoderCache } from "../src/engine/onnx-model.js";
import type { ToolDeclaration } from "../src/engine/types.js";
import { catalogue } from "./helpers/needle-models.js";
import { ids, maxAbsDiff, PYTHON, pythonReference as runReference } from "./helpers/onnx-reference.js";

const ROOT = join(import.meta.dirname, "..");
const TOKENIZER = join(ROOT, "tests", "fixtures", "tokenizer", "needle-8k.model");
const CHECKPOINT = join(ROOT, "training", "runs", "main", "last.pt");
const CHECKPOINT_TOKENIZER = join(ROOT, "training", "runs", "tok", "needle.model");
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" }).status === 0;

interface Ref { cases: Array<{ logits: number[][] }> }
const pythonReference = (request: unknown): Ref => runReference<Ref>(request);

function exportModel(args: string[], out: string): void {
  const r = spawnSync(PYTHON, [join(ROOT, "training", "export.py"), ...args, "--out", out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`training/export.py failed (${r.status}): ${r.stderr}`);
}

/** The top-K scores agree with the whole row: each id's logit is its value, the values descend, nothing
 * outside the K is above the smallest of them, and logSumExp is the row's. */
function expectTopKOf(row: Float32Array, top: { ids: Int32Array; values: Float32Array; logSumExp: number }, K: number) {
  expect(top.ids.length).toBe(K);
  const inK = new Set(top.ids);
  expect(inK.size).toBe(K);
  for (let j = 0; j < K; j++) {
    expect(Math.abs(row[top.ids[j]!]! - top.values[j]!)).toBeLessThan(1e-5);
    if (j > 0) expect(top.values[j]!).toBeLessThanOrEqual(top.values[j - 1]!);
  }
  const floor = top.values[K - 1]!;
  for (let i = 0; i < row.length; i++) if (!inK.has(i)) expect(row[i]!).toBeLessThanOrEqual(floor + 1e-5);
  expect(Math.abs(top.logSumExp - logSumExp(row))).toBeLessThan(1e-4);
}

const V = 256; // the "tiny" shape
const K = 16;
const CASES = [
  { src: ids(13, 1, V), tgt: [1, 4, ...ids(9, 2, V)] },
  { src: ids(61, 4, V), tgt: [1, 4, ...ids(30, 5, V)] },
];

describe.skipIf(!hasTorch)("decoder I/O 3: top-K outputs of a real graph (tiny random model)", () => {
  let dir: string;
  let ref: Ref;
  const models: Record<string, NeedleOnnxModel> = {};

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "needle-topk-"));
    ref = pythonReference({
      shape: { max_decoder_len: 160 }, seed: 11, tokenizer: TOKENIZER, cases: CASES,
      export: [
        { out: join(dir, "fp32"), quant: "fp32", top_k: K },
        { out: join(dir, "int8"), quant: "int8", top_k: K },
        { out: join(dir, "io2"), quant: "fp32" },
      ],
    });
    for (const name of ["fp32", "int8", "io2"]) models[name] = await NeedleOnnxModel.load(join(dir, name));
  });

  afterAll(async () => {
    for (const m of Object.values(models)) await m.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("config.json and the loaded model say I/O 3; an I/O 2 model refuses decodeTopK", async () => {
    const graph = JSON.parse(readFileSync(join(dir, "fp32", "config.json"), "utf8")).graph;
    expect(graph).toMatchObject({ io: 3, top_k: K, dec_cache: "rows" });
    expect(models.fp32!.decoderIo).toBe(3);
    expect(models.int8!.decoderIo).toBe(3);
    expect(models.io2!.decoderIo).toBe(2);
    const io2 = models.io2!;
    const enc = await io2.encode([7, 8, 9]);
    await expect(io2.decodeTopK(enc, io2.emptyCache(), [1])).rejects.toMatchObject({ code: "BAD_INPUT", message: expect.stringMatching(/I\/O 3/) });
  });

  test.each(["fp32", "int8"])("%s: top K and log-sum-exp of every new token = those of its logits; fullLogits() = decode() = torch", async (name) => {
    const m = models[name]!;
    for (const [k, c] of CASES.entries()) {
      const enc = await m.encode(c.src);
      const whole = await m.decode(enc, m.emptyCache(), c.tgt);
      const top = await m.decodeTopK(enc, m.emptyCache(), c.tgt);
      expect(top.rows.length).toBe(c.tgt.length);
      expect(top.cache.length).toBe(c.tgt.length);
      const full = await top.fullLogits();
      expect(await top.fullLogits()).toBe(full); // one re-run, shared
      for (let t = 0; t < c.tgt.length; t++) {
        expectTopKOf(whole.logits[t]!, top.rows[t]!, K);
        expect(maxAbsDiff(full[t]!, whole.logits[t]!)).toBeLessThan(1e-5);
        if (name === "fp32") expect(maxAbsDiff(full[t]!, ref.cases[k]!.logits[t]!)).toBeLessThan(1e-3);
      }
    }
  });

  test("cached steps (1 token, or runs) = the uncached rows; a full-row re-run does not write the cache again", async () => {
    const m = models.fp32!;
    const c = CASES[1]!;
    const enc = await m.encode(c.src);
    const whole = (await m.decode(enc, m.emptyCache(), c.tgt)).logits;
    let cache: DecoderCache = m.emptyCache();
    const runs = [1, 3, 1, 5, 2, 1, 4];
    let t = 0;
    for (let r = 0; t < c.tgt.length; r++) {
      const n = Math.min(runs[r % runs.length]!, c.tgt.length - t);
      const step = await m.decodeTopK(enc, cache, c.tgt.slice(t, t + n));
      expect(step.cache.length).toBe(t + n);
      for (let j = 0; j < n; j++) expectTopKOf(whole[t + j]!, step.rows[j]!, K);
      // every other step also asks for its whole rows: the next steps must not notice
      if (r % 2 === 0) {
        const full = await step.fullLogits();
        for (let j = 0; j < n; j++) expect(maxAbsDiff(full[j]!, whole[t + j]!)).toBeLessThan(1e-4);
      }
      cache = step.cache;
      t += n;
    }
    // and the cache it ends with decodes on like decode()'s
    const next = [9];
    const a = await m.decode(enc, cache, next);
    const uncached = await m.decode(enc, m.emptyCache(), [...c.tgt, ...next]);
    expect(maxAbsDiff(a.logits[0]!, uncached.logits.at(-1)!)).toBeLessThan(1e-4);
  });

  test("past the first 64 rows (the row buffer grows) and after a fork: fresh re-runs right, stale ones refused", async () => {
    const m = models.fp32!;
    const enc = await m.encode(ids(20, 9, V));
    const tgt = [1, ...ids(99, 10, V)];
    const whole = (await m.decode(enc, m.emptyCache(), tgt)).logits;
    const caches: DecoderCache[] = [m.emptyCache()];
    const steps = [];
    for (let t = 0; t < tgt.length; t++) {
      const step = await m.decodeTopK(enc, caches[t]!, [tgt[t]!]);
      expectTopKOf(whole[t]!, step.rows[0]!, K);
      steps.push(step);
      caches.push(step.cache);
    }
    // the step that grew the buffer (64 -> 128 rows) re-runs on the rows it read
    expect(maxAbsDiff((await steps[64]!.fullLogits())[0]!, whole[64]!)).toBeLessThan(1e-4);
    // a fork from cache 80 with another token rewrites row 80: steps that read row 80 can no longer re-run
    await m.decodeTopK(enc, caches[80]!, [7]);
    await expect(steps[90]!.fullLogits()).rejects.toMatchObject({ code: "BAD_INPUT", message: expect.stringMatching(/stale/) });
    // ... those that read only rows below 80 still can, and give their logits
    expect(maxAbsDiff((await steps[80]!.fullLogits())[0]!, whole[80]!)).toBeLessThan(1e-4);
    expect(maxAbsDiff((await steps[30]!.fullLogits())[0]!, whole[30]!)).toBeLessThan(1e-4);
  });
});

// ---- the engine: I/O 3 answers = I/O 2 answers ---------------------------------------------------------

type Decl = ToolDeclaration & { examples?: string[] };

/** The queries: each tool's examples with the whole catalogue, with its own plugin's tools only, and alone;
 * plus a few that call nothing. */
function workload(all: Decl[]): Array<{ text: string; tools: ToolDeclaration[] }> {
  const decl = (t: Decl): ToolDeclaration => ({ name: t.name, ...(t.description ? { description: t.description } : {}), ...(t.parameters ? { parameters: t.parameters } : {}) });
  const whole = all.map(decl);
  const out: Array<{ text: string; tools: ToolDeclaration[] }> = [];
  for (const [i, t] of all.entries()) {
    for (const text of t.examples ?? []) {
      out.push({ text, tools: whole });
      out.push({ text, tools: whole.slice(Math.max(0, i - 3), i + 3) });
      out.push({ text, tools: [decl(t)] });
    }
  }
  for (const text of ["tell me a joke", "what is the capital of France", "thanks, that is all", "wake me up"]) {
    out.push({ text, tools: whole });
  }
  return out;
}

async function compareEngines(io2Dir: string, io3Dir: string, opts: { maxDecoderPositions?: number } = {}) {
  const a = await openEngine({ modelDir: io2Dir, ...opts });
  const b = await openEngine({ modelDir: io3Dir, ...opts });
  try {
    expect(a.model.decoderIo).toBe(2);
    expect(b.model.decoderIo).toBe(3);
    const jobs = workload((await catalogue()) as Decl[]);
    let fetches = 0;
    let decisions = 0;
    for (const { text, tools } of jobs) {
      const x = await a.predictDetailed(text, tools);
      const y = await b.predictDetailed(text, tools);
      const what = `${JSON.stringify(text)} with ${tools.length} tools`;
      expect(y.calls, what).toEqual(x.calls);
      expect(y.details.answer, what).toBe(x.details.answer);
      expect(y.details.status, what).toBe(x.details.status);
      expect(y.details.firstTokenWasToolCall, what).toBe(x.details.firstTokenWasToolCall);
      expect(y.details.decoderCalls, what).toBe(x.details.decoderCalls);
      expect(Math.abs(y.confidence - x.confidence), what).toBeLessThan(1e-4);
      expect(y.details.decisions.length, what).toBe(x.details.decisions.length);
      expect(maxAbsDiff(y.details.decisions, x.details.decisions), what).toBeLessThan(1e-4);
      expect(x.details.fullRowFetches).toBe(0);
      fetches += y.details.fullRowFetches;
      decisions += y.details.decisions.length;
    }
    return { requests: jobs.length, fetches, decisions };
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
}

describe.skipIf(!hasTorch)("decoder I/O 3 in the engine: the same answers as I/O 2", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "needle-topk-engine-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("random-weight model (8k vocabulary): same calls, answers, confidence; the whole-row fallback runs", async () => {
    const config = JSON.stringify({
      d_model: 64, num_heads: 4, num_kv_heads: 2, head_dim: 16, encoder_layers: 2, decoder_layers: 2, vocab_size: 8192,
      retrieval_hidden: 32, retrieval_dim: 16, max_encoder_len: 1024, max_decoder_len: 64,
    });
    for (const k of [0, 64]) {
      exportModel(["--random", "--config", config, "--seed", "3", "--tokenizer", TOKENIZER, "--quant", "int8", "--top-k", String(k)], join(dir, `rand-k${k}`));
    }
    const r = await compareEngines(join(dir, "rand-k0"), join(dir, "rand-k64"));
    expect(r.requests).toBeGreaterThan(100);
    expect(r.fetches).toBeGreaterThan(0);
  }, 300_000);

  test.skipIf(!existsSync(CHECKPOINT) || !existsSync(CHECKPOINT_TOKENIZER))(
    "trained weights (the training checkpoint): same calls, answers, confidence; the top 64 rarely fall short",
    async () => {
      // one copy, so that both exports hold the same weights while training writes new checkpoints
      const ckpt = join(dir, "ckpt.pt");
      copyFileSync(CHECKPOINT, ckpt);
      for (const k of [0, 64]) {
        exportModel(["--checkpoint", ckpt, "--tokenizer", CHECKPOINT_TOKENIZER, "--quant", "int8", "--top-k", String(k)], join(dir, `ckpt-k${k}`));
      }
      const r = await compareEngines(join(dir, "ckpt-k0"), join(dir, "ckpt-k64"));
      expect(r.requests).toBeGreaterThan(100);
      // a trained model's choice is nearly always among its 64 best tokens
      expect(r.fetches / r.decisions).toBeLessThan(0.05);
    },
    300_000,
  );
});
