// needled eval FILE.jsonl: predict every line (`needled predict --batch`: the line's own tools, else the installed
// catalogue), then score the predictions with the eval kit's score.py and print its summary.
// `npm run eval -- FILE.jsonl` is the same.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { packageRoot } from "../daemon/paths.js";
import type { NeedleEngine } from "../engine/index.js";
import { EXIT, parse, UsageError, type Io } from "./common.js";
import {
  catalogueTools, choiceFloors, describeBatch, engineFailure, modelChoice, openForCli, predictBatch, readLines, withOutputFile,
} from "./predict.js";

export const usage = [
  "needled eval FILE.jsonl [--model DIR] [--out PRED.jsonl] [--scorer PATH] [--k N] [--min-confidence X] [--min-tool-similarity X] [--free-values] [--config FILE] [--threads N] [--json]",
  "",
  "  predicts every line of FILE.jsonl (lines with \"tools\" use them, the others the installed catalogue), then",
  "  runs `python3 score.py FILE.jsonl PRED.jsonl` and prints its report (--json: its JSON summary).",
  "  --out PRED.jsonl  keep the predictions there (default: a temporary file, removed afterwards)",
  "  --scorer PATH     score.py (default: $NEEDLED_EVAL_DIR/score.py, else ../shared/eval/score.py beside the",
  "                    package, else score.py next to FILE.jsonl)",
  "  --free-values     as in needled predict",
  "  --min-confidence X  as in needled predict (default: config, else the model's decision.min_confidence)",
  "  --min-tool-similarity X  as in needled predict (default: config, else the model's decision.min_tool_similarity)",
  "exit: the scorer's (0 scored), 2 usage error, bad model directory or no scorer",
].join("\n");

const OPTIONS = {
  model: { type: "string" },
  out: { type: "string" },
  scorer: { type: "string" },
  k: { type: "string" },
  "min-confidence": { type: "string" },
  "min-tool-similarity": { type: "string" },
  "free-values": { type: "boolean" },
  config: { type: "string" },
  threads: { type: "string" },
  json: { type: "boolean" },
} as const;

/** Where score.py is: --scorer, $NEEDLED_EVAL_DIR, ../shared/eval next to the package, next to the eval file. */
export function findScorer(explicit: string | undefined, evalFile: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined) {
    const p = resolve(explicit);
    if (!existsSync(p)) throw new UsageError(`--scorer ${explicit}: no such file`);
    return p;
  }
  const candidates = [
    ...(env.NEEDLED_EVAL_DIR ? [join(resolve(env.NEEDLED_EVAL_DIR), "score.py")] : []),
    join(packageRoot(), "..", "shared", "eval", "score.py"),
    join(dirname(resolve(evalFile)), "score.py"),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new UsageError(`cannot find score.py (looked at ${candidates.join(", ")}); give --scorer PATH`);
  return found;
}

/** Runs the scorer with python3 (stdlib only), passing its output through; resolves to its exit code. */
function score(scorer: string, expected: string, predictions: string, json: boolean, io: Io): Promise<number> {
  const args = [scorer, expected, predictions, ...(json ? ["--json"] : [])];
  const attempt = (python: string) => new Promise<number>((res, rej) => {
    const p = spawn(python, args, { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    p.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    p.once("error", rej);
    p.once("close", (code) => {
      if (out) io.out(out.replace(/\n$/, ""));
      if (err) io.err(err.replace(/\n$/, ""));
      res(code ?? EXIT.FAILED);
    });
  });
  const python = process.env.NEEDLED_PYTHON || "python3";
  return attempt(python).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT" && python !== "/usr/bin/python3") return attempt("/usr/bin/python3");
    throw new UsageError(`cannot run ${python} for the scorer: ${e.message}`);
  });
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  if (positionals.length !== 1) throw new UsageError(`give one eval file\n${usage}`);
  const evalFile = resolve(positionals[0]!);
  try {
    await access(evalFile);
  } catch (err) {
    throw new UsageError(`cannot read ${positionals[0]}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const scorer = findScorer(values.scorer, evalFile);
  const choice = await modelChoice(values);

  let engine: NeedleEngine;
  try {
    engine = await openForCli(choice);
  } catch (err) {
    return engineFailure(err, io, "eval");
  }
  const tmp = values.out === undefined ? await mkdtemp(join(tmpdir(), "needled-eval-")) : undefined;
  const predictions = values.out !== undefined ? resolve(values.out) : join(tmp!, "predictions.jsonl");
  try {
    const summary = await (async () => {
      try {
        return await withOutputFile(predictions, (write) =>
          predictBatch(engine, readLines(evalFile), () => catalogueTools(choice.configFile, io), write, false,
            choiceFloors(choice)));
      } finally {
        await engine.close();
      }
    })();
    io.err(`${describeBatch(summary)}; model ${choice.modelDir}; scoring with ${scorer}`);
    return await score(scorer, evalFile, predictions, values.json ?? false, io);
  } finally {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }
}
