// One model's engine speed, measured in its own process so that peak RSS belongs to this model alone.
//   node dist/bench/engine-speed-child.js MODEL_DIR [--rounds N] [--threads N]
// Prints one JSON line (EngineSpeed) on stdout.
import { readFileSync } from "node:fs";
import { NeedleOnnxModel, type DecoderCache, type EncoderState } from "../src/engine/onnx-model.js";

export interface Timing {
  /** Milliseconds per call: median and best of the rounds. */
  medianMs: number;
  bestMs: number;
}

export interface EngineSpeed {
  model: string;
  name: string;
  quantization: string;
  threads: number;
  prefill: Record<string, Timing & { tokens: number }>;
  /** One new token per call, encoder 512 tokens, cache 32. */
  decode: Timing;
  /** The reference way: the whole 33-token prefix per call, no cache. */
  reference: Timing;
  rssAfterLoadMB: number;
  peakRssMB: number;
  cpuSeconds: number;
  wallSeconds: number;
}

function statusMB(key: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
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
  per.sort((a, b) => a - b);
  return { medianMs: per[per.length >> 1]!, bestMs: per[0]! };
}

function ids(n: number, V: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 6 + (s % (V - 6));
  });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args[0];
  if (!dir) throw new Error("usage: engine-speed-child MODEL_DIR [--rounds N] [--threads N]");
  const opt = (name: string, dflt: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : dflt;
  };
  const rounds = opt("--rounds", 7);
  const threads = opt("--threads", 2);
  const t0 = now();
  const cpu0 = process.cpuUsage();
  const m = await NeedleOnnxModel.load(dir, { threads, requireTokenizer: false });
  const rssAfterLoadMB = statusMB("VmRSS");
  const V = m.config.architecture.vocab_size;

  const prefill: EngineSpeed["prefill"] = {};
  for (const T of [128, 512, 1024].filter((t) => t <= m.config.max_encoder_len)) {
    const x = ids(T, V, T);
    prefill[T] = { tokens: T, ...(await time(() => m.encode(x), T >= 1024 ? 2 : 5, rounds, 2)) };
  }

  const enc: EncoderState = await m.encode(ids(512, V, 1));
  const prefix = [m.config.special_ids.eos, ...ids(32, V, 2)];
  const filled = await m.decode(enc, m.emptyCache(), prefix.slice(0, 32));
  const cache: DecoderCache = filled.cache; // 32 tokens
  const decode = await time(() => m.decode(enc, cache, [prefix[32]!]), 50, rounds, 20);
  const reference = await time(() => m.decode(enc, m.emptyCache(), prefix), 10, rounds, 3);
  await m.close();

  const cpu = process.cpuUsage(cpu0);
  const out: EngineSpeed = {
    model: m.dir, name: m.config.name, quantization: m.config.quantization, threads, prefill, decode, reference,
    rssAfterLoadMB, peakRssMB: statusMB("VmHWM"), cpuSeconds: (cpu.user + cpu.system) / 1e6,
    wallSeconds: (now() - t0) / 1000,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`engine-speed-child: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
