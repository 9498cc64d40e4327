// The grammar with the real SentencePiece tokenizer (src/engine/sentencepiece.ts, the 8192-piece Needle-style
// fixture model) and the real catalogue (tools/*/tools.json through src/engine/tool-schema.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileGrammar, decodeConstrained, type GrammarState, Vocabulary } from "../src/engine/grammar/index.js";
import { SentencePieceTokenizer } from "../src/engine/sentencepiece.js";
import { normalizeTools, parseToolsJson } from "../src/engine/tool-schema.js";
import { closingBias, makeAjv, randomDecode, randomLogits, rng, validateAnswer } from "./grammar-helpers.js";

const ROOT = join(import.meta.dirname, "..");
const tok = SentencePieceTokenizer.fromBytes(readFileSync(join(ROOT, "tests/fixtures/tokenizer/needle-8k.model")), "needle-8k.model");
const TOOL_CALL = 4;
const TOOLS = 5;
const vocab = Vocabulary.fromTokenizer(tok, { eosId: tok.eosId, disallowIds: [TOOL_CALL, TOOLS] });
const catalogue = normalizeTools(
  ["timers", "navigation", "smarthome"].flatMap((p) => parseToolsJson(readFileSync(join(ROOT, "tools", p, "tools.json"), "utf8"))),
);
const tools = catalogue.map((t) => ({ name: t.modelName, schema: t.parameters }));
const g = compileGrammar(tools, vocab);
const pieces = Array.from({ length: tok.vocabSize }, (_, i) => tok.pieceBytes(i));
const text = (ids: readonly number[]): string => Buffer.concat(ids.map((i) => pieces[i]!)).toString("utf8");

// written for this test (not taken from any eval set)
const VALID = [
  "[]",
  '[{"name":"set_timer","arguments":{"duration":"8 minutes","name":"pasta"}}]',
  '[{"name":"set_light","arguments":{"target":"bedroom","brightness":30}}]',
  '[{"name":"set_temperature","arguments":{"temperature":21.5,"target":"living room"}}]',
  '[{"name":"navigate","arguments":{"destination":"Café Müller","mode":"walking"}}]',
  '[{"name":"stop_navigation","arguments":{}}]',
  '[{"name":"turn_off","arguments":{"target":"fan"}},{"name":"lock","arguments":{"target":"front door"}}]',
  '[{"name":"set_reminder","arguments":{"text":"call mom \\"asap\\" 😀","time":"5 pm"}}]',
];
const INVALID = [
  '[{"name":"set_light","arguments":{"brightness":300}}]',
  '[{"name":"navigate","arguments":{"destination":"x","mode":"flying"}}]',
  '[{"name":"set_timer","arguments":{"name":"pasta"}}]',
  '[{"name":"play_music","arguments":{}}]',
  '[{"name":"turn_on","arguments":{"target":"fan","colour":"red"}}]',
];

function walkIds(ids: readonly number[]): GrammarState | null {
  let s: GrammarState | null = g.startState();
  for (const id of ids) {
    if (s === null) return null;
    s = g.advance(s, id);
  }
  return s;
}

