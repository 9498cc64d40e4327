// Needle's two ONNX graphs in onnxruntime-node (graph I/O: models/FORMAT.md).
//
//   const m = await NeedleOnnxModel.load("models/default");
//   const enc = await m.encode(ids);                       // cross K/V of every decoder layer, once per request
//   let cache = m.emptyCache();
//   const { logits, cache: next } = await m.decode(enc, cache, [eos]);   // logits[i]: row for the i-th new token
//
// Copies: onnxruntime-node wraps every input typed array in place (no copy), but copies every output into a
// fresh JS ArrayBuffer (preallocated outputs too), so what a graph hands back per call is what piles up until V8
// collects it. Decoder I/O 2 (the exporter's default) therefore keeps the self-attention cache here: each
// sequence's k/v rows live in one growing buffer (RowStore), fed back as [1, P, kv_dim] prefix views, and a step
// returns only its new rows (`new_self_kv`: 16 KiB per token for the 26M shape) and the logits. Decoder I/O 3
// adds the top-K logits of each new token and their log-sum-exp as outputs: decodeTopK() asks for those instead
// of the whole row (32 KiB per token for an 8k vocabulary), and fullLogits() re-runs a step for `logits` only
// when the caller needs them after all. Decoder I/O 1 (models exported before I/O 2) hands the whole grown
// cache back per call; all three are supported.
//
// Cross K/V: models with cross.onnx (config.json files.cross) have an encoder that outputs its final hidden
// states (`encoder_hidden`), and cross.onnx projects one decoder layer's K/V per run; older models' encoder
// outputs every layer's K/V in one run. Same K/V either way, but the layer-per-run path never has all of them
// twice (onnxruntime's outputs and their JS copies: 16 KB per encoder token each for the 26M shape) at once,
// and retrieval embeddings (embed()) no longer compute K/V that nobody reads.
//
// Either way the K/V an EncoderState reads live in one buffer of the model's (CrossStore): each output's JS copy
// is copied in and dropped at once, and young-generation GCs during and at the end of encode() (when node runs
// with --expose-gc, as the daemon does: src/cli/node-flags.ts) free those copies before the decoder starts
// (CROSS_GC_LAYERS). release(enc) at the end of a request
// hands the buffer to the next encode(), so serving does not leave every request's K/V (8 MB at 512 encoder
// tokens) to V8's next full GC. A state that was never released keeps its buffer, as before.
import { realpathSync } from "node:fs";
import { InferenceSession, Tensor } from "onnxruntime-node";
import { dropCleanFilePages } from "./file-pages.js";
import { loadModelDir, type ModelConfig, type ModelDir } from "./model-dir.js";
import { EngineError } from "./types.js";

export interface NeedleOnnxOptions {
  /** Intra-op threads per session (default 2: the target hubs have 2-4 cores and this machine 2). */
  threads?: number;
  /** Extra onnxruntime session options (benchmarks and experiments). */
  sessionOptions?: InferenceSession.SessionOptions;
  /** Require tokenizer.model in the directory (default true). */
  requireTokenizer?: boolean;
  /** After loading, drop the process's clean file-backed pages from its RSS (default true; file-pages.ts). */
  dropFilePages?: boolean;
}

/** What the decoder needs from one encoder run. Immutable; reuse it for every decode step of the request. */
export interface EncoderState {
  /** Encoder tokens T (as given: encode() may pad them for onnxruntime, see ENCODER_BUCKET). */
  readonly length: number;
  /** Retrieval embedding of the encoder input (L2-normalised, retrieval_dim). */
  readonly embedding: Float32Array;
  /** `encoder_attention_mask`, `cross_k_i`, `cross_v_i` feeds for the decoder. */
  readonly feeds: Readonly<Record<string, Tensor>>;
}

/**
 * The decoder's self-attention cache after `length` tokens. decode() returns a new one and never changes the rows
 * an existing cache reads, with one exception (I/O 2 models, where a sequence's caches share one buffer): decoding
 * again from an earlier cache of the same sequence writes its new rows where the later caches had theirs, and
 * those later caches are then stale (decode() refuses them with a BAD_INPUT EngineError). Going on from the
 * newest cache, or re-decoding from the same cache again and again (what a benchmark does), is always fine.
 */
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

/** One new token's scores from a decoder I/O 3 step: its K highest logits and the softmax's normaliser. */
export interface TopKRow {
  /** Token ids of the K highest logits, highest first (onnxruntime's TopK; equal logits in its order). */
  readonly ids: Int32Array;
  /** Their logits. */
  readonly values: Float32Array;
  /** log(sum(exp(logits))) over the whole row: a token's probability is exp(logit - logSumExp). */
  readonly logSumExp: number;
}

