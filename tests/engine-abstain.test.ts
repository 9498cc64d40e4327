// Abstaining below a confidence floor (src/engine/abstain.ts): pure logic.
import { describe, expect, it } from "vitest";
import { abstainBelow, floorFromExamples, modelMinConfidence, modelMinToolSimilarity, unsureBecause } from "../src/engine/abstain.js";
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

describe("the tool-similarity floor", () => {
  const other = { name: "set_timer", arguments: { duration: "5 minutes" } };

  it("withholds a single call to a tool below the similarity floor, whatever its confidence", () => {
    const p = { calls: [call], confidence: 0.99, ms: 2, toolSimilarity: 0.62 };
    expect(unsureBecause(p, 0.1, 0.8)).toBe("tool-similarity");
    expect(abstainBelow(p, 0.1, 0.8)).toEqual({ ...p, calls: [], withheld: [call] });
    expect(abstainBelow(p, 0.1, 0.62)).toBe(p); // at the floor: kept
  });

  it("names the confidence first when both are low", () => {
    expect(unsureBecause({ calls: [call], confidence: 0.01, ms: 1, toolSimilarity: 0.1 }, 0.1, 0.8)).toBe("confidence");
  });

  it("judges single calls only, and only when the tools were scored; 0 is off", () => {
    const two = { calls: [call, other], confidence: 0.9, ms: 1, toolSimilarity: 0.3 };
    expect(abstainBelow(two, 0.1, 0.8)).toBe(two);
    const unscored = { calls: [call], confidence: 0.9, ms: 1 };
    expect(abstainBelow(unscored, 0.1, 0.8)).toBe(unscored);
    const far = { calls: [call], confidence: 0.9, ms: 1, toolSimilarity: -0.4 };
    expect(abstainBelow(far, 0.1, 0)).toBe(far);
    expect(unsureBecause({ calls: [], confidence: 0.9, ms: 1, toolSimilarity: 0 }, 0.1, 0.8)).toBeNull();
  });
});

describe("modelMinToolSimilarity", () => {
  it("reads decision.min_tool_similarity from config.json; anything else is 0", () => {
    expect(modelMinToolSimilarity(config({ decision: { min_confidence: 0.1, min_tool_similarity: 0.84 } }))).toBe(0.84);
    expect(modelMinToolSimilarity(config({ decision: { min_confidence: 0.1 } }))).toBe(0);
    expect(modelMinToolSimilarity(config({ decision: { min_tool_similarity: 1.2 } }))).toBe(0);
    expect(modelMinToolSimilarity(config({ decision: { min_tool_similarity: "0.8" } }))).toBe(0);
    expect(modelMinToolSimilarity(config({}))).toBe(0);
  });
});

describe("floorFromExamples", () => {
  it("lowers the floor to the lowest example minus the margin, never raises it, never below 0", () => {
    expect(floorFromExamples(0.83, [0.9, 0.7, 0.95])).toBeCloseTo(0.65, 12);
    expect(floorFromExamples(0.83, [0.9, 0.95])).toBe(0.83);
    expect(floorFromExamples(0.83, [])).toBe(0.83);
    expect(floorFromExamples(0.83, [0.02])).toBe(0);
    expect(floorFromExamples(0.83, [0.5, NaN], 0.1)).toBeCloseTo(0.4, 12);
  });
});