describe("grammar with the real tokenizer", () => {
  it("excludes control and user-symbol tokens; eos only at the end", () => {
    const start = g.startState();
    const allowed = new Set(g.allowedIds(start));
    for (const id of [0, 1, 2, 3, TOOL_CALL, TOOLS]) expect(allowed.has(id)).toBe(false);
    expect(allowed.has(tok.encode("[")[0]!)).toBe(true);
  });

  it("accepts the model-style tokenization (dummy prefix included) of valid answers, token by token", () => {
    for (const answer of VALID) {
      const ids = tok.encode(answer);
      expect(ids.length).toBeGreaterThan(0);
      const s = walkIds(ids);
      expect(s, answer).not.toBeNull();
      expect(g.canEnd(s!), answer).toBe(true);
      // and a logit bump on each next token makes pickGreedy follow it (the common, argmax-allowed case)
      let st = g.startState();
      for (const id of [...ids, tok.eosId]) {
        const logits = randomLogits(rng(id), new Float32Array(tok.vocabSize));
        logits[id] = 50;
        const p = g.pickGreedy(st, logits)!;
        expect(p.token).toBe(id);
        st = p.state;
      }
    }
  });

  it("rejects the tokenization of invalid answers", () => {
    for (const answer of INVALID) {
      const s = walkIds(tok.encode(answer));
      expect(s === null || !g.canEnd(s), answer).toBe(true);
    }
  });

  it("jump-forward: forced text tokenized with encodeNoDummyPrefix, all but a tail of 1-4 tokens, state consistent", () => {
    const enc = new TextEncoder();
    const cases = ["[{", '[{"name":"set_ti', '[{"name":"stop_', '[{"name":"navigate","arguments":{"destination":"x","mode":"c'];
    for (const prefix of cases) {
      const s = g.grammar.advanceBytes(g.startState(), enc.encode(prefix))!;
      const forcedText = Buffer.from(g.forcedBytes(s)).toString("utf8");
      expect(forcedText.length, prefix).toBeGreaterThan(0);
      const f = g.forcedTokens(s, (t) => tok.encodeNoDummyPrefix(t));
      expect(forcedText.startsWith(text(f.ids)), prefix).toBe(true);
      const all = tok.encodeNoDummyPrefix(forcedText);
      expect(f.ids).toEqual(all.slice(0, f.ids.length));
      expect(all.length - f.ids.length, prefix).toBeGreaterThanOrEqual(1);
      expect(all.length - f.ids.length, prefix).toBeLessThanOrEqual(4);
      // the state after the fed ids accepts the rest of the forced text
      const rest = enc.encode(forcedText.slice(text(f.ids).length));
      expect(g.grammar.advanceBytes(f.state, rest), prefix).not.toBeNull();
    }
  });

  it("jump-forward leaves the model a tail that can merge with what follows (`\":{}}]` is one piece)", () => {
    const enc = new TextEncoder();
    const s = g.grammar.advanceBytes(g.startState(), enc.encode('[{"name":"stop_'))!;
    const f = g.forcedTokens(s, (t) => tok.encodeNoDummyPrefix(t));
    const fed = text(f.ids);
    expect(fed.startsWith("navigation")).toBe(true);
    // not `...":{` followed by a forced `}}` that the model never saw split from `]`
    expect(fed.endsWith('":{')).toBe(false);
    const closing = tok.encodeNoDummyPrefix('"arguments":{}}]');
    expect(closing.length).toBeLessThan(4);
  });

  it("teacher-forced decoding with jump-forward reproduces each valid answer exactly", async () => {
    for (const answer of VALID) {
      const want = Buffer.from(answer, "utf8");
      let sofar = 0; // bytes of the answer produced so far
      // logits that prefer the longest piece continuing the answer, eos once it is complete
      const logitsFor = (): Float32Array => {
        const out = new Float32Array(tok.vocabSize).fill(-10);
        const rest = want.subarray(sofar);
        if (rest.length === 0) out[tok.eosId] = 10;
        for (let id = 0; id < tok.vocabSize; id++) {
          const p = pieces[id]!;
          if (p.length > 0 && p.length <= rest.length && rest.subarray(0, p.length).equals(p)) out[id] = p.length;
        }
        return out;
      };
      const res = await decodeConstrained(
        g,
        logitsFor(),
        (ids) => {
          sofar += Buffer.concat(ids.map((i) => pieces[i]!)).length;
          return logitsFor();
        },
        { usedPositions: 2, encode: (t) => tok.encodeNoDummyPrefix(t) },
      );
      expect(res.status).toBe("eos");
      expect(res.text).toBe(answer);
      expect(res.calls).toEqual(JSON.parse(answer));
      if (answer !== "[]") expect(res.forcedTokenCount).toBeGreaterThan(0);
    }
  });

  it("random logits over the real vocabulary: valid answers or [], pickGreedy = masked argmax", async () => {
    const ajv = makeAjv();
    let eos = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const r = rng(77_000 + seed);
      const bias = closingBias(r, pieces, 3 + 3 * r());
      let checks = 0;
      const res = await randomDecode(g, r, bias, (t) => tok.encodeNoDummyPrefix(t));
      if (res.status === "eos") {
        eos++;
        const err = validateAnswer(ajv, tools, res.text);
        if (err) throw new Error(`seed ${seed}: ${err}`);
      } else expect(res.calls).toEqual([]);
      // replay the answer and compare pickGreedy with the masked argmax at each step
      let s = g.startState();
      for (const id of res.tokens) {
        const logits = randomLogits(r, bias);
        const ids = g.allowedIds(s);
        let want = -1;
        for (const a of ids) if (want < 0 || logits[a]! > logits[want]!) want = a;
        expect(g.pickGreedy(s, logits)!.token).toBe(want);
        checks++;
        s = g.advance(s, id)!;
        expect(s).not.toBeNull();
      }
      expect(checks).toBe(res.tokens.length);
    }
    expect(eos).toBeGreaterThan(25);
  });
});