export interface DecodeTopKResult {
  /** One row per new token. */
  rows: TopKRow[];
  cache: DecoderCache;
  /**
   * The step's whole logits, one row per new token (what decode() returns): re-runs the same step asking for
   * `logits` only, without writing the cache again. The first call runs it; later calls share the answer.
   */
  fullLogits(): Promise<Float32Array[]>;
}

/** The I/O 3 outputs decodeTopK() asks for. */
const TOPK_OUTPUTS = ["top_logits", "top_ids", "logsumexp"] as const;

function int64(ids: ArrayLike<number>): Tensor {
  const a = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) a[i] = BigInt(ids[i]!);
  return new Tensor("int64", a, [1, ids.length]);
}

/**
 * One decoded sequence's self-attention rows (decoder I/O 2): for each decoder layer a k and a v block of
 * `capacity` rows of kv_dim floats, all in one Float32Array. `stamp[r]` is the write (a counter) that last wrote row
 * r, so a cache made at write t is intact while no row below its length has a later stamp.
 */
class RowStore {
  readonly data: Float32Array;
  readonly stamp: Uint32Array;
  #clock = 0;

  constructor(readonly blocks: number, readonly rowWidth: number, readonly capacity: number) {
    this.data = new Float32Array(blocks * capacity * rowWidth);
    this.stamp = new Uint32Array(capacity);
  }

  /** Rows [0, rows) of block b. */
  view(b: number, rows: number): Float32Array {
    const at = b * this.capacity * this.rowWidth;
    return this.data.subarray(at, at + rows * this.rowWidth);
  }

  intact(length: number, time: number): boolean {
    for (let r = 0; r < length; r++) if (this.stamp[r]! > time) return false;
    return true;
  }

  /** The store for a new sequence (its earlier one's encoder state released): no row is written yet. The clock
   * goes on, so a cache of the earlier sequence would read as stale (decode() refuses those caches before). */
  reuse(): this {
    this.stamp.fill(0);
    return this;
  }

  /** A bigger store holding rows [0, keep) of this one (this one is left as it is for caches still reading it). */
  grown(keep: number, need: number, max: number): RowStore {
    const s = new RowStore(this.blocks, this.rowWidth, Math.min(max, Math.max(need, 2 * this.capacity)));
    for (let b = 0; b < this.blocks; b++) s.data.set(this.view(b, keep), b * s.capacity * this.rowWidth);
    return s;
  }

  /** Write n new rows at [at, at + n) from `rows` ([n][blocks][rowWidth], the graph's new_self_kv); -> the write's time. */
  write(at: number, n: number, rows: Float32Array): number {
    const t = ++this.#clock;
    const W = this.rowWidth;
    for (let j = 0; j < n; j++) {
      for (let b = 0; b < this.blocks; b++) {
        const from = (j * this.blocks + b) * W;
        this.data.set(rows.subarray(from, from + W), (b * this.capacity + at + j) * W);
      }
      this.stamp[at + j] = t;
    }
    return t;
  }
}

/**
 * Per-session options on top of `base` (the caller's sessionOptions win, key by key in `extra.session`).
 * - Encoder (and cross.onnx) of a GroupQueryAttention model without the memory arena: its buffers scale with the
 *   input (attention scores, K/V of up to 1024 tokens) and go back after each run (measured: peak RSS 212 -> 172
 *   MB at 1024 tokens, same speed); and without memory patterns, which are per input shape and every request has
 *   its own length (measured with cross.onnx: peak RSS at 512/1024 tokens 144/187 -> 138/178 MB, serving 183 ->
 *   181 MB, same speed).
 * - An exact-length encoder (config.json encoder_padding "none": MultiHeadAttention's flash kernel, no score
 *   matrix) and its cross.onnx WITH the arena: their intermediates are hundreds of 0.25-1 MB tensors (9 MB live
 *   at most at 1024 tokens, traced), which glibc's heap placed ever higher (a 95-110 MB heap after one 1024-token
 *   encoder run); onnxruntime's arena reuses its blocks. Measured (random 26M int8, 2-core box, 2 runs each):
 *   peak RSS encoding 1024 tokens 202-222 -> 152-157 MB, serving (bench engine-speed child) 186-200 -> 166-169 MB.
 * - Thread spinning: each session has its own pool, and by default an idle worker spins for tens of ms after a
 *   run, on a 2-core box taking a core from the other session. The encoder stops spinning when its run ends
 *   (`force_spinning_stop`); the decoder spins at most 1 ms (`intra_op.spin_duration_us`), enough to stay hot
 *   between the steps of one request. Measured on the 2-core box (int8 26M): encoder 512 right after a decode
 *   82 -> 58 ms, the first decoder steps after an encode ~2.0 -> ~1.2 ms, steady decode unchanged.
 */
