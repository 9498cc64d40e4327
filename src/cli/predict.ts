// needled predict: the engine on its own, no daemon.
//   needled predict "TEXT" [--tools FILE] [--model DIR] [--k N]        -> {"calls":[...],"confidence":0.97,"ms":18.4}
//   needled predict --batch FILE.jsonl [--out FILE]                    -> one {"id","calls","confidence","ms"} per line
// Without --tools (or a line's own "tools") the installed catalogue is used: the tools of the plugins the daemon
// would load (built-ins, plus plugin_dirs of the config file), read through the plugin loader without starting
// any plugin. The model is --model, else the config's model.dir, else models/default of the package.
import { createReadStream } from "node:fs";
import { access, open, readFile, rename, rm } from "node:fs/promises";
import { resolve } from "node:path";
import { createInterface } from "node:readline";
import { loadConfig } from "../daemon/config.js";
import { abstainBelow, openEngine, type MaybeWithheld, type NeedleEngine } from "../engine/index.js";
import { isPlainObject, parseJsonPreservingNumbers, toPlainJson } from "../engine/python-json.js";
import { parseToolsJson } from "../engine/tool-schema.js";
import { EngineError, type Prediction, type ToolDeclaration } from "../engine/types.js";
import { EXIT, parse, UsageError, type Io } from "./common.js";
import { localTools } from "./tools.js";

export const usage = [
  'needled predict "TEXT" [--tools FILE] [--model DIR] [--k N] [--min-confidence X] [--min-tool-similarity X] [--score-tools] [--free-values] [--config FILE] [--threads N] [--verbose]',
  "needled predict --batch FILE.jsonl|- [--out FILE] [--model DIR] [--k N] [--min-confidence X] [--min-tool-similarity X] [--score-tools] [--free-values] [--config FILE] [--threads N] [--verbose]",
  "",
  '  prints {"calls":[...],"confidence":0.97,"ms":18.4}; --batch reads lines {"id","query","tools"?} and writes',
  '  {"id","calls","confidence","ms"} per line (a line that fails: "calls":[] and "error":{code,message}).',
  "  --tools FILE  a JSON array of tool declarations (or {\"tools\": [...]}); default: the installed catalogue",
  "  --model DIR   model directory (default: the config's model.dir, else models/default)",
  "  --k N         tools kept in the prompt by retrieval when more are declared (default: config, else 8)",
  "  --min-confidence X  calls below this confidence are withheld: \"calls\":[] and \"withheld\":[...]",
  "                (default: the config's model.min_confidence, else the model's config.json decision.min_confidence)",
  "  --min-tool-similarity X  a single call to a tool whose retrieval similarity to TEXT is below X is withheld",
  "                (default: the config's model.min_tool_similarity, else the model's decision.min_tool_similarity; 0: off)",
  "  --score-tools score the declared tools on every request and print \"tool_similarity\" (on with a similarity floor)",
  "  --free-values string values need not be spans of TEXT (default: they are; config model.span_values)",
  "  --verbose     also print toolsInPrompt and how the answer came about",
  "exit: 0 done, 1 some batch lines failed, 2 usage error, bad model directory or bad tools",
].join("\n");

const OPTIONS = {
  tools: { type: "string" },
  model: { type: "string" },
  k: { type: "string" },
  "min-confidence": { type: "string" },
  "min-tool-similarity": { type: "string" },
  "score-tools": { type: "boolean" },
  "free-values": { type: "boolean" },
  config: { type: "string" },
  threads: { type: "string" },
  batch: { type: "string" },
  out: { type: "string" },
  verbose: { type: "boolean" },
} as const;

export interface ModelChoice {
  modelDir: string;
  k: number;
  threads?: number;
  /** Abstention floor (src/engine/abstain.ts); undefined: the model's own recommendation. */
  minConfidence?: number;
  /** Tool-similarity floor (src/engine/abstain.ts); undefined: the model's own recommendation. */
  minToolSimilarity?: number;
  /** Score the declared tools on every request (--score-tools; implied by a similarity floor). */
  scoreTools?: boolean;
  /** false: free string values (--free-values, config model.span_values) */
  spanValues: boolean;
  configFile?: string;
}

