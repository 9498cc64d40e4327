// NeedleEngine: Needle v1 as a ToolCaller. One request:
//
//   text, tools ──> tool set (validated, serialised, grammar compiled; cached by content)
//              ──> retrieval when more than K tools are declared (query + tool embeddings from the encoder's
//                  retrieval head; tool embeddings cached) ──> the K tools in the prompt, in declared order
//              ──> encoder input (query + <tools> + tools JSON, truncated as Needle does) ──> encoder, once
//              ──> decoder fed [eos, <tool_call>] in one run ──> grammar-constrained greedy decoding with
//                  jump-forward and the self-attention KV cache ──> calls with the declared names + confidence
//
// Calls are serialised per engine (one ONNX session pair, one request at a time, FIFO) and can be aborted
// through `signal` while queued or between decoder steps.
import { Ajv, type ValidateFunction } from "ajv";
import { modelMinConfidence, modelMinToolSimilarity } from "./abstain.js";
import { Confidence, tokenProbability, topKProbability } from "./confidence.js";
import type { StepScores } from "./grammar/decode.js";
import { compileGrammar, decodeConstrained, Vocabulary, type TokenGrammar } from "./grammar/index.js";
import { loadModelDir } from "./model-dir.js";
import { NeedleOnnxModel, type DecoderCache, type EncoderState } from "./onnx-model.js";
import { buildEncoderInput, prepareTools, type PreparedTools } from "./prompt.js";
import { cutIsExact, queryHead } from "./query-text.js";
import { LruCache, RETRIEVAL_MAX_TOKENS, selectTools } from "./retrieval.js";
import { SentencePieceTokenizer } from "./sentencepiece.js";
import type { NormalizedTool } from "./tool-schema.js";
import { EngineError, type PredictOptions, type Prediction, type ToolCall, type ToolCaller, type ToolDeclaration } from "./types.js";

export const DEFAULT_MAX_TOOLS_IN_PROMPT = 8;
/** Most calls one answer may hold (the grammar's limit). */
export const MAX_CALLS = 4;

export interface EngineOptions {
  /** The model directory (models/FORMAT.md). */
  modelDir: string;
  /** Retrieval keeps this many tools in the prompt when more are declared (default 8). */
  maxToolsInPrompt?: number;
  /** onnxruntime intra-op threads per session (default 2). */
  threads?: number;
  /**
   * Decoder positions an answer may use, `[eos, <tool_call>]` included (default and maximum: the model's
   * max_decoder_len). An answer that cannot be completed within them is `[]`. Benchmarks of random-weight
   * models lower it so that their (meaningless) answers have a bounded length.
   */
  maxDecoderPositions?: number;
  /**
   * String values are spans of the query, as the Needle value convention has them ("the device as said"):
   * the grammar lets the model copy, not invent, text (default true). false: any string the schema allows.
   */
  spanValues?: boolean;
  /**
   * Score the declared tools against the query (the retrieval head) on every request, also when all of them fit
   * in the prompt, so that each prediction carries `toolSimilarity` (default: when the model has a
   * tool-similarity floor, src/engine/abstain.ts). Costs one short encoder run per request.
   */
  scoreTools?: boolean;
  /** Run one tiny request at open so that the first real one does not pay onnxruntime's first-run costs (default true). */
  warmup?: boolean;
}

/** How a prediction came about (tests, `needled predict --verbose`, measurements). */
export interface PredictionDetails {
  /** Encoder tokens of the prompt. */
  encoderTokens: number;
  truncated: { query: boolean; tools: boolean };
  /** Declared tools, and whether retrieval chose among them. */
  declaredTools: number;
  retrieval: boolean;
  /** Cosine similarity of each declared tool to the query (retrieval or `scoreTools`), declared order. */
  retrievalScores?: number[];
  /** How decoding ended: "eos" (a complete answer), "budget" (did not fit: []), "dead", "invalid" (failed the
   * final schema check: []), "no-tools" (nothing declared: [] without running the model). */
  status: "eos" | "budget" | "dead" | "invalid" | "no-tools";
  /** The model's own first choice after [eos] was <tool_call> (it is fed regardless). */
  firstTokenWasToolCall: boolean;
  /** The answer as the model wrote it (snake_case names). */
  answer: string;
  /** Answer tokens (forced ones included, eos excluded), decoder runs, tokens fed by jump-forward. */
  answerTokens: number;
  decoderCalls: number;
  forcedTokens: number;
  /** Decoder I/O 3 models: steps re-run for their whole row of logits because the top K could not decide a
   * pick (or give the <tool_call> probability); not counted in decoderCalls. Always 0 for I/O 1/2 models. */
  fullRowFetches: number;
  /** Probability of each model decision, in order (see confidence.ts). */
  decisions: number[];
  /** Geometric mean of `decisions` (measurements only). */
  geometricMeanConfidence: number;
  /** Where the time went (ms): tool set + tokenization, retrieval, encoder, decoding (grammar included). */
  timings: { prepare: number; retrieval: number; encode: number; decode: number };
}

