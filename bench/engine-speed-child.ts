// One model's engine speed, measured in its own process so that peak RSS belongs to this model alone.
//   node dist/bench/engine-speed-child.js MODEL_DIR [--rounds N] [--threads N]   speed (EngineSpeed)
//   node dist/bench/engine-speed-child.js MODEL_DIR --serve N [--threads N]       memory while serving (ServeMemory)
// Prints one JSON line on stdout.
import { readFileSync } from "node:fs";
import { NeedleOnnxModel, type DecoderCache, type EncoderState } from "../src/engine/onnx-model.js";

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
  prefill: Record<string, Timing & { tokens: number }>;
  /** One new token per call, encoder 512 tokens, cache 32. */
  decode: Timing;
  /** The same step in the first 30 calls after an encode (512 tokens), per call: median and best over requests. */
  decodeAfterEncode: Timing;
  /** The reference way: the whole 33-token prefix per call, no cache. */
  reference: Timing;
  rssAfterLoadMB: number;
  peakRssMB: number;
  afterLoad: Memory;
  /** Largest anonymous RSS seen between the phases (the kernel keeps no peak of it). */
  peakAnonMB: number;
  cpuSeconds: number;
  wallSeconds: number;
}

/** Peak memory of a process that only serves requests like the daemon: encoder 512 tokens, [eos, <tool_call>],
 * then 40 one-token steps, `requests` times (each request's ids differ). */
export interface ServeMemory {
  model: string;
  requests: number;
  afterLoad: Memory;
  end: Memory;
  peakRssMB: number;
  peakAnonMB: number;
  msPerRequest: number;
}

function statusMB(key: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
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
  const afterLoad = memory();
  let peakAnonMB = afterLoad.anonMB;
  const sample = () => void (peakAnonMB = Math.max(peakAnonMB, memory().anonMB));
  const V = m.config.architecture.vocab_size;

  const prefill: EngineSpeed["prefill"] = {};
  for (const T of [128, 512, 1024].filter((t) => t <= m.config.max_encoder_len)) {
    const x = ids(T, V, T);
    prefill[T] = { tokens: T, ...(await time(() => m.encode(x), T >= 1024 ? 2 : 5, rounds, 2)) };
    sample();
  }

  const { eos, tool_call: toolCall } = m.config.special_ids;
  const after: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const e = await m.encode(ids(512, V, 100 + r));
    let step = await m.decode(e, m.emptyCache(), [eos, toolCall]);
    const a = now();
    for (let i = 0; i < 30; i++) step = await m.decode(e, step.cache, [6 + ((r * 31 + i * 7) % (V - 6))]);
    after.push((now() - a) / 30);
  }
  const decodeAfterEncode = summary(after);
  sample();

  const enc: EncoderState = await m.encode(ids(512, V, 1));
  const prefix = [eos, ...ids(32, V, 2)];
  const filled = await m.decode(enc, m.emptyCache(), prefix.slice(0, 32));
  const cache: DecoderCache = filled.cache; // 32 tokens
  const decode = await time(() => m.decode(enc, cache, [prefix[32]!]), 50, rounds, 20);
  sample();
  const reference = await time(() => m.decode(enc, m.emptyCache(), prefix), 10, rounds, 3);
  sample();
  await m.close();

  const cpu = process.cpuUsage(cpu0);
  return {
    model: m.dir, name: m.config.name, quantization: m.config.quantization, decoderIo: m.decoderIo, threads, prefill,
    decode, decodeAfterEncode, reference, rssAfterLoadMB, peakRssMB: statusMB("VmHWM"), afterLoad, peakAnonMB,
    cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: (now() - t0) / 1000,
  };
}

async function serve(dir: string, requests: number, threads: number): Promise<ServeMemory> {
  const m = await NeedleOnnxModel.load(dir, { threads, requireTokenizer: false });
  const afterLoad = memory();
  let peakAnonMB = afterLoad.anonMB;
  const V = m.config.architecture.vocab_size;
  const { eos, tool_call: toolCall } = m.config.special_ids;
  const t0 = now();
  for (let r = 0; r < requests; r++) {
    const e = await m.encode(ids(512, V, 1000 + r));
    let step = await m.decode(e, m.emptyCache(), [eos, toolCall]);
    for (let i = 0; i < 40; i++) step = await m.decode(e, step.cache, [6 + ((r * 131 + i * 17) % (V - 6))]);
    peakAnonMB = Math.max(peakAnonMB, memory().anonMB);
  }
  const msPerRequest = (now() - t0) / requests;
  const end = memory();
  await m.close();
  return { model: m.dir, requests, afterLoad, end, peakRssMB: statusMB("VmHWM"), peakAnonMB, msPerRequest };
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
  const out = args.includes("--serve") ? await serve(dir, opt("--serve", 30), threads) : await speed(dir, opt("--rounds", 7), threads);
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`engine-speed-child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
