// Needle's two ONNX graphs in onnxruntime-node (graph I/O: models/FORMAT.md).
//
//   const m = await NeedleOnnxModel.load("models/default");
//   const enc = await m.encode(ids);                       // cross K/V of every decoder layer, once per request
//   let cache = m.emptyCache();
//   const { logits, cache: next } = await m.decode(enc, cache, [eos]);   // logits[i]: row for the i-th new token
//
// Copies: onnxruntime-node wraps every input typed array in place (no copy) and hands outputs back as arrays
// over onnxruntime's own buffers, so the encoder's cross K/V and the previous step's present K/V go back in
// as they are; a decode step moves only the new ids in and the logits + grown cache out.
import { InferenceSession, Tensor } from "onnxruntime-node";
import { loadModelDir, type ModelConfig, type ModelDir } from "./model-dir.js";
import { EngineError } from "./types.js";

export interface NeedleOnnxOptions {
  /** Intra-op threads per session (default 2: the target hubs have 2-4 cores and this machine 2). */
  threads?: number;
  /** Extra onnxruntime session options (benchmarks and experiments). */
  sessionOptions?: InferenceSession.SessionOptions;
  /** Require tokenizer.model in the directory (default true). */
  requireTokenizer?: boolean;
}

/** What the decoder needs from one encoder run. Immutable; reuse it for every decode step of the request. */
export interface EncoderState {
  /** Encoder tokens T. */
  readonly length: number;
  /** Retrieval embedding of the encoder input (L2-normalised, retrieval_dim). */
  readonly embedding: Float32Array;
  /** `encoder_attention_mask`, `cross_k_i`, `cross_v_i` feeds for the decoder. */
  readonly feeds: Readonly<Record<string, Tensor>>;
}

/** The decoder's self-attention cache after `length` tokens. Immutable: decode() returns a new one. */
export interface DecoderCache {
  readonly length: number;
  /** `past_self_k_i`, `past_self_v_i` feeds. */
  readonly feeds: Readonly<Record<string, Tensor>>;
}

export interface DecodeResult {
  /** One row of vocab_size logits per new token (views over one buffer). */
  logits: Float32Array[];
  cache: DecoderCache;
}

function int64(ids: ArrayLike<number>): Tensor {
  const a = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) a[i] = BigInt(ids[i]!);
  return new Tensor("int64", a, [1, ids.length]);
}

export class NeedleOnnxModel {
  readonly config: ModelConfig;
  readonly dir: string;
  #enc: InferenceSession | undefined;
  #dec: InferenceSession | undefined;
  readonly #pastNames: string[];
  readonly #presentNames: string[];
  readonly #crossNames: string[];
  readonly #empty: DecoderCache;

  private constructor(dir: ModelDir, enc: InferenceSession, dec: InferenceSession) {
    this.config = dir.config;
    this.dir = dir.dir;
    this.#enc = enc;
    this.#dec = dec;
    const L = dir.config.architecture.decoder_layers;
    this.#pastNames = [];
    this.#presentNames = [];
    this.#crossNames = [];
    for (let i = 0; i < L; i++) {
      this.#pastNames.push(`past_self_k_${i}`, `past_self_v_${i}`);
      this.#presentNames.push(`present_self_k_${i}`, `present_self_v_${i}`);
      this.#crossNames.push(`cross_k_${i}`, `cross_v_${i}`);
    }
    const { num_kv_heads: KV, head_dim: hd } = dir.config.architecture;
    const none = new Tensor("float32", new Float32Array(0), [1, KV, 0, hd]);
    this.#empty = Object.freeze({ length: 0, feeds: Object.freeze(Object.fromEntries(this.#pastNames.map((n) => [n, none]))) });
    NeedleOnnxModel.#checkGraphs(dir, enc, dec, this.#crossNames, this.#pastNames, this.#presentNames);
  }

  static async load(dirOrModel: string | ModelDir, options: NeedleOnnxOptions = {}): Promise<NeedleOnnxModel> {
    const md = typeof dirOrModel === "string"
      ? loadModelDir(dirOrModel, { requireTokenizer: options.requireTokenizer ?? true })
      : dirOrModel;
    const base: InferenceSession.SessionOptions = {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      intraOpNumThreads: options.threads ?? 2,
      interOpNumThreads: 1,
      ...options.sessionOptions,
    };
    const open = async (path: string, what: "encoder" | "decoder") => {
      try {
        // The encoder's buffers scale with the input (attention scores, K/V of up to 1024 tokens): without the
        // arena they go back after each run (measured: peak RSS 212 -> 172 MB at 1024 tokens, same speed).
        // The decoder's are small and per token, where the arena saves allocator calls.
        const opts = what === "encoder" ? { enableCpuMemArena: false, ...base } : base;
        return await InferenceSession.create(path, opts);
      } catch (err) {
        throw new EngineError(`${path}: onnxruntime cannot load the ${what} graph: ${(err as Error).message}`, "MODEL_INVALID");
      }
    };
    const enc = await open(md.paths.encoder, "encoder");
    let dec: InferenceSession;
    try {
      dec = await open(md.paths.decoder, "decoder");
    } catch (err) {
      await enc.release();
      throw err;
    }
    try {
      return new NeedleOnnxModel(md, enc, dec);
    } catch (err) {
      await Promise.all([enc.release(), dec.release()]);
      throw err;
    }
  }

