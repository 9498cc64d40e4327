// int8 / int4 vs fp32: how far the quantised graphs' logits are from the fp32 graphs' on realistic inputs.
//   node dist/bench/quant-accuracy.js --quant DIR --fp32 DIR [--eval FILE.jsonl]... [--items N] [--write]
// (--int8 DIR is the same as --quant DIR.)
// Inputs: eval-set utterances (measurement only) with their tools, put through the project's own prompt
// builder and tokenizer; decoder positions teacher-forced on the expected answer ([eos, <tool_call>] + answer
// JSON tokens). --write stores the result as quant-accuracy.json in the quantised directory.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { argmax } from "../src/engine/greedy.js";
import { NeedleOnnxModel } from "../src/engine/onnx-model.js";
import { buildEncoderInput, prepareTools, type PreparedTools } from "../src/engine/prompt.js";
import { pythonJsonDumps } from "../src/engine/python-json.js";
import { SentencePieceTokenizer } from "../src/engine/sentencepiece.js";
import { parseToolsJson } from "../src/engine/tool-schema.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = existsSync(join(HERE, "..", "..", "package.json")) ? join(HERE, "..", "..") : join(HERE, "..");
const SHARED_EVAL = process.env.NEEDLED_EVAL_DIR ?? "/work/shared/eval";

export interface QuantAccuracy {
  /** the quantised model directory (named int8 from when it was the only quantisation) */
  int8: string;
  /** its config.json quantization: int8 | int4 */
  quantization: string;
  fp32: string;
  items: number;
  positions: number;
  /** max |quantised - fp32| over every logit of every position */
  maxAbsLogitDiff: number;
  meanAbsLogitDiff: number;
  /** standard deviation of the fp32 logits (the scale the differences compare to) */
  fp32LogitStd: number;
  /** share of positions where both pick the same top token */
  top1Agreement: number;
  /** smallest cosine similarity of the two retrieval embeddings */
  minEmbeddingCosine: number;
  inputs: string;
  measured: string;
}

interface Item {
  query: string;
  prepared: PreparedTools;
  answer: Array<{ name: string; arguments: unknown }>;
}

function loadItems(files: string[], limit: number): Item[] {
  const catalogue = prepareTools(["timers", "navigation", "smarthome"].flatMap((p) =>
    parseToolsJson(readFileSync(join(ROOT, "tools", p, "tools.json"), "utf8"))));
  const perFile = Math.ceil(limit / Math.max(1, files.length));
  const items: Item[] = [];
  for (const f of files) {
    const lines = readFileSync(f, "utf8").split("\n").filter((l) => l.trim());
    // spread the picks over the file (deterministic), positives and negatives alike
    const step = Math.max(1, Math.floor(lines.length / perFile));
    for (let i = 0; i < lines.length && items.length < limit; i += step) {
      const row = JSON.parse(lines[i]!) as { query: string; tools?: unknown[]; expected: Item["answer"] };
      let prepared = catalogue;
      if (row.tools) {
        try {
          prepared = prepareTools(row.tools);
        } catch {
          continue; // tool sets the engine refuses are not model inputs
        }
      }
      items.push({ query: row.query, prepared, answer: row.expected });
    }
  }
  return items;
}

/** The answer as the model writes it: compact JSON with the tools' model (snake_case) names. */
function answerJson(item: Item): string {
  const toModel = new Map([...item.prepared.nameMap].map(([model, declared]) => [declared, model]));
  return pythonJsonDumps(item.answer.map((c) => ({ name: toModel.get(c.name) ?? c.name, arguments: c.arguments })));
}