function sessionOptionsFor(what: "encoder" | "decoder" | "cross", base: InferenceSession.SessionOptions,
  exactEncoder: boolean): InferenceSession.SessionOptions {
  const extra = (base.extra ?? {}) as Record<string, unknown>;
  const session = (extra.session ?? {}) as Record<string, string>;
  const once = what !== "decoder"; // once per request (cross.onnx: a run per decoder layer, right after the encoder)
  const spin = once ? { force_spinning_stop: "1" } : { "intra_op.spin_duration_us": "1000" };
  return {
    ...(once ? { enableCpuMemArena: exactEncoder, enableMemPattern: false } : {}),
    ...base,
    extra: { ...extra, session: { ...spin, ...session } },
  };
}

/**
 * The encoder runs on a multiple of this many tokens: the input is padded at the end with masked pad tokens
 * (the encoder's attention, its retrieval pooling and the decoder's cross-attention all ignore them, as
 * tests/engine-onnx.test.ts checks). Why: onnxruntime's intermediates (~30 KB per encoder token for the 26M
 * shape) come from glibc's heap, and requests of ever-different lengths fragment it; with the sizes rounded to
 * a few dozen classes freed blocks fit the next request. Measured serving catalogue-dev (random 26M int8, mean
 * 589 encoder tokens): heap 87 -> 64 MB, peak RSS 201 -> 180 MB, 114 -> 116 ms per request (128: no better).
 * Not for models whose config.json says encoder_padding "none": their encoder runs on the real tokens whatever it
 * is given, and its intermediates come from onnxruntime's arena (see sessionOptionsFor).
 */
const ENCODER_BUCKET = 64;

/** Encoder tokens a CrossStore buffer is sized in: a bigger request takes a new buffer rounded up to a multiple
 * of this, so a server replaces its buffer at most max_encoder_len / CROSS_STEP times. */
const CROSS_STEP = 256;
/**
 * cross.onnx models: a young GC after every this many layers' runs frees their JS copies (1 MB per layer at 512
 * encoder tokens). Measured (bench engine-speed child, random 26M int8, 3 runs each): after every layer, peak
 * RSS at 1024 tokens 168-181 MB, prefill 512 9.6-10.4k tok/s; every 2: 179-180 MB, 10.4-10.6k; once at the end:
 * 174-200 MB, 10.4-11.2k.
 */
const CROSS_GC_LAYERS = 2;

/** node's gc() when it runs with --expose-gc (src/cli/node-flags.ts), else undefined: the collections below are
 * then skipped and V8 collects on its own schedule. */
const exposedGc = (globalThis as { gc?: (options?: { type: "minor" }) => void }).gc;

/** Frees the young generation's garbage (the JS copies of onnxruntime outputs just read) when node exposes gc. */
const collectYoung = (): void => exposedGc?.({ type: "minor" });

/** A full GC when node exposes gc: frees an outgrown K/V buffer (see #takeBuffer). Plain gc(): on node 20,
 * gc({ type: "major" }) left the dropped buffer alive (measured with process.memoryUsage().arrayBuffers). */
const collectAll = (): void => exposedGc?.();

/**
 * Decoder calls: a young GC once the JS buffers they made (onnxruntime-node's output copies, new row stores)
 * add up to this many bytes, run at the start of the next call, when the caller has dropped all but the last
 * call's results. V8 counts those buffers as external memory and, with a small heap, runs no GC for them until
 * they reach ~64 MB. An engine's steps make ~16 KB each (a young GC every ~60 steps, ~0.1-0.2 ms); the uncached
 * reference decode (every logit row of a 33-token prefix) ~1.6 MB per call. Measured (bench engine-speed child,
 * random 26M int8, 2 runs each), the whole run's peak RSS: 148-150 MB at 4 MB, 146-147 MB at 1 MB, decode speed
 * within the noise.
 */
const DECODE_GC_BYTES = 1 << 20;

