// Engine speed: prefill, cached decode and the uncached reference decode, peak RSS — one child process per
// model. Models: a random-weight 26M Needle-shape model in int8, int4 and fp32 (made once by
// training/make_random_model.py into node_modules/.cache, speed does not depend on values) and models/default
// when it exists. Pauses the background training run (training/runs/train.pid) while timing.
//   npm run bench -- engine-speed                       the section (bench/run.ts)
//   node dist/bench/engine-speed.js [MODEL_DIR ...]     the same on its own, for the given model directories
// The children run with the daemon's node flags and environment (src/cli/node-flags.ts); NEEDLED_BENCH_NODE_FLAGS="..."
// replaces the flags (e.g. "" to measure without), and a key set in this process's environment wins (e.g.
// MALLOC_ARENA_MAX=8 to measure with glibc's per-thread arenas).
//
// Where the RSS of the int8 26M model goes (measured with /proc/self/smaps, heap snapshots and an LD_PRELOAD
// malloc shim on this box, onnxruntime-node 1.30, cross.onnx layout, the daemon's node flags and environment):
// after loading ~74 MB: file-backed ~13 MB (NeedleOnnxModel.load drops the clean file pages that creating the
// sessions left resident: src/engine/file-pages.ts; a bare node 20 is 40 MB, most of it its binary) + anonymous
// ~61 MB (the int8 matrices once, as MatMulNBits' prepacked copy ~27 MB; onnxruntime's session state and
// runtime ~15 MB; V8 heap ~10 MB; node). Serving brings back the file pages the runs use: ~41 MB (node 23,
// libonnxruntime 11, weights.data 4-6 as more token embeddings are read). Per request: the cross K/V and
// cross.onnx's input live in one reusable buffer (18 KB per encoder token: 18 MB at 1024, sized in steps of 256
// tokens; an outgrown one is freed by a full GC at once) and onnxruntime's encoder intermediates: the "mha" encoder
// (MultiHeadAttention's flash kernel, no [heads, T, T] scores, exact-length input) has at most ~9 MB of them live
// at 1024 tokens, in onnxruntime's arena, which keeps ~23 MB after a 1024-token request. Whole catalogue served
// (691 requests): ~110 MB anonymous = prepacked weights 27 + K/V buffer 14 + V8 17 (committed) + glibc's heap ~52
// (onnxruntime's arenas and session state, mostly live: the shim saw 88-92 MB live in all), which creeps ~2 MB
// between request 100 and 691 (fragmentation; a fixed glibc trim threshold stops it but costs 20% of prefill).
// What brought the peaks from 1024 / serving 153-154 / 161-163 MB (one session, 2-3 runs each) to 136-139 /
// 148-150 MB (whole catalogue; 145 MB for its first 100 queries): an outgrown K/V buffer freed at once (V8 ran no
// full GC for it: every size a server grew through stayed resident); retrieval subsets' grammars sharing the
// whole tool set's compiled parts (64 cached subsets held ~10 MB of V8 heap); the tokenizer's spellings in one
// buffer (~1.5 MB). The "RSS peak" column (the whole run, with the uncached reference decode) went 205-209 ->
// 146-150 MB: decoder caches hold their row store directly, not through a WeakMap (young GCs keep WeakMap values
// alive, so every store was promoted and waited for a full GC), a released state's row store serves the next
// sequence, and a young GC follows every 1 MB of decoder output copies. Measured, not adopted: a decoder session
// without the arena, a 64-token K/V step, node --optimize-for-size (no gain beyond the noise); node --no-opt
// (-4 to -7 MB: less of node's code resident, but 10-40% slower JS). int4 weights (a model directory option,
// training/export.py --quant int4): the prepacked weights ~14 instead of ~27 MB, peak RSS 8-11 MB lower.
// onnxruntime-node copies every output into a new JS buffer (also with preallocated outputs); the engine copies the
// encoder's into its buffer at once and young GCs free them (src/engine/onnx-model.ts).
// Decoder I/O 3 models (the exporter's default) no longer hand back a 32 KB row of logits per decoder step (their
// top 64 and the log-sum-exp instead), and node --max-semi-space-size=1 keeps V8's young generation small.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EngineSpeed, ServeMemory, Timing } from "./engine-speed-child.js";
import { NODE_ENV, NODE_FLAGS } from "../src/cli/node-flags.js";
import { checkTargets, isNeedle26m, targetLine, type ShapeOf } from "./targets.js";

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench when built
const ROOT = existsSync(join(HERE, "..", "..", "package.json")) ? join(HERE, "..", "..") : join(HERE, "..");
const PYTHON = "/usr/bin/python3";
const CACHE = join(ROOT, "node_modules", ".cache", "needled", "bench-models");
const TOKENIZER = join(ROOT, "tests", "fixtures", "tokenizer", "needle-8k.model");