export async function quantAccuracy(quantDir: string, fp32Dir: string, evalFiles: string[], limit = 60): Promise<QuantAccuracy> {
  const quant = await NeedleOnnxModel.load(quantDir, { requireTokenizer: false });
  const fp32 = await NeedleOnnxModel.load(fp32Dir, { requireTokenizer: false });
  const tokPath = [join(quantDir, "tokenizer.model"), join(ROOT, "tests", "fixtures", "tokenizer", "needle-8k.model")]
    .find((p) => existsSync(p))!;
  const tok = await SentencePieceTokenizer.load(tokPath);
  const items = loadItems(evalFiles, limit);
  const { eos, tool_call: toolCall } = quant.config.special_ids;
  const V = quant.config.architecture.vocab_size;
  let positions = 0;
  let agree = 0;
  let maxAbs = 0;
  let sumAbs = 0;
  let minCos = 1;
  let sum = 0;
  let sumSq = 0;
  for (const item of items) {
    const src = buildEncoderInput(tok, item.query, item.prepared, { maxLen: quant.config.max_encoder_len }).ids;
    const tgt = [eos, toolCall, ...tok.encode(answerJson(item))].slice(0, quant.config.max_decoder_len);
    const [eq, e32] = [await quant.encode(src), await fp32.encode(src)];
    let dot = 0;
    for (let i = 0; i < eq.embedding.length; i++) dot += eq.embedding[i]! * e32.embedding[i]!;
    minCos = Math.min(minCos, dot);
    const lq = (await quant.decode(eq, quant.emptyCache(), tgt)).logits;
    const l32 = (await fp32.decode(e32, fp32.emptyCache(), tgt)).logits;
    for (let t = 0; t < tgt.length; t++) {
      const a = lq[t]!;
      const b = l32[t]!;
      for (let v = 0; v < V; v++) {
        const d = Math.abs(a[v]! - b[v]!);
        sum += b[v]!;
        sumSq += b[v]! * b[v]!;
        sumAbs += d;
        if (d > maxAbs) maxAbs = d;
      }
      if (argmax(a) === argmax(b)) agree++;
      positions++;
    }
  }
  await quant.close();
  await fp32.close();
  return {
    int8: resolve(quantDir), quantization: quant.config.quantization, fp32: resolve(fp32Dir), items: items.length, positions,
    maxAbsLogitDiff: maxAbs, meanAbsLogitDiff: sumAbs / (positions * V),
    fp32LogitStd: Math.sqrt(sumSq / (positions * V) - (sum / (positions * V)) ** 2), top1Agreement: agree / positions,
    minEmbeddingCosine: minCos, inputs: evalFiles.map((f) => f.split("/").pop()).join(", "),
    measured: new Date().toISOString(),
  };
}

/** Bench section: random 26M quantised models (int8, int4) against their fp32 twin (same weights), each result
 * written next to the quantised graphs. */
export async function quantAccuracySection(quantDirs: string[], fp32Dir: string, log: (s: string) => void = console.log): Promise<void> {
  const files = defaultEvalFiles();
  if (files.length === 0) {
    log(`(no eval files in ${SHARED_EVAL}; set NEEDLED_EVAL_DIR) — skipped`);
    return;
  }
  for (const dir of quantDirs) {
    const r = await quantAccuracy(dir, fp32Dir, files);
    writeFileSync(join(dir, "quant-accuracy.json"), `${JSON.stringify(r, null, 2)}\n`);
    log(`${r.quantization} vs fp32 (${r.int8.split("/").pop()}): ${r.positions} decoder positions of ${r.items} eval inputs — ` +
    `max |logit diff| ${r.maxAbsLogitDiff.toFixed(4)}, mean ${r.meanAbsLogitDiff.toFixed(4)} (fp32 logit std ` +
    `${r.fp32LogitStd.toFixed(3)}), top-1 agreement ${(r.top1Agreement * 100).toFixed(1)}%, min retrieval cosine ` +
    `${r.minEmbeddingCosine.toFixed(5)}`);
  }
}

export function defaultEvalFiles(): string[] {
  return ["catalogue-dev.jsonl", "generic-dev.jsonl"].map((f) => join(SHARED_EVAL, f)).filter((f) => existsSync(f));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const get = (k: string) => {
    const i = args.indexOf(k);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const quantDir = get("--quant") ?? get("--int8");
  const fp32 = get("--fp32");
  if (!quantDir || !fp32) {
    console.error("usage: quant-accuracy --quant DIR --fp32 DIR [--eval FILE.jsonl]... [--items N] [--write]");
    process.exit(2);
  }
  const evals = args.flatMap((a, i) => (a === "--eval" ? [args[i + 1]!] : []));
  const files = evals.length > 0 ? evals : defaultEvalFiles();
  if (files.length === 0) {
    console.error(`no eval files (looked in ${SHARED_EVAL}); pass --eval FILE.jsonl`);
    process.exit(2);
  }
  const r = await quantAccuracy(quantDir, fp32, files, Number(get("--items") ?? 60));
  console.log(JSON.stringify(r, null, 2));
  if (args.includes("--write")) writeFileSync(join(quantDir, "quant-accuracy.json"), `${JSON.stringify(r, null, 2)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
