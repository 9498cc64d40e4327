// Pure parts of predict: the confidence arithmetic and the long-query cut (with the real 8k tokenizer).
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { Confidence, logSumExp, tokenProbability } from "../src/engine/confidence.js";
import { cutIsExact, MAX_TEXT_CHARS, queryHead } from "../src/engine/query-text.js";
import { SentencePieceTokenizer } from "../src/engine/sentencepiece.js";
import { EngineError } from "../src/engine/types.js";

describe("confidence", () => {
  test("tokenProbability is the full softmax probability", () => {
    const row = new Float32Array([1, 2, 3]);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expect(tokenProbability(row, 2)).toBeCloseTo(Math.exp(3) / z, 6);
    expect(tokenProbability(row, 0)).toBeCloseTo(Math.exp(1) / z, 6);
    expect(tokenProbability([0, 0, 0, 0], 1)).toBeCloseTo(0.25, 12);
  });

  test("stable for large logits; degenerate rows give 0 or a share of the infinite ones", () => {
    expect(tokenProbability([1000, 1000], 0)).toBeCloseTo(0.5, 12);
    expect(tokenProbability([-1e30, 50], 1)).toBeCloseTo(1, 12);
    expect(tokenProbability([NaN, 1], 0)).toBe(0);
    expect(tokenProbability([-Infinity, 1], 0)).toBe(0);
    expect(tokenProbability([Infinity, 1, Infinity], 2)).toBe(0.5);
    expect(tokenProbability([Infinity, 1], 1)).toBe(0);
    expect(tokenProbability([1, 2], 5)).toBe(0);
    expect(logSumExp([])).toBe(-Infinity);
  });

  test("the confidence is the smallest decision probability, in [0, 1], whatever the answer length", () => {
    const c = new Confidence();
    expect(c.value).toBe(1);
    c.observeProbability(0.99);
    c.observeProbability(0.4);
    c.observeProbability(0.95);
    expect(c.value).toBe(0.4);
    expect(c.count).toBe(3);
    const long = new Confidence();
    for (let i = 0; i < 40; i++) long.observeProbability(0.99);
    long.observeProbability(0.4);
    expect(long.value).toBe(0.4); // a product or mean would differ with length; the minimum does not
    expect(long.geometricMean).toBeGreaterThan(0.9);
    const odd = new Confidence();
    odd.observeProbability(NaN);
    odd.observeProbability(1.5);
    expect(odd.value).toBe(0);
  });

  test("observe() reads the probability from the logits", () => {
    const c = new Confidence();
    expect(c.observe([0, Math.log(3)], 1)).toBeCloseTo(0.75, 6);
    expect(c.value).toBeCloseTo(0.75, 6);
  });
});

describe("the query head of a long text", () => {
  let tok: SentencePieceTokenizer;
  beforeAll(async () => {
    tok = await SentencePieceTokenizer.load(join(import.meta.dirname, "fixtures", "tokenizer", "needle-8k.model"));
  });

  test("Needle's tokenizer has no piece across a word boundary: cuts at spaces are exact", () => {
    expect(cutIsExact(tok)).toBe(true);
  });

  test("short text is tokenized whole", () => {
    const h = queryHead(tok, "set a timer for 5 minutes", 1022, true);
    expect(h.cut).toBe(false);
    expect(h.ids).toEqual(tok.encode("set a timer for 5 minutes"));
  });

  test("a long text is cut at a space and gives the same first tokens as the whole text", () => {
    const words = ["timer", "kitchen", "übermäßig", "naïve", "lights", "42", "3.14", "{\"a\":1}", "日本", "🎉", "tab\there", "  "];
    let s = 7;
    const parts: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      parts.push(words[s % words.length]!);
    }
    const text = parts.join(" ");
    const whole = tok.encode(text);
    for (const need of [256, 1022]) {
      const h = queryHead(tok, text, need, true);
      expect(h.cut).toBe(true);
      expect(h.text.length).toBeLessThan(text.length / 4);
      expect(h.ids.length).toBeGreaterThanOrEqual(need);
      expect(h.ids.slice(0, need)).toEqual(whole.slice(0, need));
    }
  });

  test("a text of runs of spaces still gets enough tokens (the budget grows)", () => {
    const text = `${"a".padEnd(40, " ")}`.repeat(3000);
    const h = queryHead(tok, text, 1022, true);
    expect(h.ids.slice(0, 1022)).toEqual(tok.encode(text).slice(0, 1022));
  });

  test("no space, or a tokenizer where cuts are not exact: the whole text", () => {
    const dense = "x".repeat(20_000);
    expect(queryHead(tok, dense, 1022, true).cut).toBe(false);
    expect(queryHead(tok, "word ".repeat(5000), 1022, false).cut).toBe(false);
  });

  test("over MAX_TEXT_CHARS or not a string: BAD_INPUT", () => {
    expect(() => queryHead(tok, "a".repeat(MAX_TEXT_CHARS + 1), 1022, true)).toThrow(EngineError);
    expect(() => queryHead(tok, 5 as unknown as string, 1022, true)).toThrow(/must be a string/);
  });
});