/**
 * I/O 2/3: the store and write time behind a cache decode() returned, in a hidden (non-enumerable, symbol-keyed)
 * property of the cache itself. Not in a WeakMap keyed by the cache: V8's young-generation GC keeps a WeakMap's
 * values alive, so every request's row store (1-2 MB for the 26M shape) was promoted and then waited for a full
 * GC (measured: 40 uncached reference decodes left 33 MB of them; a young GC freed 2.6 MB of it, a full GC all).
 */
const ROWS = Symbol("needled.decoderRows");

interface RowsInfo {
  owner: NeedleOnnxModel;
  /** the encoder state the sequence decodes with */
  enc: EncoderState;
  store: RowStore;
  time: number;
}

function rowsOf(cache: DecoderCache): RowsInfo | undefined {
  return (cache as unknown as Record<symbol, RowsInfo | undefined>)[ROWS];
}

/** First capacity of a sequence's RowStore: a tool call is a few dozen tokens; doubling after that. */
const FIRST_ROWS = 64;

export class NeedleOnnxModel {
  readonly config: ModelConfig;
  readonly dir: string;
  /** Decoder I/O of the loaded graphs (models/FORMAT.md): 1 = past/present per layer, 2 = cache rows,
   * 3 = cache rows + top-K logits (decodeTopK). */
  readonly decoderIo: 1 | 2 | 3;
  #enc: InferenceSession | undefined;
  #dec: InferenceSession | undefined;
  /** cross.onnx, when the model has one (see the top of this file). */
  #cross: InferenceSession | undefined;
  readonly #hasCross: boolean;
  /** cross.onnx's `layer` feeds, one per decoder layer. */
  readonly #layerFeeds: Tensor[];
  readonly #pastNames: string[];
  readonly #presentNames: string[];
  readonly #crossNames: string[];
  readonly #empty: DecoderCache;
  readonly #rowWidth: number;
  /** The cross K/V buffer behind each EncoderState encode() returned, until release(). */
  readonly #crossBuffers = new WeakMap<EncoderState, Float32Array>();
  readonly #released = new WeakSet<EncoderState>();
  /** A released buffer, for the next encode(). */
  #spare: Float32Array | undefined;
  /** The largest row store of the sequences decoded with each live encoder state: release() keeps it. */
  readonly #stores = new WeakMap<EncoderState, RowStore>();
  /** A row store whose encoder state was released, for the next sequence (as #spare for the cross K/V). */
  #spareRows: RowStore | undefined;
  /** Bytes of JS buffers decoder calls made since the last young GC (see DECODE_GC_BYTES). */
  #decodeBytes = 0;

  private constructor(dir: ModelDir, enc: InferenceSession, dec: InferenceSession, cross: InferenceSession | undefined) {
    this.config = dir.config;
    this.dir = dir.dir;
    this.#enc = enc;
    this.#dec = dec;
    this.#cross = cross;
    this.#hasCross = cross !== undefined;
    const L = dir.config.architecture.decoder_layers;
    this.#layerFeeds = Array.from({ length: L }, (_, i) => new Tensor("int64", BigInt64Array.of(BigInt(i)), [1]));
    this.#pastNames = [];
    this.#presentNames = [];
    this.#crossNames = [];
    for (let i = 0; i < L; i++) {
      this.#pastNames.push(`past_self_k_${i}`, `past_self_v_${i}`);
      this.#presentNames.push(`present_self_k_${i}`, `present_self_v_${i}`);
      this.#crossNames.push(`cross_k_${i}`, `cross_v_${i}`);
    }
    this.decoderIo = !dec.outputNames.includes("new_self_kv") ? 1 : dec.outputNames.includes("top_ids") ? 3 : 2;
    const { num_kv_heads: KV, head_dim: hd } = dir.config.architecture;
    this.#rowWidth = KV * hd;
    const none = this.decoderIo !== 1
      ? new Tensor("float32", new Float32Array(0), [1, 0, KV * hd])
      : new Tensor("float32", new Float32Array(0), [1, KV, 0, hd]);
    this.#empty = Object.freeze({ length: 0, feeds: Object.freeze(Object.fromEntries(this.#pastNames.map((n) => [n, none]))) });
    NeedleOnnxModel.#checkGraphs(dir, enc, dec, cross, this.#crossNames, this.#pastNames,
      this.decoderIo === 1 ? this.#presentNames : this.decoderIo === 2 ? ["new_self_kv"] : ["new_self_kv", ...TOPK_OUTPUTS]);
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
    const open = async (path: string, what: "encoder" | "decoder" | "cross") => {
      try {
        return await InferenceSession.create(path, sessionOptionsFor(what, base, md.config.encoder_padding === "none"));
      } catch (err) {
        throw new EngineError(`${path}: onnxruntime cannot load the ${what} graph: ${(err as Error).message}`, "MODEL_INVALID");
      }
    };
    const opened: InferenceSession[] = [];
    try {
      const enc = await open(md.paths.encoder, "encoder");
      opened.push(enc);
      const cross = md.paths.cross !== undefined ? await open(md.paths.cross, "cross") : undefined;
      if (cross) opened.push(cross);
      const dec = await open(md.paths.decoder, "decoder");
      opened.push(dec);
      const model = new NeedleOnnxModel(md, enc, dec, cross);
      // session creation ran (and left resident) much code that the runs never touch again
      if (options.dropFilePages ?? true) dropCleanFilePages(md.paths.weights ? [realpathSync(md.paths.weights)] : []);
      return model;
    } catch (err) {
      await Promise.all(opened.map((x) => x.release()));
      throw err;
    }
  }

