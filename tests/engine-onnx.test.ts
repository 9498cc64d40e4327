// NeedleOnnxModel against the PyTorch reference: /usr/bin/python3 exports a small random model (fp32, int8, int4)
// with training/export.py's code and dumps the reference's logits, retrieval embeddings and greedy tokens;
// the graphs then run in real onnxruntime-node sessions. Skipped where /usr/bin/python3 lacks torch + onnx.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { argmax, greedyCached, greedyUncached } from "../src/engine/greedy.js";
import { NeedleOnnxModel, type DecoderCache } from "../src/engine/onnx-model.js";
import { EngineError } from "../src/engine/types.js";
import { ids, maxAbsDiff, PYTHON, pythonReference as runReference } from "./helpers/onnx-reference.js";

const ROOT = join(import.meta.dirname, "..");
const TOKENIZER = join(ROOT, "tests", "fixtures", "tokenizer", "needle-8k.model");
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" }).status === 0;

interface RefCase { logits: number[][]; embedding: number[]; greedy: number[]; greedy_stopped: string }
interface Ref { config: { vocab_size: number; eos_id: number }; cases: RefCase[] }
const pythonReference = (request: unknown): Ref => runReference<Ref>(request);

const V = 256; // the "tiny" shape
// A random model with a tied embedding repeats its last token forever, so the greedy parity tests ban ids
// already in the prefix (the reference does the same): every token then depends on the whole computation.
const noRepeat = (row: Float32Array, prefix: readonly number[]) => {
  for (const t of prefix) row[t] = -Infinity;
};

// Graph variants the exporter can write besides the default (kept correct so they stay measurable). The default
// encoder is "mha" (MultiHeadAttention, no mask, exact-length input); "gqa" is what models exported before carry.
// The default decoder is I/O 2 (cache rows, ONNX Attention); dec_cache "present" is I/O 1, what models exported
// before carry.
// The default cross K/V come from cross.onnx, a decoder layer per run; cross_kv "per_layer"/"fused" put every
// layer's K/V among the encoder's outputs, as models exported before cross.onnx do.
const VARIANTS = [
  { enc_attention: "matmul", dec_attention: "matmul" },
  { enc_attention: "gqa", cross_kv: "fused", enc_gqa_groups: 1, cross_attention: "attention" },
  { enc_attention: "gqa", enc_gqa_groups: 2, dec_attention: "matmul", cross_kv: "fused" },
  { dec_cache: "present", dec_attention: "gqa" },
  { dec_cache: "present", dec_attention: "matmul", cross_attention: "attention" },
  { cross_kv: "per_layer" },
  { enc_attention: "gqa", enc_qkv: "fused" },
  { enc_attention: "gqa" },
  { enc_qkv: "fused", enc_gqa_groups: 1 },
  { enc_gqa_groups: 2, cross_kv: "fused" },
];

const CASES = [
  { src: ids(13, 1, V), tgt: [1, 4, ...ids(9, 2, V)] },
  { src: ids(1, 3, V), tgt: [1] },
  { src: ids(61, 4, V), tgt: [1, 4, ...ids(30, 5, V)] },
];

