// Predict latency: NeedleEngine.predict over the queries of ../shared/eval/catalogue-dev.jsonl with the whole
// built-in catalogue declared (18 tools, retrieval on, K = 8), p50/p95 and where the time goes, plus peak RSS.
// One child process per model (so that peak RSS is that model's alone):
//   - models/default (target: p50 <= 30 ms), when it exists;
//   - $NEEDLED_BENCH_MODEL, when set (e.g. a model exported from a training checkpoint);
//   - the random-weight 26M Needle-shape model, int8 and fp32 (bench/engine-speed.ts makes and caches them).
//     Random weights write arbitrary answers, so their decoding is capped at RANDOM_POSITIONS decoder positions
//     (a real catalogue answer takes ~10-20 decoder calls with jump-forward): their numbers are retrieval +
//     encoder + that many decode steps, i.e. the cost of the full-size architecture, not of its answers.
// Only the queries are read from the eval file (measuring, as the eval kit allows). The background training run
// is paused while timing (bench/run.ts does it for the whole run; this section does it too when run alone).
//   node dist/bench/predict-latency.js                 the section (as `npm run bench -- predict-latency`)
//   node dist/bench/predict-latency.js --child DIR ... one model (internal)
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { openEngine } from "../src/engine/index.js";
import { benchEnv, benchNodeFlags, machineBusy, waitQuiet } from "./engine-speed.js";
import type { ToolDeclaration } from "../src/engine/types.js";

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench when built
const ROOT = existsSync(join(HERE, "..", "..", "package.json")) ? join(HERE, "..", "..") : join(HERE, "..");
const RANDOM_POSITIONS = 24;
const RANDOM_QUERIES = 200;
const WARM = 10;

export interface PredictLatency {
  model: string;
  name: string;
  quantization: string;
  queries: number;
  maxDecoderPositions: number;
  p50: number;
  p95: number;
  mean: number;
  max: number;
  /** Medians (ms) of the parts. */
  parts: { prepare: number; retrieval: number; encode: number; decode: number };
  meanDecoderCalls: number;
  meanEncoderTokens: number;
  rssAfterLoadMB: number;
  peakRssMB: number;
  cpuSeconds: number;
  wallSeconds: number;
  /** CPU the rest of the machine used while this model was timed, % of one core (filled in by the parent). */
  othersPct?: number;
}

export function findCatalogueDev(): string | undefined {
  const dirs = [process.env.NEEDLED_EVAL_DIR, join(ROOT, "..", "shared", "eval")].filter(Boolean) as string[];
  return dirs.map((d) => join(d, "catalogue-dev.jsonl")).find((f) => existsSync(f));
}

/** The built-in plugins' declarations as the daemon hands them to the engine (plugin directories in name order);
 * with `withExamples`, each tool's example phrasings too (not part of a declaration). */
export function builtinCatalogue(withExamples = false): Array<ToolDeclaration & { examples?: string[] }> {
  return ["navigation", "smarthome", "timers"].flatMap((p) =>
    (JSON.parse(readFileSync(join(ROOT, "tools", p, "tools.json"), "utf8")) as Array<ToolDeclaration & { examples?: string[] }>)
      .map(({ name, description, parameters, examples }) => ({
        name, ...(description ? { description } : {}), ...(parameters ? { parameters } : {}),
        ...(withExamples && examples ? { examples } : {}),
      })));
}

