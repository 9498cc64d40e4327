// Grammar speed: `npm run bench -- grammar` (or `npm run build && node dist/bench/grammar-speed.js`).
// Real tokenizer (tests/fixtures/tokenizer/needle-8k.model, 8192 pieces) and the built-in catalogue (18 tools);
// the largest tool set of shared/eval/generic-dev.jsonl for compile time (its schemas only).
// Budget: a decoder step is ~1 ms in all, most of it the model's; the grammar's share should be a few percent.
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import {
  compileGrammar,
  decodeConstrained,
  type GrammarState,
  type TokenGrammar,
  Vocabulary,
} from "../src/engine/grammar/index.js";
import { SentencePieceTokenizer } from "../src/engine/sentencepiece.js";
import { normalizeTools, parseToolsJson } from "../src/engine/tool-schema.js";
import type { BenchResult } from "./tokenizer.js";

function measure(name: string, runs: number, fn: (i: number) => unknown): BenchResult {
  for (let i = 0; i < Math.min(runs, 100); i++) fn(i); // warm-up (JIT)
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn(i);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { name, runs, medianMs: times[Math.floor(runs / 2)]!, p95Ms: times[Math.floor(runs * 0.95)]! };
}

async function measureAsync(name: string, runs: number, fn: () => Promise<unknown>): Promise<BenchResult> {
  for (let i = 0; i < Math.min(runs, 50); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { name, runs, medianMs: times[Math.floor(runs / 2)]!, p95Ms: times[Math.floor(runs * 0.95)]! };
}

/** Deterministic pseudo-random logits (mulberry32). */
function randomLogits(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  return out;
}

const ANSWERS = [
  '[{"name":"set_timer","arguments":{"duration":"8 minutes","name":"pasta"}}]',
  '[{"name":"set_light","arguments":{"target":"bedroom","brightness":30}}]',
  '[{"name":"navigate","arguments":{"destination":"the train station","mode":"walking"}}]',
  '[{"name":"set_reminder","arguments":{"text":"call mom about the weekend trip","time":"5 pm"}}]',
];

export async function runGrammarBench(root: string): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const tok = SentencePieceTokenizer.fromBytes(readFileSync(join(root, "tests/fixtures/tokenizer/needle-8k.model")), "needle-8k");
  const V = tok.vocabSize;
  const pieces = Array.from({ length: V }, (_, i) => tok.pieceBytes(i));
  let vocab = Vocabulary.fromTokenizer(tok, { eosId: tok.eosId, disallowIds: [4, 5] });
  results.push(measure("vocabulary (8192 pieces), once per model", 20, () => {
    vocab = Vocabulary.fromTokenizer(tok, { eosId: tok.eosId, disallowIds: [4, 5] });
  }));

  const catalogue = normalizeTools(
    ["timers", "navigation", "smarthome"].flatMap((p) => parseToolsJson(readFileSync(join(root, "tools", p, "tools.json"), "utf8"))),
  ).map((t) => ({ name: t.modelName, schema: t.parameters }));
  let g: TokenGrammar = compileGrammar(catalogue, vocab);
  results.push(measure("compile catalogue (18 tools)", 200, () => (g = compileGrammar(catalogue, vocab))));
  const generic = "/work/shared/eval/generic-dev.jsonl";
  if (existsSync(generic)) {
    const sets = readFileSync(generic, "utf8").split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { tools: unknown[] }).tools);
    const biggest = sets.reduce((a, b) => (JSON.stringify(b).length > JSON.stringify(a).length ? b : a));
    const tools = normalizeTools(biggest).map((t) => ({ name: t.modelName, schema: t.parameters }));
    results.push(measure(`compile largest generic-dev set (${tools.length} tools, ${JSON.stringify(biggest).length} B)`, 100, () =>
      compileGrammar(tools, vocab)));
  }

  // states along the answers, with the token the model would write next
  const steps: { state: GrammarState; next: number }[] = [];
  for (const answer of ANSWERS) {
    let s = g.startState();
    for (const id of [...tok.encode(answer), tok.eosId]) {
      steps.push({ state: s, next: id });
      if (id !== tok.eosId) s = g.advance(s, id)!;
    }
  }
  const bumped = steps.map(({ next }, i) => {
    const l = randomLogits(V, i);
    l[next] = 5;
    return l;
  });
  results.push(measure(`pickGreedy, argmax allowed (${steps.length} answer states)`, 4000, (i) => {
    const k = i % steps.length;
    return g.pickGreedy(steps[k]!.state, bumped[k]!);
  }));
  const noise = steps.map((_, i) => randomLogits(V, 10_000 + i));
  results.push(measure("pickGreedy, random logits (argmax mostly disallowed)", 2000, (i) => {
    const k = i % steps.length;
    return g.pickGreedy(steps[k]!.state, noise[k]!);
  }));
  results.push(measure("allowedTokens (full mask), answer states, warm memo", 1000, (i) => g.allowedTokens(steps[i % steps.length]!.state)));
  // cold: every state fresh (what a decode meets): whole answers replayed, time per step
  const answerIds = ANSWERS.map((a) => tok.encode(a));
  const perStep = (name: string, op: (s: GrammarState, k: number) => unknown): BenchResult => {
    const r = measure(name, 200, (i) => {
      const ids = answerIds[i % answerIds.length]!;
      let s = g.startState();
      for (let k = 0; k < ids.length; k++) {
        op(s, k);
        s = g.advance(s, ids[k]!)!;
      }
    });
    const n = answerIds.reduce((a, ids) => a + ids.length, 0) / answerIds.length;
    return { ...r, name: `${name} (per step)`, medianMs: r.medianMs / n, p95Ms: r.p95Ms / n };
  };
  results.push(perStep("advance only, cold states", () => 0));
  results.push(perStep("allowedTokens (full mask), cold states", (s) => g.allowedTokens(s)));
  results.push(perStep("pickGreedy, random logits, cold states", (s, k) => g.pickGreedy(s, noise[k % noise.length]!)));
  const enc = new TextEncoder();
  const inString = g.grammar.advanceBytes(g.startState(), enc.encode('[{"name":"set_timer","arguments":{"duration":"8 min'))!;
  results.push(measure("allowedTokens inside a free string", 500, () => g.allowedTokens(inString)));
  const encode = (t: string): number[] => tok.encodeNoDummyPrefix(t);
  const head = g.grammar.advanceBytes(g.startState(), enc.encode("[{"))!;
  results.push(measure("forcedTokens after [{ (tokenize + advance)", 2000, () => g.forcedTokens(head, encode)));

  // a whole teacher-forced decode, grammar side only: record the logits once, replay them
  for (const answer of ANSWERS.slice(0, 1)) {
    const want = Buffer.from(answer);
    const teacher = (done: number): Float32Array => {
      const out = new Float32Array(V).fill(-10);
      const rest = want.subarray(done);
      if (rest.length === 0) out[tok.eosId] = 10;
      for (let id = 0; id < V; id++) {
        const p = pieces[id]!;
        if (p.length > 0 && p.length <= rest.length && rest.subarray(0, p.length).equals(p)) out[id] = p.length;
      }
      return out;
    };
    const recorded: Float32Array[] = [];
    let done = 0;
    const first = teacher(0);
    await decodeConstrained(g, first, (ids) => {
      done += Buffer.concat(ids.map((i) => pieces[i]!)).length;
      const l = teacher(done);
      recorded.push(l);
      return l;
    }, { usedPositions: 2, encode });
    let tokens = 0;
    const r = await measureAsync(`whole answer, grammar side (${answer.length} chars)`, 300, async () => {
      let k = 0;
      const res = await decodeConstrained(g, first, () => recorded[k++]!, { usedPositions: 2, encode });
      tokens = res.tokens.length;
    });
    results.push({ ...r, name: `${r.name}, ${tokens} tokens, ${recorded.length} decoder calls` });
  }
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(fileURLToPath(new URL(".", import.meta.url)), "..", "..");
  for (const r of await runGrammarBench(root)) {
    console.log(`${r.name.padEnd(72)} median ${r.medianMs.toFixed(4)} ms  p95 ${r.p95Ms.toFixed(4)} ms  (n=${r.runs})`);
  }
}