describe.skipIf(!hasTorch)("NeedleOnnxModel vs the PyTorch reference (tiny random model)", () => {
  let dir: string;
  let ref: Ref;
  let fp32: NeedleOnnxModel;
  let int8: NeedleOnnxModel;
  let int4: NeedleOnnxModel;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "needle-onnx-"));
    ref = pythonReference({
      shape: "tiny", seed: 7, tokenizer: TOKENIZER,
      export: [
        { out: join(dir, "fp32"), quant: "fp32" }, { out: join(dir, "int8"), quant: "int8" },
        { out: join(dir, "int4"), quant: "int4" },
        ...VARIANTS.map((v, i) => ({ out: join(dir, `variant${i}`), quant: "fp32", ...v })),
      ],
      cases: CASES, greedy: { max_new: 24, no_repeat: true },
    });
    fp32 = await NeedleOnnxModel.load(join(dir, "fp32"));
    int8 = await NeedleOnnxModel.load(join(dir, "int8"));
    int4 = await NeedleOnnxModel.load(join(dir, "int4"));
  });

  afterAll(async () => {
    await fp32?.close();
    await int8?.close();
    await int4?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("fp32 logits and retrieval embedding match torch within 1e-3", async () => {
    for (const [i, c] of CASES.entries()) {
      const enc = await fp32.encode(c.src);
      expect(enc.length).toBe(c.src.length);
      expect(maxAbsDiff(enc.embedding, ref.cases[i]!.embedding)).toBeLessThan(1e-4);
      const { logits } = await fp32.decode(enc, fp32.emptyCache(), c.tgt);
      expect(logits.length).toBe(c.tgt.length);
      for (let t = 0; t < c.tgt.length; t++) {
        expect(maxAbsDiff(logits[t]!, ref.cases[i]!.logits[t]!)).toBeLessThan(1e-3);
      }
      expect(maxAbsDiff(await fp32.embed(c.src), enc.embedding)).toBeLessThan(1e-6);
    }
  });

  test.each(VARIANTS.map((v, i) => [i, v] as const))("graph variant %i %j matches torch, cached and uncached", async (i) => {
    const m = await NeedleOnnxModel.load(join(dir, `variant${i}`));
    try {
      expect(m.decoderIo).toBe(VARIANTS[i]!.dec_cache === "present" ? 1 : 2);
      for (const [k, c] of CASES.entries()) {
        const enc = await m.encode(c.src);
        expect(maxAbsDiff(enc.embedding, ref.cases[k]!.embedding)).toBeLessThan(1e-4);
        const { logits } = await m.decode(enc, m.emptyCache(), c.tgt);
        let cache = m.emptyCache();
        for (let t = 0; t < c.tgt.length; t++) {
          expect(maxAbsDiff(logits[t]!, ref.cases[k]!.logits[t]!)).toBeLessThan(1e-3);
          const step = await m.decode(enc, cache, [c.tgt[t]!]);
          expect(maxAbsDiff(step.logits[0]!, ref.cases[k]!.logits[t]!)).toBeLessThan(1e-3);
          cache = step.cache;
        }
      }
    } finally {
      await m.close();
    }
  });

  test("head_dim whose square root is not a power of two (scale applied, not folded) matches torch", async () => {
    // 4 heads of 48 (sqrt 48 is irrational; GQA needs head_dim % 16 == 0), 2 kv heads; and 4 heads of 12,
    // which the exporter gives MatMul attention because onnxruntime's GQA refuses it
    const shape = { d_model: 48, num_heads: 4, num_kv_heads: 2, head_dim: 48, vocab_size: 256 };
    const cases = CASES.slice(0, 2);
    const out = join(dir, "hd12");
    const r = pythonReference({
      shape, seed: 3, tokenizer: TOKENIZER, cases,
      export: [{ out: `${out}-gqa`, quant: "fp32" }, { out: `${out}-mm`, quant: "fp32", enc_attention: "matmul", dec_attention: "matmul" }],
    });
    const r12 = pythonReference({
      shape: { ...shape, head_dim: 12 }, seed: 3, tokenizer: TOKENIZER, cases, export: [{ out: `${out}-12`, quant: "fp32" }],
    });
    for (const [d, ref] of [[`${out}-gqa`, r], [`${out}-mm`, r], [`${out}-12`, r12]] as const) {
      const m = await NeedleOnnxModel.load(d);
      try {
        for (const [k, c] of cases.entries()) {
          const enc = await m.encode(c.src);
          const { logits } = await m.decode(enc, m.emptyCache(), c.tgt);
          for (let t = 0; t < c.tgt.length; t++) expect(maxAbsDiff(logits[t]!, ref.cases[k]!.logits[t]!)).toBeLessThan(1e-3);
        }
      } finally {
        await m.close();
      }
    }
  });

  test("the graphs honour attention masks: a right-padded encoder input gives the unpadded results", async () => {
    const c = CASES[0]!;
    const i64 = (a: number[]) => new Tensor("int64", BigInt64Array.from(a.map(BigInt)), [1, a.length]);
    // encoder: MHA (cut to the mask's length), GQA (seqlens) and MatMul (additive bias) masking; cross-attention:
    // MatMul + bias and ONNX Attention
    for (const variant of ["fp32", "variant0", "variant1", "variant3", "variant5", "variant7", "variant8", "variant9"]) {
      const enc = await InferenceSession.create(join(dir, variant, "encoder.onnx"));
      const dec = await InferenceSession.create(join(dir, variant, "decoder.onnx"));
      const crossFile = join(dir, variant, "cross.onnx");
      const cross = existsSync(crossFile) ? await InferenceSession.create(crossFile) : undefined;
      expect(cross !== undefined).toBe(["fp32", "variant0", "variant3", "variant7", "variant8"].includes(variant));
      const io = JSON.parse(readFileSync(join(dir, variant, "config.json"), "utf8")).graph.io as number;
      expect(io).toBe(variant === "variant3" ? 1 : 2);
      const empty = new Tensor("float32", new Float32Array(0), io === 2 ? [1, 0, 32] : [1, 2, 0, 16]);
      try {
        const run = async (src: number[], mask: number[]) => {
          const e = await enc.run({ input_ids: i64(src), attention_mask: i64(mask) });
          const feeds: Record<string, Tensor> = {
            input_ids: i64(c.tgt), position_ids: i64(c.tgt.map((_, t) => t)), encoder_attention_mask: i64(mask),
          };
          for (let l = 0; l < 2; l++) {
            feeds[`past_self_k_${l}`] = feeds[`past_self_v_${l}`] = empty;
            const kv = cross
              ? await cross.run({ encoder_hidden: e.encoder_hidden!, layer: new Tensor("int64", BigInt64Array.of(BigInt(l)), [1]) })
              : { cross_k: e[`cross_k_${l}`]!, cross_v: e[`cross_v_${l}`]! };
            feeds[`cross_k_${l}`] = kv.cross_k as Tensor;
            feeds[`cross_v_${l}`] = kv.cross_v as Tensor;
          }
          const d = await dec.run(feeds);
          return { emb: e.embedding!.data as Float32Array, logits: d.logits!.data as Float32Array };
        };
        const plain = await run(c.src, c.src.map(() => 1));
        const padded = await run([...c.src, 0, 0, 0, 0, 0], [...c.src.map(() => 1), 0, 0, 0, 0, 0]);
        expect(maxAbsDiff(padded.emb, plain.emb)).toBeLessThan(1e-5);
        expect(maxAbsDiff(padded.logits, plain.logits)).toBeLessThan(1e-4);
        expect(maxAbsDiff(plain.logits, ref.cases[0]!.logits.flat())).toBeLessThan(1e-3);
      } finally {
        await Promise.all([enc.release(), dec.release(), cross?.release()]);
      }
    }
  });

  test("the engine gives an exact-length (mha) encoder the real tokens and pads a GQA encoder's to 64", async () => {
    const src = CASES[0]!.src; // 13 tokens
    expect(fp32.config.encoder_padding).toBe("none");
    const exact = await fp32.encode(src);
    expect(exact.feeds.encoder_attention_mask!.dims).toEqual([1, src.length]);
    expect(exact.feeds.cross_k_0!.dims.at(-1)).toBe(src.length);
    const gqa = await NeedleOnnxModel.load(join(dir, "variant7"));
    try {
      expect(gqa.config.encoder_padding).toBe("bucket");
      const padded = await gqa.encode(src);
      expect(padded.length).toBe(src.length);
      expect(padded.feeds.encoder_attention_mask!.dims).toEqual([1, 64]);
      expect(maxAbsDiff(padded.embedding, exact.embedding)).toBeLessThan(1e-5);
    } finally {
      await gqa.close();
    }
  });

  test("cached decoding (one token per call, or runs of several) gives the uncached logits", async () => {
    const c = CASES[2]!;
    const enc = await fp32.encode(c.src);
    const full = (await fp32.decode(enc, fp32.emptyCache(), c.tgt)).logits;
    let cache: DecoderCache = fp32.emptyCache();
    // 1 token, then runs of 3, 1, 5, ... to exercise n > 1 with a past
    const runs = [1, 3, 1, 5, 2, 1, 4];
    let t = 0;
    for (let r = 0; t < c.tgt.length; r++) {
      const n = Math.min(runs[r % runs.length]!, c.tgt.length - t);
      const step = await fp32.decode(enc, cache, c.tgt.slice(t, t + n));
      expect(step.cache.length).toBe(t + n);
      for (let j = 0; j < n; j++) {
        expect(maxAbsDiff(step.logits[j]!, full[t + j]!)).toBeLessThan(1e-4);
        expect(maxAbsDiff(step.logits[j]!, ref.cases[2]!.logits[t + j]!)).toBeLessThan(1e-3);
      }
      cache = step.cache;
      t += n;
    }
  });

  test("I/O 2 cache rows: growth past the first 64 rows, re-decoding one cache, stale caches refused", async () => {
    // a tiny model with room for 160 decoder tokens, so the sequence's row buffer has to grow (64 -> 128 -> 160)
    const out = join(dir, "long");
    pythonReference({ shape: { max_decoder_len: 160 }, seed: 5, export: [{ out, quant: "fp32" }], cases: [] });
    const m = await NeedleOnnxModel.load(out, { requireTokenizer: false });
    try {
      expect(m.decoderIo).toBe(2);
      const enc = await m.encode(ids(20, 9, V));
      const tgt = [1, ...ids(149, 10, V)];
      const full = (await m.decode(enc, m.emptyCache(), tgt)).logits;
      const caches: DecoderCache[] = [m.emptyCache()];
      for (let t = 0; t < tgt.length; t++) {
        const step = await m.decode(enc, caches[t]!, [tgt[t]!]);
        expect(maxAbsDiff(step.logits[0]!, full[t]!)).toBeLessThan(1e-4);
        caches.push(step.cache);
      }
      expect(caches.at(-1)!.length).toBe(150);
      // the same cache again and again (what the bench does): same logits every time
      const again = [await m.decode(enc, caches[100]!, [tgt[100]!]), await m.decode(enc, caches[100]!, [tgt[100]!])];
      for (const a of again) expect(maxAbsDiff(a.logits[0]!, full[100]!)).toBeLessThan(1e-4);
      // a fork from cache 100 with another token rewrote row 100: caches 101.. of that sequence are stale now,
      // 100 and below are not
      await m.decode(enc, caches[100]!, [7]);
      for (const L of [101, 120]) {
        await expect(m.decode(enc, caches[L]!, [9])).rejects.toMatchObject({
          code: "BAD_INPUT", message: expect.stringMatching(new RegExp(`cache of ${L} tokens is stale`)),
        });
      }
      const ok = await m.decode(enc, caches[100]!, [tgt[100]!]);
      expect(maxAbsDiff(ok.logits[0]!, full[100]!)).toBeLessThan(1e-4);
      expect(maxAbsDiff((await m.decode(enc, ok.cache, [tgt[101]!])).logits[0]!, full[101]!)).toBeLessThan(1e-4);
      // caches made before the buffer grew read the old buffer, which later writes never touch
      expect(maxAbsDiff((await m.decode(enc, caches[30]!, [tgt[30]!])).logits[0]!, full[30]!)).toBeLessThan(1e-4);
      await expect(m.decode(enc, { length: 3, feeds: caches[3]!.feeds }, [9])).rejects.toThrow(/not one this model/);
    } finally {
      await m.close();
    }
  });

  test("greedy: cached == uncached == torch, token for token (fp32)", async () => {
    for (const [i, c] of CASES.entries()) {
      const enc = await fp32.encode(c.src);
      const cached = await greedyCached(fp32, enc, { maxNewTokens: 24, processLogits: noRepeat });
      const uncached = await greedyUncached(fp32, enc, { maxNewTokens: 24, processLogits: noRepeat });
      expect(ref.cases[i]!.greedy.length).toBeGreaterThan(3);
      expect(cached.tokens).toEqual(ref.cases[i]!.greedy);
      expect(uncached.tokens).toEqual(cached.tokens);
      expect(cached.stopped).toBe(ref.cases[i]!.greedy_stopped === "stop" ? "stop" : "length");
    }
  });

  // int4 (two weights a byte, blocks of 32) is coarser than int8, so its logits stray further from fp32's; a
  // mis-packed nibble order moves them six times as far (measured, seed 7: worst |dlogit| int8 0.07, int4 0.66,
  // int4 with its nibbles swapped 4.1)
  test.each([["int8", 0.5, 0.9], ["int4", 1.2, 0.75]] as const)(
    "%s: cached == uncached greedy; logits close to fp32 with the same top-1 on most positions",
    async (name, maxDiff, minAgree) => {
      const q = name === "int8" ? int8 : int4;
      expect(q.config.quantization).toBe(name);
      let positions = 0;
      let agree = 0;
      let worst = 0;
      for (const c of CASES) {
        const eq = await q.encode(c.src);
        const e32 = await fp32.encode(c.src);
        const cached = await greedyCached(q, eq, { maxNewTokens: 24, processLogits: noRepeat });
        const uncached = await greedyUncached(q, eq, { maxNewTokens: 24, processLogits: noRepeat });
        expect(cached.tokens.length).toBeGreaterThan(3);
        expect(uncached.tokens).toEqual(cached.tokens);
        const lq = (await q.decode(eq, q.emptyCache(), c.tgt)).logits;
        const l32 = (await fp32.decode(e32, fp32.emptyCache(), c.tgt)).logits;
        for (let t = 0; t < c.tgt.length; t++) {
          positions++;
          worst = Math.max(worst, maxAbsDiff(lq[t]!, l32[t]!));
          if (argmax(lq[t]!) === argmax(l32[t]!)) agree++;
        }
      }
      expect(worst).toBeGreaterThan(0); // it is really quantised
      expect(worst).toBeLessThan(maxDiff);
      expect(agree / positions).toBeGreaterThan(minAgree);
    });

  test("bad input is a BAD_INPUT EngineError and the model keeps working", async () => {
    const enc = await fp32.encode([7, 8, 9]);
    await expect(fp32.encode([])).rejects.toMatchObject({ code: "BAD_INPUT" });
    await expect(fp32.encode([7, V])).rejects.toThrow(/token 1 is 256, not an id in \[0, 256\)/);
    await expect(fp32.encode([7, 1.5])).rejects.toBeInstanceOf(EngineError);
    await expect(fp32.encode(new Array(129).fill(7))).rejects.toThrow(/129 tokens, the model takes at most 128/);
    await expect(fp32.decode(enc, fp32.emptyCache(), [-1])).rejects.toMatchObject({ code: "BAD_INPUT" });
    const long = await fp32.decode(enc, fp32.emptyCache(), new Array(60).fill(9));
    await expect(fp32.decode(enc, long.cache, [9, 9, 9, 9, 9])).rejects.toThrow(/exceed max_decoder_len 64/);
    const ok = await fp32.decode(enc, long.cache, [9, 9, 9, 9]);
    expect(ok.cache.length).toBe(64);
    expect(ok.logits[3]!.every(Number.isFinite)).toBe(true);
  });

  test("release(): the next encode() reuses the K/V buffer, the released state is refused, results unchanged", async () => {
    for (const m of [fp32, await NeedleOnnxModel.load(join(dir, "variant5"))]) {
      const [a, b] = [CASES[2]!, CASES[0]!]; // b has fewer encoder tokens than a: it fits a's buffer
      const encA = await m.encode(a.src);
      const bufferA = (encA.feeds.cross_k_0!.data as Float32Array).buffer;
      const logitsA = (await m.decode(encA, m.emptyCache(), a.tgt)).logits;
      m.release(encA);
      m.release(encA); // twice: nothing more happens
      await expect(m.decode(encA, m.emptyCache(), a.tgt)).rejects.toMatchObject({
        code: "BAD_INPUT", message: expect.stringMatching(/released/),
      });
      const encB = await m.encode(b.src);
      expect((encB.feeds.cross_k_0!.data as Float32Array).buffer).toBe(bufferA);
      const logitsB = (await m.decode(encB, m.emptyCache(), b.tgt)).logits;
      for (let t = 0; t < b.tgt.length; t++) expect(maxAbsDiff(logitsB[t]!, ref.cases[0]!.logits[t]!)).toBeLessThan(1e-3);
      // an unreleased state keeps its buffer: a second state gets its own
      const encA2 = await m.encode(a.src);
      expect((encA2.feeds.cross_k_0!.data as Float32Array).buffer).not.toBe(bufferA);
      const again = (await m.decode(encA2, m.emptyCache(), a.tgt)).logits;
      for (let t = 0; t < a.tgt.length; t++) expect(maxAbsDiff(again[t]!, logitsA[t]!)).toBeLessThan(1e-6);
      expect(maxAbsDiff((await m.decode(encB, m.emptyCache(), b.tgt)).logits[0]!, logitsB[0]!)).toBeLessThan(1e-6);
      m.release(encB);
      m.release(encA2);
      if (m !== fp32) await m.close();
    }
  });

  test("release(): the next sequence reuses the row store; caches of the released state or of another state are refused", async () => {
    const [a, b] = [CASES[2]!, CASES[0]!];
    const encA = await fp32.encode(a.src);
    const first = await fp32.decode(encA, fp32.emptyCache(), a.tgt.slice(0, 3));
    const rowsA = (first.cache.feeds.past_self_k_0!.data as Float32Array).buffer;
    // a cache is tied to the encoder state it was decoded with
    const other = await fp32.encode(b.src);
    await expect(fp32.decode(other, first.cache, [9])).rejects.toThrow(/another encoder state/);
    fp32.release(other);
    fp32.release(encA);
    const encB = await fp32.encode(b.src);
    await expect(fp32.decode(encB, first.cache, [9])).rejects.toThrow(/another encoder state/);
    await expect(fp32.decode(encA, first.cache, [9])).rejects.toThrow(/released/);
    // b's sequence takes a's rows (no new store), and its logits are b's own
    let cache = fp32.emptyCache();
    for (let t = 0; t < b.tgt.length; t++) {
      const step = await fp32.decode(encB, cache, [b.tgt[t]!]);
      expect(maxAbsDiff(step.logits[0]!, ref.cases[0]!.logits[t]!)).toBeLessThan(1e-3);
      cache = step.cache;
    }
    expect((cache.feeds.past_self_k_0!.data as Float32Array).buffer).toBe(rowsA);
    fp32.release(encB);
  });

  test("a closed model refuses work", async () => {
    const m = await NeedleOnnxModel.load(join(dir, "int8"));
    await m.close();
    await expect(m.encode([7])).rejects.toThrow(/closed/);
  });

  test("a graph that does not fit config.json is MODEL_INVALID naming the missing input", async () => {
    const cfg = JSON.parse(readFileSync(join(dir, "fp32", "config.json"), "utf8"));
    cfg.architecture.decoder_layers = 3;
    const d = mkdtempSync(join(dir, "bad-"));
    expect(cfg.files.weights).toBe("weights.data"); // the exporter's default: one shared weights file
    expect(cfg.files.cross).toBe("cross.onnx"); // and the cross K/V graph
    for (const f of ["encoder.onnx", "decoder.onnx", "cross.onnx", "tokenizer.model", "weights.data"]) {
      copyFileSync(join(dir, "fp32", f), join(d, f));
    }
    writeFileSync(join(d, "config.json"), JSON.stringify(cfg));
    await expect(NeedleOnnxModel.load(d)).rejects.toThrow(/graph has no input 'past_self_k_2'/);
    // a model whose encoder outputs the K/V itself names the missing layer's K
    const old = JSON.parse(readFileSync(join(dir, "variant5", "config.json"), "utf8"));
    old.architecture.decoder_layers = 3;
    const d5 = mkdtempSync(join(dir, "bad-"));
    for (const f of ["encoder.onnx", "decoder.onnx", "tokenizer.model", "weights.data"]) {
      copyFileSync(join(dir, "variant5", f), join(d5, f));
    }
    writeFileSync(join(d5, "config.json"), JSON.stringify(old));
    await expect(NeedleOnnxModel.load(d5)).rejects.toThrow(/graph has no output 'cross_k_2'/);
    rmSync(join(d, "weights.data"));
    cfg.architecture.decoder_layers = 2;
    writeFileSync(join(d, "config.json"), JSON.stringify(cfg));
    await expect(NeedleOnnxModel.load(d)).rejects.toMatchObject({ code: "MODEL_MISSING", message: expect.stringMatching(/weights\.data: missing/) });
    copyFileSync(join(dir, "fp32", "weights.data"), join(d, "weights.data"));
    writeFileSync(join(d, "decoder.onnx"), "not a protobuf");
    await expect(NeedleOnnxModel.load(d)).rejects.toMatchObject({
      code: "MODEL_INVALID", message: expect.stringMatching(/decoder\.onnx: onnxruntime cannot load the decoder graph/),
    });
  });
});
