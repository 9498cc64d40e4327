// Tokenizer and prompt speed: `npm run build && node dist/bench/tokenizer.js [model.model]`.
// Uses the 8192-piece fixture model (tests/fixtures/tokenizer/needle-8k.model) unless a model path is given,
// and the built-in catalogue (tools/*/tools.json, about 4 kB of compact JSON) as the tool set.
// Pause any background training first (docs/DEVELOPING.md): timings on a busy 2-core box mean little.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildEncoderInput, prepareTools } from "../src/engine/prompt.js";
import { SentencePieceTokenizer } from "../src/engine/sentencepiece.js";
import { parseToolsJson } from "../src/engine/tool-schema.js";

export interface BenchResult {
  name: string;
  runs: number;
  medianMs: number;
  p95Ms: number;
}

function measure(name: string, runs: number, fn: () => unknown): BenchResult {
  for (let i = 0; i < Math.min(runs, 200); i++) fn(); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { name, runs, medianMs: times[Math.floor(runs / 2)]!, p95Ms: times[Math.floor(runs * 0.95)]! };
}

export function runTokenizerBench(root: string, modelPath = join(root, "tests/fixtures/tokenizer/needle-8k.model")): BenchResult[] {
  const bytes = readFileSync(modelPath);
  const results: BenchResult[] = [];
  let tok = SentencePieceTokenizer.fromBytes(bytes);
  results.push(measure("load 8k model", 20, () => (tok = SentencePieceTokenizer.fromBytes(bytes))));

  const catalogue = ["timers", "navigation", "smarthome"].flatMap((p) =>
    parseToolsJson(readFileSync(join(root, "tools", p, "tools.json"), "utf8")),
  );
  const prepared = prepareTools(catalogue);
  const json = prepared.json;
  const query = "turn on the kitchen lights and set them to 40 percent";
  const big = "Remind me to call Zoë at 5 pm about the München trip 🙂, ".repeat(2000).slice(0, 100_000);
  const ids = tok.encode(json);

  results.push(measure(`encode tools JSON (${json.length} B -> ${ids.length} tokens)`, 2000, () => tok.encode(json)));
  results.push(measure("encode a short query", 20000, () => tok.encode(query)));
  results.push(measure(`encode 100 kB text`, 20, () => tok.encode(big)));
  results.push(measure("decode the tools tokens", 2000, () => tok.decode(ids)));
  results.push(measure("prepareTools (18 catalogue tools)", 2000, () => prepareTools(catalogue)));
  results.push(measure("buildEncoderInput (prepared tools, cached tokens)", 20000, () => buildEncoderInput(tok, query, prepared)));
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
  for (const r of runTokenizerBench(root, process.argv[2])) {
    console.log(`${r.name.padEnd(58)} median ${r.medianMs.toFixed(3)} ms  p95 ${r.p95Ms.toFixed(3)} ms  (n=${r.runs})`);
  }
}