export interface DetailedPrediction extends Prediction {
  details: PredictionDetails;
}

/** Counters of the engine's caches (tests and diagnostics). */
export interface EngineStats {
  predictions: number;
  toolSetHits: number;
  toolSetMisses: number;
  grammarCompiles: number;
  toolEmbeddingHits: number;
  toolEmbeddingsComputed: number;
  queryEmbeddings: number;
}

interface PromptTools {
  prepared: PreparedTools;
  grammar: TokenGrammar;
  /** Declared names of the tools in the prompt. */
  names: string[];
}

/** One declared tool set, by content: its validated form and what was derived from it. */
interface ToolSet {
  prepared: PreparedTools;
  byModelName: Map<string, NormalizedTool>;
  /** All the tools, prompt-ready: their grammar is compiled once, and the subsets share its tools' parts. */
  all: PromptTools;
  /** Prompt-ready retrieval subsets by their indices (ascending, joined by ","). */
  subsets: LruCache<string, PromptTools>;
  validators: Map<string, ValidateFunction | null>;
}

const TOOL_SET_CACHE = 32;
const SUBSETS_PER_TOOL_SET = 64;
const TOOL_EMBEDDING_CACHE = 4096;

function checkK(k: unknown, what: string): number {
  if (typeof k !== "number" || !Number.isInteger(k) || k < 1) {
    throw new EngineError(`${what} must be a positive integer, got ${String(k)}`, "BAD_INPUT");
  }
  return k;
}

/** The lowest similarity among the called tools (each call names a declared tool: #checkCalls mapped it). */
function calledToolSimilarity(calls: readonly ToolCall[], declared: readonly NormalizedTool[], scores: readonly number[]): number {
  let min = Infinity;
  for (const c of calls) {
    const i = declared.findIndex((t) => t.name === c.name);
    min = Math.min(min, i >= 0 ? scores[i]! : -1);
  }
  return min;
}

function aborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const why = signal.reason instanceof Error ? `: ${signal.reason.message}` : "";
    throw new EngineError(`the prediction was aborted${why}`, "ABORTED");
  }
}

