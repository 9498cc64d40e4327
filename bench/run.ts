// `npm run bench [-- SECTION ...]`: a thin list of benchmark sections; each prints its own lines.
// The background training run (training/runs/train.pid) is paused for the whole run and always resumed.
// engine-speed pauses/resumes it itself too, so it runs last.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { engineSpeed, pauseTraining, randomModel, randomModels } from "./engine-speed.js";
import { quantAccuracySection } from "./quant-accuracy.js";
import { runSayLatencyBench, type BenchResult } from "./say-latency.js";
import { runTokenizerBench } from "./tokenizer.js";
import { runGrammarBench } from "./grammar-speed.js";
import { predictLatencySection } from "./predict-latency.js";
import { runSpeechLatencyBench } from "./speech-latency.js";
import { runLinkBench } from "./link.js";

type Log = (line: string) => void;

interface Section {
  name: string;
  run(root: string, log: Log): Promise<void> | void;
}

const print = (log: Log, results: BenchResult[]) => {
  for (const r of results) {
    log(`${r.name.padEnd(58)} median ${r.medianMs.toFixed(3)} ms  p95 ${r.p95Ms.toFixed(3)} ms  (n=${r.runs})`);
  }
};

const sections: Section[] = [
  { name: "tokenizer", run: (root, log) => print(log, runTokenizerBench(root)) },
  { name: "grammar", run: async (root, log) => print(log, await runGrammarBench(root)) },
  { name: "say-latency", run: async (root, log) => print(log, await runSayLatencyBench(root)) },
  { name: "speech-latency", run: async (root, log) => print(log, await runSpeechLatencyBench(root, { log })) },
  { name: "link", run: async (root, log) => print(log, await runLinkBench(root, log)) },
  {
    name: "predict-latency",
    run: async (_root, log) =>
      void (await predictLatencySection({ log, randomModels: () => randomModels(log) })),
  },
  { name: "engine-speed", run: async (_root, log) => void (await engineSpeed({ log })) },
  {
    name: "quant-accuracy",
    run: (_root, log) => quantAccuracySection([randomModel("int8", log), randomModel("int4", log)], randomModel("fp32", log), log),
  },
];

const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !sections.some((s) => s.name === w));
if (unknown.length > 0) {
  console.error(`unknown section(s): ${unknown.join(", ")}; sections: ${sections.map((s) => s.name).join(", ")}`);
  process.exit(2);
}

const log: Log = (line) => console.log(line);
const resume = pauseTraining(log);
let failed = false;
try {
  for (const s of sections.filter((x) => wanted.length === 0 || wanted.includes(x.name))) {
    log(`## ${s.name}`);
    try {
      await s.run(root, log);
    } catch (err) {
      failed = true;
      log(`skipped: ${(err as Error).message}`);
    }
  }
} finally {
  resume();
}
process.exitCode = failed ? 1 : 0;