  static #checkGraphs(md: ModelDir, enc: InferenceSession, dec: InferenceSession, cross: string[], past: string[],
    present: string[]): void {
    const need = (s: InferenceSession, kind: "input" | "output", names: string[], file: string) => {
      const have = new Set(kind === "input" ? s.inputNames : s.outputNames);
      const missing = names.find((n) => !have.has(n));
      if (missing !== undefined) {
        throw new EngineError(`${file}: graph has no ${kind} '${missing}' (models/FORMAT.md; config.json says ` +
          `${md.config.architecture.decoder_layers} decoder layers)`, "MODEL_INVALID");
      }
    };
    need(enc, "input", ["input_ids", "attention_mask"], md.paths.encoder);
    need(enc, "output", [...cross, "embedding"], md.paths.encoder);
    need(dec, "input", ["input_ids", "position_ids", "encoder_attention_mask", ...past, ...cross], md.paths.decoder);
    need(dec, "output", ["logits", ...present], md.paths.decoder);
  }

  #sessions(): [InferenceSession, InferenceSession] {
    if (!this.#enc || !this.#dec) throw new EngineError("the model has been closed", "BAD_INPUT");
    return [this.#enc, this.#dec];
  }

  #checkIds(ids: ArrayLike<number>, what: string, max: number): void {
    const V = this.config.architecture.vocab_size;
    if (ids.length === 0) throw new EngineError(`${what}: no tokens`, "BAD_INPUT");
    if (ids.length > max) throw new EngineError(`${what}: ${ids.length} tokens, the model takes at most ${max}`, "BAD_INPUT");
    for (let i = 0; i < ids.length; i++) {
      const t = ids[i]!;
      if (!Number.isInteger(t) || t < 0 || t >= V) {
        throw new EngineError(`${what}: token ${i} is ${t}, not an id in [0, ${V})`, "BAD_INPUT");
      }
    }
  }

  /** Run the encoder over `ids` (query + <tools> + tools, at most max_encoder_len). */
  async encode(ids: ArrayLike<number>): Promise<EncoderState> {
    const [enc] = this.#sessions();
    this.#checkIds(ids, "encoder input", this.config.max_encoder_len);
    const mask = int64(new Array<number>(ids.length).fill(1));
    const out = await enc.run({ input_ids: int64(ids), attention_mask: mask });
    const feeds: Record<string, Tensor> = { encoder_attention_mask: mask };
    for (const n of this.#crossNames) feeds[n] = out[n] as Tensor;
    return Object.freeze({ length: ids.length, embedding: (out.embedding as Tensor).data as Float32Array, feeds: Object.freeze(feeds) });
  }

  /** Retrieval embedding of one text's tokens (no special tokens; the engine keeps it to <= 256 tokens). */
  async embed(ids: ArrayLike<number>): Promise<Float32Array> {
    const [enc] = this.#sessions();
    this.#checkIds(ids, "retrieval text", this.config.max_encoder_len);
    const out = await enc.run({ input_ids: int64(ids), attention_mask: int64(new Array<number>(ids.length).fill(1)) },
      ["embedding"]);
    return (out.embedding as Tensor).data as Float32Array;
  }

  /** The cache before the first decoder token. */
  emptyCache(): DecoderCache {
    return this.#empty;
  }

  /** Feed `newIds` (n >= 1: one sampled token, or a run of grammar-forced tokens) after `cache`. */
  async decode(enc: EncoderState, cache: DecoderCache, newIds: ArrayLike<number>): Promise<DecodeResult> {
    const [, dec] = this.#sessions();
    const n = newIds.length;
    this.#checkIds(newIds, "decoder input", this.config.max_decoder_len);
    if (cache.length + n > this.config.max_decoder_len) {
      throw new EngineError(`decoder input: ${cache.length} + ${n} tokens exceed max_decoder_len ` +
        `${this.config.max_decoder_len}`, "BAD_INPUT");
    }
    const positions = new Array<number>(n);
    for (let i = 0; i < n; i++) positions[i] = cache.length + i;
    const out = await dec.run({ ...enc.feeds, ...cache.feeds, input_ids: int64(newIds), position_ids: int64(positions) });
    const past: Record<string, Tensor> = {};
    for (let i = 0; i < this.#pastNames.length; i++) past[this.#pastNames[i]!] = out[this.#presentNames[i]!] as Tensor;
    const all = (out.logits as Tensor).data as Float32Array;
    const V = this.config.architecture.vocab_size;
    const logits: Float32Array[] = [];
    for (let i = 0; i < n; i++) logits.push(all.subarray(i * V, (i + 1) * V));
    return { logits, cache: Object.freeze({ length: cache.length + n, feeds: Object.freeze(past) }) };
  }

  /** Release both sessions; later calls throw. */
  async close(): Promise<void> {
    const s = [this.#enc, this.#dec];
    this.#enc = this.#dec = undefined;
    await Promise.all(s.map((x) => x?.release()));
  }
}