export class NeedleEngine implements ToolCaller {
  readonly model: NeedleOnnxModel;
  readonly tokenizer: SentencePieceTokenizer;
  readonly vocab: Vocabulary;
  readonly maxToolsInPrompt: number;
  readonly maxDecoderPositions: number;
  readonly spanValues: boolean;
  readonly scoreTools: boolean;
  readonly #exactCuts: boolean;
  readonly #toolSets = new LruCache<string, ToolSet>(TOOL_SET_CACHE);
  readonly #toolEmbeddings = new LruCache<string, Float32Array>(TOOL_EMBEDDING_CACHE);
  readonly #stats: EngineStats = {
    predictions: 0, toolSetHits: 0, toolSetMisses: 0, grammarCompiles: 0, toolEmbeddingHits: 0,
    toolEmbeddingsComputed: 0, queryEmbeddings: 0,
  };
  readonly #ajv = new Ajv({ strict: false, validateFormats: false, allowUnionTypes: true });
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  private constructor(model: NeedleOnnxModel, tokenizer: SentencePieceTokenizer, opts: EngineOptions) {
    this.model = model;
    this.tokenizer = tokenizer;
    const ids = model.config.special_ids;
    this.vocab = Vocabulary.fromTokenizer(tokenizer, { eosId: ids.eos, disallowIds: [ids.tool_call, ids.tools] });
    this.maxToolsInPrompt = checkK(opts.maxToolsInPrompt ?? DEFAULT_MAX_TOOLS_IN_PROMPT, "maxToolsInPrompt");
    const maxDec = model.config.max_decoder_len;
    const positions = opts.maxDecoderPositions ?? maxDec;
    if (!Number.isInteger(positions) || positions < 3 || positions > maxDec) {
      throw new EngineError(`maxDecoderPositions must be an integer in [3, ${maxDec}], got ${positions}`, "BAD_INPUT");
    }
    this.maxDecoderPositions = positions;
    this.spanValues = opts.spanValues ?? true;
    this.scoreTools = opts.scoreTools ?? modelMinToolSimilarity(model.config) > 0;
    this.#exactCuts = cutIsExact(tokenizer);
  }

  /** The model's recommended confidence floor (config.json `decision.min_confidence`; src/engine/abstain.ts). */
  get minConfidence(): number {
    return modelMinConfidence(this.model.config);
  }

  /** The model's recommended tool-similarity floor (config.json `decision.min_tool_similarity`; abstain.ts). */
  get minToolSimilarity(): number {
    return modelMinToolSimilarity(this.model.config);
  }

  /** Loads the model directory. EngineError MODEL_MISSING / MODEL_INVALID with the file and the reason. */
  static async open(opts: EngineOptions): Promise<NeedleEngine> {
    if (typeof opts?.modelDir !== "string" || opts.modelDir === "") {
      throw new EngineError("no model directory given", "MODEL_MISSING");
    }
    const dir = loadModelDir(opts.modelDir);
    const tokenizer = await SentencePieceTokenizer.load(dir.paths.tokenizer);
    const cfg = dir.config;
    if (tokenizer.vocabSize !== cfg.architecture.vocab_size) {
      throw new EngineError(`${dir.paths.tokenizer}: ${tokenizer.vocabSize} pieces, but ${dir.paths.config} says ` +
        `vocab_size ${cfg.architecture.vocab_size}`, "MODEL_INVALID");
    }
    for (const [symbol, id] of [["<tool_call>", cfg.special_ids.tool_call], ["<tools>", cfg.special_ids.tools]] as const) {
      if (tokenizer.pieceToId(symbol) !== id) {
        throw new EngineError(`${dir.paths.tokenizer}: ${symbol} is not id ${id} as ${dir.paths.config} says`, "MODEL_INVALID");
      }
    }
    const model = await NeedleOnnxModel.load(dir, opts.threads !== undefined ? { threads: opts.threads } : {});
    let engine: NeedleEngine;
    try {
      engine = new NeedleEngine(model, tokenizer, opts);
      if (opts.warmup ?? true) await engine.#warmup();
    } catch (err) {
      await model.close();
      throw err;
    }
    return engine;
  }

  get stats(): Readonly<EngineStats> {
    return { ...this.#stats };
  }

  predict(text: string, tools: ToolDeclaration[], options: PredictOptions = {}): Promise<Prediction> {
    return this.predictDetailed(text, tools, options).then(({ details: _d, ...p }) => p);
  }

  /** The retrieval similarity of `text` to each declared tool (declared order): what `toolSimilarity` reports. */
  toolSimilarities(text: string, tools: readonly ToolDeclaration[]): Promise<number[]> {
    return this.#inTurn(async () => {
      if (typeof text !== "string" || text.trim() === "") throw new EngineError("the text is empty: there is nothing to score", "BAD_INPUT");
      const declared = this.#toolSet(tools).prepared.tools;
      if (declared.length === 0) return [];
      const head = queryHead(this.tokenizer, text, this.model.config.max_encoder_len - 2, this.#exactCuts);
      return (await this.#retrieve(head.ids, declared, declared.length)).scores;
    });
  }

  /** Runs `work` after the requests queued before it (one ONNX session set, one request at a time, FIFO). */
  #inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new EngineError("the engine has been closed", "BAD_INPUT"));
    const run = this.#queue.then(work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** predict() with the details of how the answer came about. */
  predictDetailed(text: string, tools: readonly ToolDeclaration[], options: PredictOptions = {}): Promise<DetailedPrediction> {
    const signal = options.signal;
    const run = this.#inTurn(() => this.#predictNow(text, tools, options));
    if (!signal) return run;
    // Aborting a queued request answers at once; its turn then does nothing (#predictNow checks the signal).
    return new Promise<DetailedPrediction>((resolve, reject) => {
      const onAbort = () => {
        try {
          aborted(signal);
        } catch (err) {
          reject(err);
        }
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      run.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  /** Waits for the requests in flight, then releases the ONNX sessions; later predictions fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue;
    await this.model.close();
  }

  // ---- one request -------------------------------------------------------------------------------------

  async #predictNow(text: string, tools: readonly ToolDeclaration[], options: PredictOptions): Promise<DetailedPrediction> {
    aborted(options.signal);
    const t0 = performance.now();
    if (typeof text !== "string") throw new EngineError("the text must be a string", "BAD_INPUT");
    if (text.trim() === "") throw new EngineError("the text is empty: there is nothing to predict from", "BAD_INPUT");
    const k = checkK(options.maxToolsInPrompt ?? this.maxToolsInPrompt, "maxToolsInPrompt");
    const set = this.#toolSet(tools);
    const cfg = this.model.config;
    const head = queryHead(this.tokenizer, text, cfg.max_encoder_len - 2, this.#exactCuts);
    this.#stats.predictions++;

    const declared = set.prepared.tools;
    if (declared.length === 0) {
      return this.#result(t0, [], 1, [], undefined, {
        encoderTokens: 0, truncated: { query: false, tools: false }, declaredTools: 0, retrieval: false,
        status: "no-tools", firstTokenWasToolCall: true, answer: "[]", answerTokens: 0, decoderCalls: 0,
        forcedTokens: 0, fullRowFetches: 0, decisions: [], geometricMeanConfidence: 1,
        timings: { prepare: performance.now() - t0, retrieval: 0, encode: 0, decode: 0 },
      });
    }

    const tPrepared = performance.now();
    let subsetKey = "*";
    let scores: number[] | undefined;
    if (declared.length > k || this.scoreTools) {
      const picked = await this.#retrieve(head.ids, declared, k, options.signal);
      scores = picked.scores;
      if (declared.length > k) subsetKey = picked.kept.join(",");
    }
    const prompt = this.#promptTools(set, subsetKey);
    const tRetrieved = performance.now();

    const input = buildEncoderInput(this.tokenizer, head.text, prompt.prepared, { maxLen: cfg.max_encoder_len });
    aborted(options.signal);
    const enc = await this.model.encode(input.ids);
    try {
      aborted(options.signal);
      const tEncoded = performance.now();

      const { eos, tool_call: toolCall } = cfg.special_ids;
      const first = await this.#step(enc, this.model.emptyCache(), [eos, toolCall]);
      const confidence = new Confidence();
      const decisions: number[] = [];
      const opening = await this.#firstDecision(first.rows[0]!, toolCall);
      confidence.observeProbability(opening.p);
      decisions.push(opening.p);
      const firstTokenWasToolCall = opening.argmax;

      let cache: DecoderCache = first.cache;
      const decoded = await decodeConstrained(prompt.grammar, first.rows[1]!, async (ids) => {
        aborted(options.signal);
        const step = await this.#step(enc, cache, ids);
        cache = step.cache;
        return step.rows[step.rows.length - 1]!;
      }, {
        usedPositions: 2,
        ...(this.spanValues ? { spanText: head.text } : {}),
        maxPositions: this.maxDecoderPositions,
        encode: (s) => this.tokenizer.encodeNoDummyPrefix(s),
        onPick: (token, logits, forced) => {
          if (!forced) decisions.push(confidence.observe(logits, token));
        },
      });

      let status: PredictionDetails["status"] = decoded.status;
      let calls: ToolCall[] = [];
      if (decoded.status === "eos") {
        const mapped = this.#checkCalls(set, decoded.calls);
        if (mapped === null) status = "invalid";
        else calls = mapped;
      }
      // An answer that had to be abandoned is no answer: nothing to be confident about.
      const value = status === "eos" ? confidence.value : 0;
      const similarity = scores && calls.length > 0 ? calledToolSimilarity(calls, declared, scores) : undefined;
      return this.#result(t0, calls, value, prompt.names, similarity, {
        encoderTokens: input.ids.length,
        truncated: { query: head.cut || input.truncated.query, tools: input.truncated.tools },
        declaredTools: declared.length,
        retrieval: declared.length > k,
        ...(scores ? { retrievalScores: scores } : {}),
        status,
        firstTokenWasToolCall,
        answer: decoded.text.trimStart(),
        answerTokens: decoded.tokens.length,
        decoderCalls: decoded.decoderCalls + 1,
        forcedTokens: decoded.forcedTokenCount,
        fullRowFetches: decoded.fullRowFetches + (opening.fetched ? 1 : 0),
        decisions,
        geometricMeanConfidence: confidence.geometricMean,
        timings: {
          prepare: tPrepared - t0, retrieval: tRetrieved - tPrepared, encode: tEncoded - tRetrieved,
          decode: performance.now() - tEncoded,
        },
      });
    } finally {
      this.model.release(enc); // its cross K/V buffer goes to the next request
    }
  }

  /**
   * One decoder step. Decoder I/O 3 models hand back each new token's top-K logits and log-sum-exp (TopKScores:
   * the whole row only when asked), others the whole rows; decodeConstrained and Confidence take either.
   */
  async #step(enc: EncoderState, cache: DecoderCache, ids: readonly number[]): Promise<{ rows: StepScores[]; cache: DecoderCache }> {
    if (this.model.decoderIo !== 3) {
      const r = await this.model.decode(enc, cache, ids);
      return { rows: r.logits, cache: r.cache };
    }
    const r = await this.model.decodeTopK(enc, cache, ids);
    return {
      rows: r.rows.map((row, i) => ({ ...row, full: async () => (await r.fullLogits())[i]! })),
      cache: r.cache,
    };
  }

  /** The probability of <tool_call> after [eos], and whether it was the model's first choice. */
  async #firstDecision(row: StepScores, toolCall: number): Promise<{ p: number; argmax: boolean; fetched: boolean }> {
    if (!(row instanceof Float32Array)) {
      const p = topKProbability(row, toolCall);
      if (p !== undefined) {
        let max = -Infinity;
        for (let j = 0; j < row.values.length; j++) max = Math.max(max, row.values[j]!);
        const v = row.values[Array.prototype.indexOf.call(row.ids, toolCall)]!;
        return { p, argmax: !(max > v), fetched: false };
      }
    }
    const full = row instanceof Float32Array ? row : await row.full();
    return { p: tokenProbability(full, toolCall), argmax: argmaxIs(full, toolCall), fetched: !(row instanceof Float32Array) };
  }

  #result(t0: number, calls: ToolCall[], confidence: number, toolsInPrompt: string[], toolSimilarity: number | undefined,
    details: PredictionDetails): DetailedPrediction {
    return {
      calls, confidence, ms: performance.now() - t0, toolsInPrompt,
      ...(toolSimilarity !== undefined ? { toolSimilarity } : {}), details,
    };
  }

  // ---- tool sets, retrieval, validation ----------------------------------------------------------------

  /** The tool set for these declarations, from the cache when the same content was seen before. */
  #toolSet(tools: readonly ToolDeclaration[]): ToolSet {
    const prepared = prepareTools(tools);
    // Content key: the prompt JSON holds the snake_case names, descriptions and parameters as declared; the
    // declared names (mapped back on output) are added since two spellings can share a snake_case name.
    const key = `${prepared.tools.map((t) => t.name).join("\u0000")}\u0001${prepared.json}`;
    const hit = this.#toolSets.get(key);
    if (hit) {
      this.#stats.toolSetHits++;
      return hit;
    }
    this.#stats.toolSetMisses++;
    // The whole set's grammar is compiled now: a schema the grammar cannot satisfy is a BAD_TOOLS error for the
    // request that declares it, whether or not retrieval would have kept that tool.
    const grammar = compileGrammar(prepared.tools.map((t) => ({ name: t.modelName, schema: t.parameters })), this.vocab,
      { maxCalls: MAX_CALLS });
    this.#stats.grammarCompiles++;
    const set: ToolSet = {
      prepared,
      byModelName: new Map(prepared.tools.map((t) => [t.modelName, t])),
      all: { prepared, grammar, names: prepared.tools.map((t) => t.name) },
      subsets: new LruCache(SUBSETS_PER_TOOL_SET),
      validators: new Map(),
    };
    this.#toolSets.set(key, set);
    return set;
  }

  /** Prepared tools + grammar for a subset of a tool set ("*" or ascending indices joined by ","). */
  #promptTools(set: ToolSet, subsetKey: string): PromptTools {
    if (subsetKey === "*") return set.all;
    const hit = set.subsets.get(subsetKey);
    if (hit) return hit;
    const indices = subsetKey.split(",").map(Number);
    const chosen = indices.map((i) => set.prepared.tools[i]!);
    const prepared: PreparedTools = {
      tools: chosen,
      json: `[${chosen.map((t) => t.promptJson).join(",")}]`,
      nameMap: new Map(chosen.map((t) => [t.modelName, t.name])),
    };
    const grammar = set.all.grammar.subset(indices);
    this.#stats.grammarCompiles++;
    const out: PromptTools = { prepared, grammar, names: chosen.map((t) => t.name) };
    set.subsets.set(subsetKey, out);
    return out;
  }

  async #retrieve(queryIds: readonly number[], tools: readonly NormalizedTool[], k: number, signal?: AbortSignal) {
    const q = queryIds.slice(0, RETRIEVAL_MAX_TOKENS);
    // A query of no tokens (cannot happen after the empty-text check, but a tokenizer may drop everything)
    // ranks nothing: keep the first k.
    if (q.length === 0) return { kept: tools.slice(0, k).map((_, i) => i), scores: tools.map(() => 0) };
    aborted(signal);
    const queryEmbedding = await this.model.embed(q);
    this.#stats.queryEmbeddings++;
    const embeddings: Float32Array[] = [];
    for (const t of tools) {
      let e = this.#toolEmbeddings.get(t.promptJson);
      if (e) this.#stats.toolEmbeddingHits++;
      else {
        aborted(signal);
        const ids = this.tokenizer.encode(t.promptJson).slice(0, RETRIEVAL_MAX_TOKENS);
        e = Float32Array.from(await this.model.embed(ids)); // a copy: onnxruntime may reuse its output buffer
        this.#toolEmbeddings.set(t.promptJson, e);
        this.#stats.toolEmbeddingsComputed++;
      }
      embeddings.push(e);
    }
    return selectTools(queryEmbedding, embeddings, k);
  }

  /**
   * Maps the answer's snake_case names back to the declared ones and checks every call against its tool's
   * schema with ajv: the grammar enforces the keywords listed in grammar/README.md, and this catches a value
   * that breaks one it does not (pattern, format, multipleOf, ...). null when a call fails: the answer is then
   * `[]`. A schema ajv cannot compile (a bad regex) is not checked beyond the grammar.
   */
  #checkCalls(set: ToolSet, raw: ReadonlyArray<{ name: string; arguments: Record<string, unknown> }>): ToolCall[] | null {
    const out: ToolCall[] = [];
    for (const c of raw) {
      const tool = set.byModelName.get(c.name);
      if (!tool) return null; // the grammar only writes declared names
      let validate = set.validators.get(tool.modelName);
      if (validate === undefined) {
        try {
          validate = this.#ajv.compile(tool.parameters);
        } catch {
          validate = null;
        }
        this.#ajv.removeSchema(tool.parameters); // the ToolSet (bounded) keeps the function, ajv need not

        set.validators.set(tool.modelName, validate);
      }
      const args = c.arguments ?? {};
      if (validate && !validate(args)) return null;
      out.push({ name: tool.name, arguments: args });
    }
    return out;
  }

  async #warmup(): Promise<void> {
    const { eos, tool_call: toolCall, tools } = this.model.config.special_ids;
    const enc = await this.model.encode([tools]);
    await this.model.decode(enc, this.model.emptyCache(), [eos, toolCall]);
    this.model.release(enc);
    await this.model.embed([tools]);
  }
}

function argmaxIs(row: Float32Array, id: number): boolean {
  const v = row[id]!;
  for (let i = 0; i < row.length; i++) if (row[i]! > v) return false;
  return true;
}
