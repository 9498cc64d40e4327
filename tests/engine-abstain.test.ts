// Abstaining below a confidence floor (src/engine/abstain.ts): pure logic.
import { describe, expect, it } from "vitest";
import { abstainBelow, modelMinConfidence } from "../src/engine/abstain.js";
import type { ModelConfig } from "../src/engine/model-dir.js";

const call = { name: "turn_on", arguments: { target: "lamp" } };
const config = (extra: Record<string, unknown>) => ({ format: "needled-model/1", ...extra }) as unknown as ModelConfig;

describe("abstainBelow", () => {
  it("withholds the calls of an answer below the floor and keeps everything else", () => {
    const p = { calls: [call], confidence: 0.09, ms: 3, toolsInPrompt: ["turn_on"] };
    expect(abstainBelow(p, 0.1)).toEqual({ calls: [], confidence: 0.09, ms: 3, toolsInPrompt: ["turn_on"], withheld: [call] });
    expect(p.calls).toEqual([call]); // the input is not changed
  });

  it("leaves answers at or above the floor, no-call answers, and a floor of 0 alone", () => {
    const at = { calls: [call], confidence: 0.1, ms: 1 };
    expect(abstainBelow(at, 0.1)).toBe(at);
    const none = { calls: [], confidence: 0.01, ms: 1 };
    expect(abstainBelow(none, 0.5)).toBe(none);
    const zero = { calls: [call], confidence: 0, ms: 1 };
    expect(abstainBelow(zero, 0)).toBe(zero);
  });
});

describe("modelMinConfidence", () => {
  it("reads decision.min_confidence from config.json; anything else is 0", () => {
    expect(modelMinConfidence(config({ decision: { min_confidence: 0.12 } }))).toBe(0.12);
    expect(modelMinConfidence(config({}))).toBe(0);
    expect(modelMinConfidence(config({ decision: { min_confidence: 1.5 } }))).toBe(0);
    expect(modelMinConfidence(config({ decision: { min_confidence: "0.2" } }))).toBe(0);
    expect(modelMinConfidence(config({ decision: null }))).toBe(0);
  });
});