  static #checkGraphs(md: ModelDir, enc: InferenceSession, dec: InferenceSession, crossSession: InferenceSession | undefined,
    cross: string[], past: string[], present: string[]): void {
    const need = (s: InferenceSession, kind: "input" | "output", names: string[], file: string) => {
      const have = new Set(kind === "input" ? s.inputNames : s.outputNames);
      const missing = names.find((n) => !have.has(n));
      if (missing !== undefined) {
        throw new EngineError(`${file}: graph has no ${kind} '${missing}' (models/FORMAT.md; config.json says ` +
          `${md.config.architecture.decoder_layers} decoder layers)`, "MODEL_INVALID");
      }
    };
    need(enc, "input", ["input_ids", "attention_mask"], md.paths.encoder);
    if (crossSession) {
      need(enc, "output", ["encoder_hidden", "embedding"], md.paths.encoder);
      need(crossSession, "input", ["encoder_hidden", "layer"], md.paths.cross!);
      need(crossSession, "output", ["cross_k", "cross_v"], md.paths.cross!);
    } else {
      need(enc, "output", [...cross, "embedding"], md.paths.encoder);
    }
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
    // padded at the end to a multiple of ENCODER_BUCKET tokens, masked (see ENCODER_BUCKET), unless the model
    // says padding only costs it (config.json encoder_padding "none")
    const real = ids.length;
    const T = this.config.encoder_padding === "none" ? real
      : Math.min(this.config.max_encoder_len, Math.ceil(real / ENCODER_BUCKET) * ENCODER_BUCKET);
    const padded = T > real ? [...Array.from(ids), ...new Array<number>(T - real).fill(this.config.special_ids.pad)] : ids;
    const mask = int64([...new Array<number>(real).fill(1), ...new Array<number>(T - real).fill(0)]);
    const feeds: Record<string, Tensor> = { encoder_attention_mask: mask };
    const { num_kv_heads: KV, head_dim: hd } = this.config.architecture;
    // per token: every layer's k and v, then (cross.onnx models) the encoder's hidden state cross.onnx reads
    const hiddenWidth = this.#hasCross ? this.config.architecture.d_model : 0;
    const buffer = this.#takeBuffer(T, this.#crossNames.length * KV * hd + hiddenWidth);
    // the graphs' outputs are out of scope once #runEncoder returns: the young GC can free them
    const embedding = await this.#runEncoder(enc, padded, mask, buffer, feeds);
    collectYoung();
    const state: EncoderState = Object.freeze({ length: real, embedding, feeds: Object.freeze(feeds) });
    this.#crossBuffers.set(state, buffer);
    return state;
  }

  /** Runs the encoder (and cross.onnx per layer), copying every cross K/V into `buffer` and feeding views of it
   * (`feeds`); -> the retrieval embedding. */
  async #runEncoder(enc: InferenceSession, ids: ArrayLike<number>, mask: Tensor, buffer: Float32Array,
    feeds: Record<string, Tensor>): Promise<Float32Array> {
    const T = ids.length;
    const block = this.#rowWidth * T; // one layer's k (or v)
    /** Copies output `t` into block b of `buffer` and feeds that view as `name`. */
    const keep = (name: string, b: number, t: Tensor) => {
      const src = t.data as Float32Array;
      if (src.length !== block) {
        throw new EngineError(`${this.dir}: ${name} has ${src.length} values for ${T} encoder tokens, not ${block} ` +
          "(config.json architecture)", "MODEL_INVALID");
      }
      const view = buffer.subarray(b * block, (b + 1) * block);
      view.set(src);
      feeds[name] = new Tensor("float32", view, t.dims);
    };
    if (this.#hasCross) {
      const { hidden, embedding } = await this.#encoderHidden(enc, ids, mask, buffer.subarray(this.#crossNames.length * block));
      for (let i = 0; i < this.#layerFeeds.length; i++) {
        const cross = this.#cross;
        if (!cross) throw new EngineError("the model has been closed", "BAD_INPUT");
        await this.#crossLayer(cross, hidden, i, keep);
        if ((i + 1) % CROSS_GC_LAYERS === 0) collectYoung(); // at most that many layers' copies wait for V8
      }
      return embedding;
    }
    const out = await enc.run({ input_ids: int64(ids), attention_mask: mask });
    this.#crossNames.forEach((n, b) => keep(n, b, out[n] as Tensor));
    return (out.embedding as Tensor).data as Float32Array;
  }

  /** The encoder of a cross.onnx model: its hidden states copied to `into` (the JS copy onnxruntime-node made
   * then dies young; held through the layer runs it would survive their young GCs and wait for a full one). */
  async #encoderHidden(enc: InferenceSession, ids: ArrayLike<number>, mask: Tensor, into: Float32Array) {
    const out = await enc.run({ input_ids: int64(ids), attention_mask: mask }, ["encoder_hidden", "embedding"]);
    const h = out.encoder_hidden as Tensor;
    const view = into.subarray(0, (h.data as Float32Array).length);
    view.set(h.data as Float32Array);
    return { hidden: { encoder_hidden: new Tensor("float32", view, h.dims) }, embedding: (out.embedding as Tensor).data as Float32Array };
  }

  /** Runs cross.onnx for decoder layer i and hands its K and V to `keep` (their JS copies are garbage on return). */
  async #crossLayer(cross: InferenceSession, hidden: { encoder_hidden: Tensor }, i: number,
    keep: (name: string, b: number, t: Tensor) => void): Promise<void> {
    const kv = await cross.run({ ...hidden, layer: this.#layerFeeds[i]! });
    keep(this.#crossNames[2 * i]!, 2 * i, kv.cross_k as Tensor);
    keep(this.#crossNames[2 * i + 1]!, 2 * i + 1, kv.cross_v as Tensor);
  }

  /** A buffer for `tokens` encoder tokens of `perToken` floats: the released one when it is big enough. */
  #takeBuffer(tokens: number, perToken: number): Float32Array {
    if (this.#spare && this.#spare.length >= tokens * perToken) {
      const spare = this.#spare;
      this.#spare = undefined;
      return spare;
    }
    // An outgrown buffer is old-generation garbage now, and V8 sees no reason for a full GC while its heap is
    // small: every size a server grew through would stay resident beside the new one (measured, random 26M int8,
    // encoding 128, 512, then 1024 tokens: 32 MB of buffers instead of 18; bench engine-speed peak RSS at 1024
    // tokens 153-156 -> 136-139 MB). A full GC
    // here, at most max_encoder_len / CROSS_STEP times in a process's life, costs a few ms. (No local may hold
    // the old buffer across the GC.)
    if (this.#spare) {
      this.#spare = undefined;
      collectAll();
    }
    const rounded = Math.min(Math.ceil(tokens / CROSS_STEP) * CROSS_STEP, this.config.max_encoder_len);
    return new Float32Array(Math.max(tokens, rounded) * perToken);
  }

  /**
   * The end of `enc`'s request: its cross K/V buffer goes to the next encode(). Decoding with `enc` afterwards is
   * a BAD_INPUT EngineError. Releasing twice, or a state of another model, does nothing.
   */
  release(enc: EncoderState): void {
    const buffer = this.#crossBuffers.get(enc);
    if (!buffer) return;
    this.#crossBuffers.delete(enc);
    this.#released.add(enc);
    if (!this.#spare || buffer.length > this.#spare.length) this.#spare = buffer;
    const store = this.#stores.get(enc);
    if (store && (!this.#spareRows || store.capacity > this.#spareRows.capacity)) this.#spareRows = store;
    this.#stores.delete(enc);
  }

  #checkLive(enc: EncoderState): void {
    if (this.#released.has(enc)) {
      throw new EngineError("encoder state already released: its cross K/V buffer belongs to a later encode()", "BAD_INPUT");
    }
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
    this.#checkLive(enc);
    const n = newIds.length;
    const ids = this.#stepInputs(cache, newIds);
    if (this.decoderIo === 1) {
      this.#collectDecodeGarbage();
      const out = await dec.run({ ...enc.feeds, ...cache.feeds, ...ids });
      this.#madeBytes(out);
      const past: Record<string, Tensor> = {};
      for (let i = 0; i < this.#pastNames.length; i++) past[this.#pastNames[i]!] = out[this.#presentNames[i]!] as Tensor;
      return { logits: this.#logitRows(out.logits as Tensor, n), cache: Object.freeze({ length: cache.length + n, feeds: Object.freeze(past) }) };
    }
    const step = await this.#rowsStep(dec, enc, cache, ids, n, ["logits"]);
    return { logits: this.#logitRows(step.out.logits as Tensor, n), cache: step.next };
  }

  /**
   * decode() for decoder I/O 3 models: the same step, handing back each new token's top-K logits and log-sum-exp
   * (TopKRow) instead of its whole row of logits; fullLogits() gets the whole rows when they are needed after all.
   */
  async decodeTopK(enc: EncoderState, cache: DecoderCache, newIds: ArrayLike<number>): Promise<DecodeTopKResult> {
    const [, dec] = this.#sessions();
    if (this.decoderIo !== 3) {
      throw new EngineError(`${this.dir}: decodeTopK needs a decoder I/O 3 model (this one is I/O ${this.decoderIo}; ` +
        "models/FORMAT.md)", "BAD_INPUT");
    }
    this.#checkLive(enc);
    const n = newIds.length;
    const ids = this.#stepInputs(cache, newIds);
    const step = await this.#rowsStep(dec, enc, cache, ids, n, TOPK_OUTPUTS);
    const values = (step.out.top_logits as Tensor).data as Float32Array;
    const top = (step.out.top_ids as Tensor).data as Int32Array;
    const lse = (step.out.logsumexp as Tensor).data as Float32Array;
    const K = values.length / n;
    if (!Number.isInteger(K) || K < 1 || top.length !== values.length || lse.length !== n) {
      throw new EngineError(`${this.dir}: decoder.onnx gave ${values.length} top_logits, ${top.length} top_ids and ` +
        `${lse.length} logsumexp values for ${n} tokens (models/FORMAT.md, I/O 3)`, "MODEL_INVALID");
    }
    const rows: TopKRow[] = [];
    for (let i = 0; i < n; i++) {
      rows.push({ ids: top.subarray(i * K, (i + 1) * K), values: values.subarray(i * K, (i + 1) * K), logSumExp: lse[i]! });
    }
    let full: Promise<Float32Array[]> | undefined;
    const fullLogits = () => (full ??= (async () => {
      const [, d] = this.#sessions();
      this.#checkLive(enc);
      // the rows this step read must still be the ones it read (see DecoderCache on forks)
      if (!step.store.intact(cache.length, step.time)) {
        throw new EngineError(`decoder cache of ${cache.length} tokens is stale: its step's logits cannot be ` +
          "recomputed", "BAD_INPUT");
      }
      this.#collectDecodeGarbage();
      const out = await d.run({ ...enc.feeds, ...step.pastFeeds, ...ids }, ["logits"]);
      this.#madeBytes(out);
      return this.#logitRows(out.logits as Tensor, n);
    })());
    return { rows, cache: step.next, fullLogits };
  }

  /** Checks a step's new ids against the cache; -> the input_ids and position_ids feeds. */
  #stepInputs(cache: DecoderCache, newIds: ArrayLike<number>): Record<string, Tensor> {
    const n = newIds.length;
    this.#checkIds(newIds, "decoder input", this.config.max_decoder_len);
    if (cache.length + n > this.config.max_decoder_len) {
      throw new EngineError(`decoder input: ${cache.length} + ${n} tokens exceed max_decoder_len ` +
        `${this.config.max_decoder_len}`, "BAD_INPUT");
    }
    const positions = new Array<number>(n);
    for (let i = 0; i < n; i++) positions[i] = cache.length + i;
    return { input_ids: int64(newIds), position_ids: int64(positions) };
  }

  #logitRows(t: Tensor, n: number): Float32Array[] {
    const all = t.data as Float32Array;
    const V = this.config.architecture.vocab_size;
    const logits: Float32Array[] = [];
    for (let i = 0; i < n; i++) logits.push(all.subarray(i * V, (i + 1) * V));
    return logits;
  }

  /**
   * One I/O 2/3 step: runs the decoder on the cache's rows + `ids`, asking for `fetch` and new_self_kv, and
   * appends the new rows to the sequence's store. -> the outputs, the next cache, the past rows it read
   * (`pastFeeds`: rows [0, P) of `store`) and the time of its write, so that a re-run of the same step can check
   * that no later write (a fork) changed those rows: `store.intact(P, time)`.
   */
  async #rowsStep(dec: InferenceSession, enc: EncoderState, cache: DecoderCache, ids: Record<string, Tensor>, n: number,
    fetch: readonly string[]) {
    const P = cache.length;
    this.#collectDecodeGarbage();
    let store: RowStore;
    let pastFeeds = cache.feeds;
    if (P === 0) {
      store = this.#newStore(enc, Math.min(this.config.max_decoder_len, Math.max(FIRST_ROWS, n)));
    } else {
      const info = rowsOf(cache);
      if (info?.owner !== this) throw new EngineError("decoder cache: not one this model's decode() returned", "BAD_INPUT");
      if (info.enc !== enc) {
        throw new EngineError("decoder cache: made with another encoder state than the one given", "BAD_INPUT");
      }
      if (!info.store.intact(P, info.time)) {
        throw new EngineError(`decoder cache of ${P} tokens is stale: a decode from an earlier cache of the same ` +
          "sequence has rewritten its rows", "BAD_INPUT");
      }
      store = info.store;
      if (P + n > store.capacity) {
        store = store.grown(P, P + n, this.config.max_decoder_len);
        this.#keepStore(enc, store);
        this.#decodeBytes += store.data.byteLength;
        pastFeeds = this.#views(store, P);
      }
    }
    const out = await dec.run({ ...enc.feeds, ...pastFeeds, ...ids }, [...fetch, "new_self_kv"]);
    this.#madeBytes(out);
    const rows = (out.new_self_kv as Tensor).data as Float32Array;
    if (rows.length !== n * store.blocks * store.rowWidth) {
      throw new EngineError(`${this.dir}: decoder.onnx gave ${rows.length} new_self_kv values for ${n} tokens, not ` +
        `${n} x ${store.blocks} x ${store.rowWidth} (config.json architecture)`, "MODEL_INVALID");
    }
    const time = store.write(P, n, rows);
    const next = Object.freeze(Object.defineProperty({ length: P + n, feeds: this.#views(store, P + n) }, ROWS,
      { value: { owner: this, enc, store, time } satisfies RowsInfo })) as DecoderCache;
    return { out, next, pastFeeds, store, time };
  }

  /** A row store of at least `rows` rows for a new sequence decoding with `enc`: the spare one when it is big
   * enough (a server then allocates none per request), else a new one. */
  #newStore(enc: EncoderState, rows: number): RowStore {
    let store: RowStore;
    if (this.#spareRows && this.#spareRows.capacity >= rows) {
      store = this.#spareRows.reuse();
      this.#spareRows = undefined;
    } else {
      store = new RowStore(this.#pastNames.length, this.#rowWidth, rows);
      this.#decodeBytes += store.data.byteLength;
    }
    this.#keepStore(enc, store);
    return store;
  }

  #keepStore(enc: EncoderState, store: RowStore): void {
    const kept = this.#stores.get(enc);
    if (!kept || store.capacity > kept.capacity) this.#stores.set(enc, store);
  }

  /** A young GC when decoder calls have made DECODE_GC_BYTES of JS buffers since the last one. */
  #collectDecodeGarbage(): void {
    if (this.#decodeBytes < DECODE_GC_BYTES) return;
    this.#decodeBytes = 0;
    collectYoung();
  }

  #madeBytes(out: Record<string, unknown>): void {
    for (const v of Object.values(out)) {
      if (v instanceof Tensor && ArrayBuffer.isView(v.data)) this.#decodeBytes += v.data.byteLength;
    }
  }

  /** past_self_k/v_i feeds: rows [0, length) of each block of `store`. */
  #views(store: RowStore, length: number): Readonly<Record<string, Tensor>> {
    const feeds: Record<string, Tensor> = {};
    for (let b = 0; b < this.#pastNames.length; b++) {
      feeds[this.#pastNames[b]!] = new Tensor("float32", store.view(b, length), [1, length, this.#rowWidth]);
    }
    return Object.freeze(feeds);
  }

  /** Release the sessions; later calls throw. */
  async close(): Promise<void> {
    const s = [this.#enc, this.#dec, this.#cross];
    this.#enc = this.#dec = this.#cross = undefined;
    await Promise.all(s.map((x) => x?.release()));
  }
}
