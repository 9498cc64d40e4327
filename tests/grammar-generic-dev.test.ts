// Every tool set of shared/eval/generic-dev.jsonl (BFCL function declarations; read for their schemas only,
// no utterance is used): normalised by tool-schema.ts, compiled, then decoded under random logits and walked
// byte by byte at random. Every finished answer must validate with ajv against the declared schemas: 100%.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileGrammar } from "../src/engine/grammar/index.js";
import { normalizeTools } from "../src/engine/tool-schema.js";
import {
  closingBias,
  greedyTokenizer,
  makeAjv,
  pick,
  randomDecode,
  rng,
  syntheticVocabulary,
  validateAnswer,
} from "./grammar-helpers.js";

// the shared material sits beside the repository (../shared), or where NEEDLED_EVAL_DIR says
const FILE = [
  process.env.NEEDLED_EVAL_DIR ? join(process.env.NEEDLED_EVAL_DIR, "generic-dev.jsonl") : "",
  join(import.meta.dirname, "..", "..", "shared", "eval", "generic-dev.jsonl"),
  "/work/shared/eval/generic-dev.jsonl",
].find((f) => f !== "" && existsSync(f));
const lines = (FILE ? readFileSync(FILE, "utf8") : "")
  .split("\n")
  .filter((l) => l.trim() !== "")
  .map((l) => JSON.parse(l) as { id: string; tools: unknown[] });

const fatal = new TextDecoder("utf-8", { fatal: true });

describe("grammar over generic-dev.jsonl tool sets", () => {
  const { vocab, pieces } = syntheticVocabulary(11);
  const encode = greedyTokenizer(pieces);
  const ajv = makeAjv();

  // outside this workspace the file may be absent (it is not part of the repository)
  it.skipIf(FILE === undefined)(`compiles all ${lines.length} tool sets and every decoded answer validates`, async () => {
    expect(lines.length).toBeGreaterThan(250);
    let answers = 0;
    let calls = 0;
    const usedTools = new Set<string>();
    for (const [i, line] of lines.entries()) {
      const normalized = normalizeTools(line.tools);
      const tools = normalized.map((t) => ({ name: t.modelName, schema: t.parameters }));
      const declared = normalized.map((t, k) => ({
        name: t.modelName,
        schema: (line.tools[k] as { parameters?: unknown }).parameters ?? { type: "object" },
      }));
      const g = compileGrammar(tools, vocab);
      const r = rng(1000 + i);
      for (let k = 0; k < 4; k++) {
        const res = await randomDecode(g, r, closingBias(r, pieces, 2 + 2 * r()), encode);
        if (res.status !== "eos") {
          expect(res.calls).toEqual([]);
          continue;
        }
        const text = fatal.decode(Buffer.concat(res.tokens.map((t) => pieces[t]!)));
        for (const against of [tools, declared]) {
          const err = validateAnswer(ajv, against, text);
          if (err) throw new Error(`${line.id}: ${err}`);
        }
        answers++;
        calls += res.calls.length;
        for (const c of res.calls) usedTools.add(`${line.id}/${c.name}`);
      }
      // byte-level random walks reach corners that token decoding rarely does
      for (let k = 0; k < 2; k++) {
        let s = g.startState();
        const bytes: number[] = [];
        while (!g.canEnd(s) && bytes.length < 4000) {
          const allowed: number[] = [];
          for (let b = 0; b < 256; b++) if (s.step(b) !== null) allowed.push(b);
          expect(allowed.length, `${line.id}: dead end`).toBeGreaterThan(0);
          const closers = allowed.filter((b) => b === 0x22 || b === 0x7d || b === 0x5d);
          const b = closers.length && r() < 0.5 ? pick(r, closers) : pick(r, allowed);
          bytes.push(b);
          s = s.step(b)!;
        }
        if (!g.canEnd(s)) continue;
        const text = fatal.decode(Uint8Array.from(bytes));
        for (const against of [tools, declared]) {
          const err = validateAnswer(ajv, against, text);
          if (err) throw new Error(`${line.id} (walk): ${err}`);
        }
        answers++;
        const walked = JSON.parse(text) as { name: string }[];
        calls += walked.length;
        for (const c of walked) usedTools.add(`${line.id}/${c.name}`);
      }
    }
    // the test means something only if most decodes finish with real calls
    expect(answers).toBeGreaterThan(lines.length * 4);
    expect(calls).toBeGreaterThan(lines.length);
    expect(usedTools.size).toBeGreaterThan(lines.length * 0.9);
  });
});