function pct(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const median = (xs: number[]) => pct([...xs].sort((a, b) => a - b), 0.5);

function statusMB(key: "VmRSS" | "VmHWM"): number {
  const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync("/proc/self/status", "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

async function child(args: string[]): Promise<void> {
  const [dir, evalFile] = args;
  const opt = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const positions = opt("--positions");
  const limit = opt("--limit");
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const engine = await openEngine({ modelDir: dir!, threads: opt("--threads") ?? 2, ...(positions ? { maxDecoderPositions: positions } : {}) });
  const rssAfterLoadMB = statusMB("VmRSS");
  const tools = builtinCatalogue();
  let queries = readFileSync(evalFile!, "utf8").split("\n").filter((l) => l.trim()).map((l) => (JSON.parse(l) as { query: string }).query);
  if (limit) queries = queries.slice(0, limit);
  for (const q of queries.slice(0, WARM)) await engine.predict(q, tools); // tool embeddings, JIT
  const ms: number[] = [];
  const parts = { prepare: [] as number[], retrieval: [] as number[], encode: [] as number[], decode: [] as number[] };
  let decoderCalls = 0;
  let encoderTokens = 0;
  for (const q of queries) {
    const p = await engine.predictDetailed(q, tools);
    ms.push(p.ms);
    for (const k of Object.keys(parts) as Array<keyof typeof parts>) parts[k].push(p.details.timings[k]);
    decoderCalls += p.details.decoderCalls;
    encoderTokens += p.details.encoderTokens;
  }
  await engine.close();
  const sorted = [...ms].sort((a, b) => a - b);
  const out: PredictLatency = {
    model: dir!, name: engine.model.config.name, quantization: engine.model.config.quantization, queries: ms.length,
    maxDecoderPositions: engine.maxDecoderPositions,
    p50: pct(sorted, 0.5), p95: pct(sorted, 0.95), mean: ms.reduce((a, b) => a + b, 0) / ms.length, max: sorted.at(-1)!,
    parts: { prepare: median(parts.prepare), retrieval: median(parts.retrieval), encode: median(parts.encode), decode: median(parts.decode) },
    meanDecoderCalls: decoderCalls / ms.length, meanEncoderTokens: encoderTokens / ms.length,
    rssAfterLoadMB, peakRssMB: statusMB("VmHWM"),
    cpuSeconds: cpuSeconds(cpu0), wallSeconds: (performance.now() - t0) / 1000,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function measure(dir: string, evalFile: string, extra: string[]): PredictLatency {
  const before = machineBusy();
  const r = spawnSync(process.execPath, [...benchNodeFlags(), fileURLToPath(import.meta.url), "--child", dir, evalFile, ...extra], {
    encoding: "utf8", maxBuffer: 16 << 20, env: benchEnv(),
  });
  const after = machineBusy();
  if (r.status !== 0) throw new Error(`predict-latency child for ${dir} failed: ${r.stderr || r.stdout}`);
  const out = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as PredictLatency;
  const busySeconds = (after.busy - before.busy) / 100; // jiffies at USER_HZ 100
  out.othersPct = Math.max(0, (busySeconds - out.cpuSeconds) / out.wallSeconds) * 100;
  return out;
}

export interface PredictLatencyOptions {
  log?: (line: string) => void;
  /** Random 26M model directories (int8, int4, fp32): bench/engine-speed.ts's randomModels(). */
  randomModels?: () => string[];
  threads?: number;
  /** Wait up to this long for a quiet machine before each model (default 300 s; 0: don't wait). */
  waitQuietMs?: number;
}

export async function predictLatencySection(opts: PredictLatencyOptions = {}): Promise<PredictLatency[]> {
  const log = opts.log ?? ((s: string) => console.log(s));
  const evalFile = findCatalogueDev();
  if (!evalFile) {
    log("skipped: catalogue-dev.jsonl not found ($NEEDLED_EVAL_DIR or ../shared/eval beside the repository)");
    return [];
  }
  const threads = String(opts.threads ?? 2);
  const runs: Array<[string, string[]]> = [];
  const def = join(ROOT, "models", "default");
  if (existsSync(join(def, "config.json"))) runs.push([def, []]);
  else log("(models/default does not exist yet: not measured)");
  if (process.env.NEEDLED_BENCH_MODEL) runs.push([process.env.NEEDLED_BENCH_MODEL, []]);
  for (const dir of opts.randomModels?.() ?? []) {
    runs.push([dir, ["--positions", String(RANDOM_POSITIONS), "--limit", String(RANDOM_QUERIES)]]);
  }
  const results: PredictLatency[] = [];
  for (const [dir, extra] of runs) {
    // other people's builds and tests share this machine: wait (up to 5 min) for a quiet moment before each model
    if ((opts.waitQuietMs ?? 300_000) > 0) await waitQuiet(opts.waitQuietMs ?? 300_000, 0.25, log);
    results.push(measure(dir, evalFile, ["--threads", threads, ...extra]));
  }

  log("");
  log(`predict latency — ${cpus()[0]?.model ?? "cpu"} x${cpus().length}, ${threads} intra-op threads; queries of ` +
    `${evalFile}; the 18 built-in tools declared, retrieval K=8; load average ${loadavg()[0]!.toFixed(2)} at the end`);
  const head = ["model", "quant", "n", "p50 ms", "p95 ms", "mean", "retrieval", "encode", "decode", "dec calls", "enc tok",
    "RSS load", "RSS peak", "others"];
  const w = [24, 5, 4, 7, 7, 6, 9, 7, 7, 9, 7, 8, 8, 6];
  log(head.map((h, i) => (i === 0 ? h.padEnd(w[i]!) : h.padStart(w[i]!))).join("  "));
  for (const r of results) {
    const label = r.maxDecoderPositions < 512 ? `${r.name} (<=${r.maxDecoderPositions} pos)` : r.name;
    const row = [label.slice(0, 24).padEnd(24), r.quantization, String(r.queries), r.p50.toFixed(1), r.p95.toFixed(1),
      r.mean.toFixed(1), r.parts.retrieval.toFixed(1), r.parts.encode.toFixed(1), r.parts.decode.toFixed(1),
      r.meanDecoderCalls.toFixed(1), r.meanEncoderTokens.toFixed(0), `${r.rssAfterLoadMB.toFixed(0)} MB`, `${r.peakRssMB.toFixed(0)} MB`,
      `${(r.othersPct ?? 0).toFixed(0)}%`];
    log(row.map((c, i) => (i === 0 ? c : c.padStart(w[i]!))).join("  "));
  }
  log(`retrieval/encode/decode: medians of the parts (ms). Random-weight models: the first ${RANDOM_QUERIES} queries, ` +
    `decoding capped at ${RANDOM_POSITIONS} positions (their answers are noise). others: CPU the rest of the machine ` +
    "used meanwhile (% of one core; high = timings disturbed).");
  const d = results.find((r) => r.model === def);
  if (d) log(`target: models/default p50 <= 30 ms with the whole catalogue declared: ${d.p50.toFixed(1)} ms — ${d.p50 <= 30 ? "met" : "NOT met"}`);
  for (const r of results) log(JSON.stringify(r));
  return results;
}

// Run directly: the section on its own (training paused), or one model as a child.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  if (args[0] === "--child") {
    child(args.slice(1)).catch((err: unknown) => {
      process.stderr.write(`predict-latency: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    });
  } else {
    const { pauseTraining, randomModels } = await import("./engine-speed.js");
    const log = (s: string) => console.log(s);
    const resume = pauseTraining(log);
    try {
      await predictLatencySection({ log, randomModels: () => randomModels(log) });
    } finally {
      resume();
    }
  }
}