export interface EngineSpeedOptions {
  rounds?: number;
  threads?: number;
  /** Model directories to measure instead of the default set. */
  models?: string[];
  /** Requests of the memory-while-serving child (default: every catalogue-dev query, 691; a long-running server's
   * heap creeps for a few hundred requests, and 100 requests read ~4 MB low). */
  serveRequests?: number;
  /** Wait up to this long for a quiet machine before each model (default 300 s; 0: don't wait). */
  waitQuietMs?: number;
  log?: (line: string) => void;
}

/** The process and all its descendants (train.pid may hold a wrapper shell whose child does the work). */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync("/proc")) {
    if (!/^\d+$/.test(e)) continue;
    try {
      // "pid (comm) state ppid ...": comm may contain spaces, so split after the last ')'
      const stat = readFileSync(`/proc/${e}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(e)]);
    } catch {
      /* exited meanwhile */
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    out.push(p);
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** Stop the background training run (and its children) while timing; resumed on return and on any exit. */
export function pauseTraining(log: (s: string) => void): () => void {
  const pidFile = join(ROOT, "training", "runs", "train.pid");
  if (!existsSync(pidFile)) return () => {};
  const pid = Number(readFileSync(pidFile, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || !existsSync(`/proc/${pid}`)) return () => {};
  const pids = processTree(pid);
  let resumed = false;
  const resume = () => {
    if (resumed) return;
    resumed = true;
    for (const p of pids) {
      try {
        process.kill(p, "SIGCONT");
      } catch {
        /* gone */
      }
    }
  };
  process.once("exit", resume);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(sig, () => {
      resume();
      process.exit(130);
    });
  }
  for (const p of pids) {
    try {
      process.kill(p, "SIGSTOP");
    } catch {
      /* gone */
    }
  }
  log(`(paused training run ${pid} and its ${pids.length - 1} child process(es) while timing)`);
  return resume;
}

/** The quantisations the bench makes random 26M models in, the quantised ones first. */
export const RANDOM_QUANTS = ["int8", "int4", "fp32"] as const;

/** The random 26M model directories, one per RANDOM_QUANTS entry (made or reused). */
export const randomModels = (log: (s: string) => void): string[] => RANDOM_QUANTS.map((q) => randomModel(q, log));

export function randomModel(quant: (typeof RANDOM_QUANTS)[number], log: (s: string) => void): string {
  const out = join(CACHE, `needle-26m-${quant}`);
  log(`(checking random 26M ${quant} model in ${out})`);
  const args = [join(ROOT, "training", "make_random_model.py"), "--out", out, "--quant", quant];
  if (existsSync(TOKENIZER)) args.push("--tokenizer", TOKENIZER);
  execFileSync(PYTHON, args, { stdio: ["ignore", "ignore", "inherit"] });
  return out;
}

/** Busy jiffies of the whole machine (all CPUs) from /proc/stat. */
export function machineBusy(): { busy: number; total: number } {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3]! + f[4]!;
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait (up to `maxMs`) for a second in which the rest of the machine uses less than `maxBusy` of one core:
 * other people's builds and tests share this box, and timings taken beside them mean little. */
export async function waitQuiet(maxMs: number, maxBusy: number, log: (s: string) => void): Promise<number> {
  const t0 = Date.now();
  let busy = 1;
  let said = false;
  while (Date.now() - t0 < maxMs) {
    const a = machineBusy();
    await sleep(1000);
    const b = machineBusy();
    busy = ((b.busy - a.busy) / (b.total - a.total)) * cpus().length;
    if (busy < maxBusy) return busy;
    if (!said) {
      log(`(machine busy: ${(busy * 100).toFixed(0)}% of a core used by others; waiting up to ${maxMs / 1000} s)`);
      said = true;
    }
  }
  return busy;
}

/** The node flags of the measuring children: the daemon's, unless NEEDLED_BENCH_NODE_FLAGS says otherwise. */
export function benchNodeFlags(): string[] {
  const env = process.env.NEEDLED_BENCH_NODE_FLAGS;
  return env === undefined ? [...NODE_FLAGS] : env.split(/\s+/).filter(Boolean);
}

/** The environment of the measuring children: the daemon's (NODE_ENV), where this process's does not set a key. */
export function benchEnv(): NodeJS.ProcessEnv {
  return { ...NODE_ENV, ...process.env };
}

function child<T>(args: string[]): T {
  const r = spawnSync(process.execPath, [...benchNodeFlags(), join(HERE, "engine-speed-child.js"), ...args],
    { encoding: "utf8", maxBuffer: 16 << 20, env: benchEnv() });
  if (r.status !== 0) throw new Error(`engine-speed-child ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as T;
}

interface Measured { speed: EngineSpeed; serve: ServeMemory; othersPct: number }

/** Decoder positions per answer for random-weight models (config.json source "random(...)"): their answers are
 * noise that would run to max_decoder_len, so the serving child caps them (as bench/predict-latency.ts does). */
const RANDOM_POSITIONS = 24;
const isRandom = (dir: string) =>
  String((JSON.parse(readFileSync(join(dir, "config.json"), "utf8")) as { source?: unknown }).source ?? "").startsWith("random");

function measure(dir: string, rounds: number, threads: number, serveRequests: number): Measured {
  const before = machineBusy();
  const speed = child<EngineSpeed>([dir, "--rounds", String(rounds), "--threads", String(threads)]);
  const after = machineBusy();
  // CPU time the rest of the machine used while the child ran, as a share of one core's wall time
  const hz = 100;
  const busySec = (after.busy - before.busy) / hz;
  const othersPct = Math.max(0, (busySec - speed.cpuSeconds) / speed.wallSeconds) * 100;
  const serve = child<ServeMemory>([dir, "--serve", String(serveRequests), "--threads", String(threads),
    ...(isRandom(dir) ? ["--positions", String(RANDOM_POSITIONS)] : [])]);
  return { speed, serve, othersPct };
}

const tokS = (tokens: number, t: Timing) => `${Math.round((tokens * 1000) / t.medianMs)}`;
const pad = (s: string, n: number) => s.padStart(n);

export async function engineSpeed(options: EngineSpeedOptions = {}): Promise<EngineSpeed[]> {
  const log = options.log ?? ((s: string) => console.log(s));
  const rounds = options.rounds ?? 7;
  const threads = options.threads ?? 2;
  const models = options.models ?? [
    ...randomModels(log),
    ...(existsSync(join(ROOT, "models", "default", "config.json")) ? [join(ROOT, "models", "default")] : []),
  ];
  const resume = pauseTraining(log);
  const results: Measured[] = [];
  try {
    for (const dir of models) {
      if ((options.waitQuietMs ?? 300_000) > 0) await waitQuiet(options.waitQuietMs ?? 300_000, 0.25, log);
      results.push(measure(dir, rounds, threads, options.serveRequests ?? Number.POSITIVE_INFINITY));
    }
  } finally {
    resume();
  }
  log("");
  log(`engine speed — ${cpus()[0]?.model ?? "cpu"} x${cpus().length}, ${threads} intra-op threads, ` +
    `median of ${rounds} rounds (tok/s; best round in the JSON), load average ${loadavg()[0]!.toFixed(2)} at the end`);
  const head = ["model", "quant", "io", "prefill 128", "prefill 512", "prefill 1024", "decode", "pick", "after enc",
    "reference", "RSS load", "peak 512", "peak 1024", "RSS peak", "anon load/peak", "serve peak", "serve anon", "rerun/req",
    "others"];
  const widths = [22, 5, 2, 11, 11, 12, 6, 6, 9, 9, 8, 8, 9, 8, 14, 10, 10, 9, 6];
  log(head.map((h, i) => (i === 0 ? h.padEnd(widths[i]!) : pad(h, widths[i]!))).join("  "));
  const mb = (x: number | undefined) => (x === undefined ? "-" : `${x.toFixed(0)} MB`);
  for (const { speed: s, serve, othersPct } of results) {
    const pf = (T: number) => (s.prefill[T] ? tokS(T, s.prefill[T]!) : "-");
    const row = [
      s.name.slice(0, 22).padEnd(22), s.quantization, String(s.decoderIo), pf(128), pf(512), pf(1024), tokS(1, s.decode),
      tokS(1, s.decodePick), tokS(1, s.decodeAfterEncode), tokS(1, s.reference), mb(s.rssAfterLoadMB),
      mb(s.prefill[512]?.peakRssMB), mb(s.prefill[1024]?.peakRssMB), mb(s.peakRssMB),
      `${s.afterLoad.anonMB.toFixed(0)}/${mb(s.peakAnonMB)}`, mb(serve.peakRssMB), mb(serve.peakAnonMB),
      serve.fullRowFetchesPerRequest.toFixed(2), `${othersPct.toFixed(0)}%`,
    ];
    log(row.map((c, i) => (i === 0 ? c : pad(c, widths[i]!))).join("  "));
  }
  log("tok/s. io: decoder I/O (models/FORMAT.md). decode: one new token per call, encoder 512 tokens, cache 32, the " +
    "outputs the engine asks for (I/O 3: the top K); pick: the same plus choosing the best token and its probability " +
    "from them (I/O 1/2: argmax and log-sum-exp over the whole row); after enc: decode in the first 30 calls after " +
    "an encode; reference: the whole 33-token prefix per call, no cache (Needle's Python way). RSS load: after " +
    "loading; peak 512/1024: the process's peak RSS while encoding 512/1024 tokens (VmHWM reset before each " +
    "phase); RSS peak: over all of this; anon: anonymous RSS (the rest is file-backed: node, libonnxruntime, mapped " +
    "weights). serve: a fresh process with the engine (the 18 built-in tools declared, retrieval K=8) answering " +
    "every catalogue-dev query (or the tools' examples without ../shared), random-weight models capped at " +
    `${RANDOM_POSITIONS} decoder positions; rerun/req: I/O 3 steps re-run for the whole row per request. The children ` +
    `run with ${benchNodeFlags().join(" ") || "no node flags"} and ${Object.entries(benchEnv()).filter(([k]) => k in NODE_ENV).map(([k, v]) => `${k}=${v}`).join(" ")}. others: CPU the rest of the machine used meanwhile (% of one core).`);
  for (const { speed: s, serve } of results) {
    const arch = (JSON.parse(readFileSync(join(s.model, "config.json"), "utf8")) as { architecture: ShapeOf }).architecture;
    if (!isNeedle26m(arch)) continue;
    log(`target (26M Needle shape) ${targetLine(s.name, checkTargets({ prefill512Ms: s.prefill[512]?.medianMs,
      decodeMs: s.decode.medianMs, speedPeakRssMB: s.peakRssMB, servePeakRssMB: serve.peakRssMB }))}`);
  }
  for (const { speed, serve } of results) log(JSON.stringify({ ...speed, serve }));
  return results.map((r) => r.speed);
}

// Run directly: the section on its own (training paused), for the model directories given or the default set.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dirs = process.argv.slice(2);
  await engineSpeed(dirs.length > 0 ? { models: dirs } : {});
}