function unitInterval(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const x = Number(value);
  if (value.trim() === "" || !Number.isFinite(x) || x < 0 || x > 1) throw new UsageError(`${flag} must be a number in [0, 1], got "${value}"`);
  return x;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag} must be a positive integer, got "${value}"`);
  return Number(value);
}

/** --model / --k / --threads, falling back to the config file's model section (as the daemon reads it). */
export async function modelChoice(
  values: {
    model?: string; k?: string; threads?: string; config?: string; "min-confidence"?: string; "min-tool-similarity"?: string;
    "score-tools"?: boolean; "free-values"?: boolean;
  },
): Promise<ModelChoice> {
  const config = await loadConfig(values.config ? { file: values.config } : {});
  const k = positiveInt(values.k, "--k") ?? config.model.retrievalK;
  const threads = positiveInt(values.threads, "--threads") ?? config.model.threads;
  const minConfidence = unitInterval(values["min-confidence"], "--min-confidence") ?? config.model.minConfidence;
  const minToolSimilarity = unitInterval(values["min-tool-similarity"], "--min-tool-similarity") ?? config.model.minToolSimilarity;
  return {
    modelDir: values.model ? resolve(values.model) : config.model.dir,
    k,
    ...(threads ? { threads } : {}),
    ...(minConfidence !== undefined ? { minConfidence } : {}),
    ...(minToolSimilarity !== undefined ? { minToolSimilarity } : {}),
    ...(values["score-tools"] || (minToolSimilarity ?? 0) > 0 ? { scoreTools: true } : {}),
    spanValues: values["free-values"] ? false : config.model.spanValues,
    ...(values.config ? { configFile: values.config } : {}),
  };
}

/** The installed catalogue: the declarations of the plugins the daemon would load (none is started). */
export async function catalogueTools(configFile: string | undefined, io: Io): Promise<ToolDeclaration[]> {
  const { tools, failures } = await localTools(configFile);
  for (const f of failures) io.err(`needled: skipped plugin ${f.source}: ${f.reason}`);
  return tools.map((t) => ({ name: t.name, description: t.description, parameters: t.parameters }));
}

/** Opens the engine; a bad model directory becomes a one-line error and exit code 2 (EngineExit). */
export async function openForCli(choice: ModelChoice): Promise<NeedleEngine> {
  return openEngine({
    modelDir: choice.modelDir,
    maxToolsInPrompt: choice.k,
    spanValues: choice.spanValues,
    ...(choice.scoreTools ? { scoreTools: true } : {}),
    ...(choice.threads ? { threads: choice.threads } : {}),
  });
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const withheld = (p: MaybeWithheld<Prediction>) => (p.withheld ? { withheld: p.withheld } : {});
const similarity = (p: Prediction) => (p.toolSimilarity !== undefined ? { tool_similarity: round(p.toolSimilarity, 4) } : {});

/** Abstention floors (src/engine/abstain.ts); each undefined: the model's own recommendation. */
export interface Floors {
  confidence?: number;
  toolSimilarity?: number;
}

/** The floors a ModelChoice sets (--min-confidence, --min-tool-similarity, the config); the rest: the model's. */
export function choiceFloors(choice: ModelChoice): Floors {
  return {
    ...(choice.minConfidence !== undefined ? { confidence: choice.minConfidence } : {}),
    ...(choice.minToolSimilarity !== undefined ? { toolSimilarity: choice.minToolSimilarity } : {}),
  };
}

/** `floors`, with the model's recommendations where they leave one open. */
export function floorsFor(engine: NeedleEngine, floors: Floors = {}): Required<Floors> {
  return { confidence: floors.confidence ?? engine.minConfidence, toolSimilarity: floors.toolSimilarity ?? engine.minToolSimilarity };
}

export interface BatchSummary {
  lines: number;
  failed: number;
  ms: number[];
  seconds: number;
}

/**
 * Predicts every line of a JSONL stream with one engine and hands each output line to `write`. Lines without
 * "tools" get `catalogue()` (called once, when first needed). Blank lines are skipped. Calls below
 * the floors (default: the model's) are withheld.
 */
export async function predictBatch(
  engine: NeedleEngine,
  lines: AsyncIterable<string>,
  catalogue: () => Promise<ToolDeclaration[]>,
  write: (line: string) => void | Promise<void>,
  verbose = false,
  floors: Floors = {},
): Promise<BatchSummary> {
  const t0 = performance.now();
  const floor = floorsFor(engine, floors);
  let installed: ToolDeclaration[] | undefined;
  const summary: BatchSummary = { lines: 0, failed: 0, ms: [], seconds: 0 };
  let lineNo = 0;
  for await (const raw of lines) {
    lineNo++;
    if (raw.trim() === "") continue;
    summary.lines++;
    let id: unknown = null;
    try {
      let item: unknown;
      try {
        item = parseJsonPreservingNumbers(raw);
      } catch (err) {
        throw new EngineError(`line ${lineNo} is not valid JSON: ${(err as Error).message}`, "BAD_INPUT");
      }
      if (!isPlainObject(item)) throw new EngineError(`line ${lineNo} is not a JSON object`, "BAD_INPUT");
      id = item.id === undefined ? null : toPlainJson(item.id);
      if (typeof item.query !== "string") throw new EngineError(`line ${lineNo} has no "query" string`, "BAD_INPUT");
      let tools: ToolDeclaration[];
      if (item.tools === undefined || item.tools === null) tools = installed ??= await catalogue();
      else if (Array.isArray(item.tools)) tools = item.tools as ToolDeclaration[];
      else throw new EngineError(`line ${lineNo}: "tools" must be an array of tool declarations`, "BAD_TOOLS");
      const p = abstainBelow(await engine.predictDetailed(item.query, tools), floor.confidence, floor.toolSimilarity);
      summary.ms.push(p.ms);
      const out = { id, calls: p.calls, confidence: round(p.confidence, 4), ...similarity(p), ms: round(p.ms, 1), ...withheld(p) };
      await write(JSON.stringify(verbose ? { ...out, toolsInPrompt: p.toolsInPrompt, details: p.details } : out));
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      summary.failed++;
      await write(JSON.stringify({ id, calls: [], confidence: 0, ms: 0, error: { code: err.code, message: err.message } }));
    }
  }
  summary.seconds = (performance.now() - t0) / 1000;
  return summary;
}

/**
 * Lines of a file, or of stdin for "-". The reader is created on the first iteration: a readline interface made
 * earlier starts consuming its stream at once, and lines (and the end) emitted before the loop attaches are lost.
 */
export async function* readLines(path: string): AsyncGenerator<string> {
  const input = path === "-" ? process.stdin : createReadStream(path, { encoding: "utf8" });
  yield* createInterface({ input, crlfDelay: Infinity });
}

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

export function describeBatch(s: BatchSummary): string {
  const lat = s.ms.length ? `, latency p50 ${percentile(s.ms, 0.5).toFixed(1)} ms p95 ${percentile(s.ms, 0.95).toFixed(1)} ms` : "";
  return `predicted ${s.lines} line(s) in ${s.seconds.toFixed(1)} s${lat}${s.failed ? `; ${s.failed} line(s) failed` : ""}`;
}

/** Writes `path` atomically at the end: lines go to a temp file that is renamed over it. */
export async function withOutputFile<T>(path: string, fn: (write: (line: string) => Promise<void>) => Promise<T>): Promise<T> {
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, "w");
  try {
    const result = await fn(async (line) => void (await fh.write(`${line}\n`)));
    await fh.sync();
    await fh.close();
    await rename(tmp, path);
    return result;
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw err;
  }
}

/** EngineErrors about the model or the tools end the command with one line and exit 2. */
export function engineFailure(err: unknown, io: Io, command: string): number {
  if (err instanceof EngineError) {
    io.err(`needled ${command}: ${err.message}`);
    return EXIT.USAGE;
  }
  throw err;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (values.batch !== undefined && positionals.length > 0) throw new UsageError("give either TEXT or --batch FILE, not both");
  if (values.batch === undefined && positionals.length === 0) throw new UsageError(`no text given\n${usage}`);
  if (values.out !== undefined && values.batch === undefined) throw new UsageError("--out goes with --batch");
  const choice = await modelChoice(values);

  let fileTools: ToolDeclaration[] | undefined;
  if (values.tools !== undefined) {
    let text: string;
    try {
      text = await readFile(values.tools, "utf8");
    } catch (err) {
      throw new UsageError(`cannot read --tools ${values.tools}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    try {
      fileTools = parseToolsJson(text, values.tools);
    } catch (err) {
      return engineFailure(err, io, "predict");
    }
  }

  let engine: NeedleEngine;
  try {
    engine = await openForCli(choice);
  } catch (err) {
    return engineFailure(err, io, "predict");
  }
  const floor = floorsFor(engine, choiceFloors(choice));
  try {
    const catalogue = async () => fileTools ?? (await catalogueTools(choice.configFile, io));
    if (values.batch !== undefined) {
      if (values.batch !== "-") {
        try {
          await access(values.batch);
        } catch (err) {
          throw new UsageError(`cannot read --batch ${values.batch}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      }
      const lines = readLines(values.batch);
      const summary = values.out !== undefined
        ? await withOutputFile(values.out, (write) => predictBatch(engine, lines, catalogue, write, values.verbose, floor))
        : await predictBatch(engine, lines, catalogue, (line) => io.out(line), values.verbose, floor);
      io.err(describeBatch(summary));
      return summary.failed > 0 ? EXIT.FAILED : EXIT.OK;
    }
    const text = positionals.join(" ");
    try {
      const p = abstainBelow(await engine.predictDetailed(text, await catalogue()), floor.confidence, floor.toolSimilarity);
      const out: Record<string, unknown> = {
        calls: p.calls, confidence: round(p.confidence, 4), ...similarity(p), ms: round(p.ms, 1), ...withheld(p),
      };
      if (values.verbose) Object.assign(out, { toolsInPrompt: p.toolsInPrompt, details: p.details });
      io.out(JSON.stringify(out));
      return EXIT.OK;
    } catch (err) {
      return engineFailure(err, io, "predict");
    }
  } finally {
    await engine.close();
  }
}
