// One model's engine speed, measured in its own process so that peak RSS belongs to this model alone.
//   node dist/bench/engine-speed-child.js MODEL_DIR [--rounds N] [--threads N]   speed (EngineSpeed)
//   node dist/bench/engine-speed-child.js MODEL_DIR --serve N [--threads N] [--positions P]
//                                                                             memory while serving (ServeMemory)
// Prints one JSON line on stdout. The parent runs it with the node flags the daemon runs with (NODE_FLAGS).
// Peaks per phase: VmHWM is reset (`5` into /proc/self/clear_refs) before a phase and read after it.
import { readFileSync, writeFileSync } from "node:fs";
import { tokenProbability } from "../src/engine/confidence.js";
import { openEngine } from "../src/engine/index.js";
import { NeedleOnnxModel, type DecoderCache, type EncoderState } from "../src/engine/onnx-model.js";
import { builtinCatalogue, findCatalogueDev } from "./predict-latency.js";

export interface Timing {
  /** Milliseconds per call: median and best of the rounds. */
  medianMs: number;
  bestMs: number;
}

/** Resident memory in MB: anonymous (the process's own) and file-backed (node, libonnxruntime, mapped weights:
 * clean pages shared with the page cache, which the kernel can drop and read back). */
export interface Memory {
  rssMB: number;
  anonMB: number;
  fileMB: number;
}

export interface EngineSpeed {
  model: string;
  name: string;
  quantization: string;
  /** Decoder I/O of the graphs (models/FORMAT.md). */
  decoderIo: number;
  threads: number;
  /** V8/node flags of this process. */
  nodeFlags: string[];
  /** Per encoder length: time, and the process's peak RSS during those runs (MB). */
  prefill: Record<string, Timing & { tokens: number; peakRssMB: number }>;
  /** One new token per call, encoder 512 tokens, cache 32, the way the engine asks (I/O 3: decodeTopK). */
  decode: Timing;
  /** The same step plus what the engine then does with its scores for an unconstrained pick: the best token and
   * its probability (I/O 1/2: argmax and log-sum-exp over the whole row; I/O 3: the first of the top K). */
  decodePick: Timing;
  /** I/O 3 only: decode() asking for the whole row of logits instead (the fallback's cost). */
  decodeFullRow?: Timing;
  /** The same step in the first 30 calls after an encode (512 tokens), per call: median and best over requests. */
  decodeAfterEncode: Timing;
  /** The reference way: the whole 33-token prefix per call, no cache. */
  reference: Timing;
  rssAfterLoadMB: number;
  /** Peak RSS while loading (VmHWM after load). */
  loadPeakMB: number;
  /** Peak RSS of the whole run (the largest phase peak). */
  peakRssMB: number;
  afterLoad: Memory;
  /** Largest anonymous RSS seen between the phases (the kernel keeps no peak of it). */
  peakAnonMB: number;
  cpuSeconds: number;
  wallSeconds: number;
}

/** Memory of a process that serves like the daemon: the engine (openEngine) with the built-in catalogue
 * declared (18 tools, retrieval K=8), answering the queries of catalogue-dev.jsonl (or the tools' own examples
 * when ../shared is absent) once each. */
export interface ServeMemory {
  model: string;
  requests: number;
  queries: "catalogue-dev" | "tool examples";
  /** Decoder positions per answer (random-weight models: capped, their answers are noise). */
  maxDecoderPositions: number;
  afterLoad: Memory;
  /** Peak RSS while loading (the engine's warm-up included). */
  loadPeakMB: number;
  end: Memory;
  /** Peak RSS of the whole process, load included. */
  peakRssMB: number;
  peakAnonMB: number;
  msPerRequest: number;
  meanEncoderTokens: number;
  meanDecoderCalls: number;
  /** I/O 3: steps re-run for the whole row (the top K could not decide), per request. */
  fullRowFetchesPerRequest: number;
}

function statusMB(key: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Restart VmHWM from the current RSS (Linux >= 4.0); false when the kernel refuses. */
function resetPeak(): boolean {
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    return true;
  } catch {
    return false;
  }
}

function memory(): Memory {
  const r = readFileSync("/proc/self/smaps_rollup", "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(r)?.[1] ?? NaN);
  const rss = kb("Rss") / 1024;
  const anon = kb("Anonymous") / 1024;
  return { rssMB: rss, anonMB: anon, fileMB: rss - anon };
}

const now = () => performance.now();

/** `rounds` rounds of `reps` calls after `warm` warm-up calls; ms per call. */
async function time(fn: () => Promise<unknown>, reps: number, rounds: number, warm: number): Promise<Timing> {
  for (let i = 0; i < warm; i++) await fn();
  const per: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = now();
    for (let i = 0; i < reps; i++) await fn();
    per.push((now() - t0) / reps);
  }
  return summary(per);
}

function summary(per: number[]): Timing {
  const s = [...per].sort((a, b) => a - b);
  return { medianMs: s[s.length >> 1]!, bestMs: s[0]! };
}

function ids(n: number, V: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 6 + (s % (V - 6));
  });
}

async function speed(dir: string, rounds: number, threads: number): Promise<EngineSpeed> {
  const t0 = now();
  const cpu0 = process.cpuUsage();
  const m = await NeedleOnnxModel.load(dir, { threads, requireTokenizer: false });
  const rssAfterLoadMB = statusMB("VmRSS");
  const loadPeakMB = statusMB("VmHWM");
  const afterLoad = memory();
  let peakAnonMB = afterLoad.anonMB;
  let peakRssMB = loadPeakMB;
  const sample = () => void (peakAnonMB = Math.max(peakAnonMB, memory().anonMB));
  /** The peak since the last phase (VmHWM reset), folded into the run's peak. */
  const phasePeak = () => {
    const p = statusMB("VmHWM");
    peakRssMB = Math.max(peakRssMB, p);
    resetPeak();
    return p;
  };
  resetPeak();
  const V = m.config.architecture.vocab_size;

  const prefill: EngineSpeed["prefill"] = {};
  for (const T of [128, 512, 1024].filter((t) => t <= m.config.max_encoder_len)) {
    const x = ids(T, V, T);
    // each encode is a request's: released when done, as the engine does (its K/V buffer goes to the next one)
    const timing = await time(async () => m.release(await m.encode(x)), T >= 1024 ? 2 : 5, rounds, 2);
    sample();
    prefill[T] = { tokens: T, ...timing, peakRssMB: phasePeak() };
  }

  const topK = m.decoderIo === 3;
  const { eos, tool_call: toolCall } = m.config.special_ids;
  const after: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const e = await m.encode(ids(512, V, 100 + r));
    let cache = (await m.decode(e, m.emptyCache(), [eos, toolCall])).cache;
    const a = now();
    for (let i = 0; i < 30; i++) {
      const next = [6 + ((r * 31 + i * 7) % (V - 6))];
      cache = topK ? (await m.decodeTopK(e, cache, next)).cache : (await m.decode(e, cache, next)).cache;
    }
    after.push((now() - a) / 30);
    m.release(e);
  }
  const decodeAfterEncode = summary(after);
  sample();

  const enc: EncoderState = await m.encode(ids(512, V, 1));
  const prefix = [eos, ...ids(32, V, 2)];
  const filled = await m.decode(enc, m.emptyCache(), prefix.slice(0, 32));
  const cache: DecoderCache = filled.cache; // 32 tokens
  const last = [prefix[32]!];
  let sink = 0;
  const step = topK ? () => m.decodeTopK(enc, cache, last) : () => m.decode(enc, cache, last);
  const stepPick = topK
    ? async () => {
      const { rows } = await m.decodeTopK(enc, cache, last);
      const r = rows[0]!;
      sink += r.ids[0]! + Math.exp(r.values[0]! - r.logSumExp);
    }
    : async () => {
      const row = (await m.decode(enc, cache, last)).logits[0]!;
      let best = 0;
      for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
      sink += best + tokenProbability(row, best);
    };
  const decode = await time(step, 50, rounds, 20);
  const decodePick = await time(stepPick, 50, rounds, 10);
  const decodeFullRow = topK ? await time(() => m.decode(enc, cache, last), 50, rounds, 10) : undefined;
  sample();
  const reference = await time(() => m.decode(enc, m.emptyCache(), prefix), 10, rounds, 3);
  sample();
  phasePeak();
  await m.close();
  if (Number.isNaN(sink)) process.stderr.write("(NaN scores)\n");

  const cpu = process.cpuUsage(cpu0);
  return {
    model: m.dir, name: m.config.name, quantization: m.config.quantization, decoderIo: m.decoderIo, threads,
    nodeFlags: process.execArgv, prefill, decode, decodePick, ...(decodeFullRow ? { decodeFullRow } : {}),
    decodeAfterEncode, reference, rssAfterLoadMB, loadPeakMB, peakRssMB, afterLoad, peakAnonMB,
    cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: (now() - t0) / 1000,
  };
}

/** The queries a serving process answers: catalogue-dev.jsonl's (measuring only), else the tools' examples. */
function serveQueries(limit: number): { queries: string[]; source: ServeMemory["queries"] } {
  const dev = findCatalogueDev();
  if (dev) {
    const queries = readFileSync(dev, "utf8").split("\n").filter((l) => l.trim())
      .map((l) => (JSON.parse(l) as { query: string }).query);
    return { queries: queries.slice(0, limit), source: "catalogue-dev" };
  }
  const examples = builtinCatalogue(true).flatMap((t) => t.examples ?? []);
  return { queries: examples.slice(0, limit), source: "tool examples" };
}

async function serve(dir: string, requests: number, threads: number, positions: number | undefined): Promise<ServeMemory> {
  const engine = await openEngine({ modelDir: dir, threads, ...(positions ? { maxDecoderPositions: positions } : {}) });
  const loadPeakMB = statusMB("VmHWM");
  const afterLoad = memory();
  let peakAnonMB = afterLoad.anonMB;
  const tools = builtinCatalogue();
  const { queries, source } = serveQueries(requests);
  let encoderTokens = 0;
  let decoderCalls = 0;
  let fetches = 0;
  const t0 = now();
  for (const q of queries) {
    const p = await engine.predictDetailed(q, tools);
    encoderTokens += p.details.encoderTokens;
    decoderCalls += p.details.decoderCalls;
    fetches += p.details.fullRowFetches;
    peakAnonMB = Math.max(peakAnonMB, memory().anonMB);
  }
  const n = queries.length;
  const msPerRequest = (now() - t0) / n;
  const end = memory();
  await engine.close();
  return {
    model: dir, requests: n, queries: source, maxDecoderPositions: engine.maxDecoderPositions, afterLoad, loadPeakMB, end,
    peakRssMB: statusMB("VmHWM"), peakAnonMB, msPerRequest, meanEncoderTokens: encoderTokens / n,
    meanDecoderCalls: decoderCalls / n, fullRowFetchesPerRequest: fetches / n,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args[0];
  if (!dir) throw new Error("usage: engine-speed-child MODEL_DIR [--rounds N] [--threads N] [--serve N]");
  const opt = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const threads = opt("--threads", 2);
  const positions = args.includes("--positions") ? opt("--positions", 0) : undefined;
  const out = args.includes("--serve")
    ? await serve(dir, opt("--serve", 100), threads, positions)
    : await speed(dir, opt("--rounds", 7), threads);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`engine-speed-child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
