// Abstaining on low confidence: a model's answer whose confidence (src/engine/confidence.ts) is below a floor
// is treated as no answer at all. For a voice hub a wrong action (the lights go on when you asked about the
// weather) is worse than "sorry, I'm not sure", and the confidence separates right from wrong answers well.
//
// The floor belongs to the model: each export is calibrated on the trainer's own generated check set (never on
// the dev or held-out sets) and records it in config.json as `decision.min_confidence`. The daemon's
// `model.min_confidence` and `needled predict --min-confidence` override it; 0 turns abstaining off.
//
// A second, independent floor: the tool similarity. The model's retrieval head embeds the query and each tool
// (src/engine/retrieval.ts); a call to a tool the query is far from is a request the tool was not made for
// ("what's the weather" answered with set_temperature), even when the decoder wrote it confidently. The
// floor (`decision.min_tool_similarity`, `model.min_tool_similarity`, `--min-tool-similarity`; 0: off) is
// chosen by training/calibrate.py as the similarity that 99% of the right calls on the generated check set
// reach: a recall rule, since the generated negatives no longer show the decoder's mistakes. The daemon lowers
// it per tool from the tool's declared examples (floorFromExamples), for plugin tools whose descriptions the
// retrieval head reads less well than the built-in ones.
import type { ModelConfig } from "./model-dir.js";
import type { Prediction, ToolCall } from "./types.js";

/** The model's recommended floor: config.json `decision.min_confidence` when it is a number in [0, 1], else 0. */
export function modelMinConfidence(config: ModelConfig): number {
  return decisionFloor(config, "min_confidence");
}

/** The model's tool-similarity floor: config.json `decision.min_tool_similarity` when a number in [0, 1], else 0. */
export function modelMinToolSimilarity(config: ModelConfig): number {
  return decisionFloor(config, "min_tool_similarity");
}

function decisionFloor(config: ModelConfig, key: "min_confidence" | "min_tool_similarity"): number {
  const v = (config["decision"] as Record<string, unknown> | null | undefined)?.[key];
  return typeof v === "number" && v >= 0 && v <= 1 ? v : 0;
}

export type MaybeWithheld<P extends Prediction> = P & {
  /** The calls the model made with a confidence below the floor, withheld (`calls` is then []). */
  withheld?: ToolCall[];
};

/** How far below its lowest declared example a tool's own floor goes (paraphrases of an example score a little lower). */
export const EXAMPLE_MARGIN = 0.05;

/**
 * A tool's own similarity floor from the similarities of its declared examples (plugin `examples`) to it: the
 * model's floor, lowered to just under the lowest example when one falls below it, so that what the tool's
 * author says it is for is never "not sure". Never raised; never below 0. No examples: the model's floor.
 */
export function floorFromExamples(floor: number, exampleSimilarities: readonly number[], margin = EXAMPLE_MARGIN): number {
  const finite = exampleSimilarities.filter((s) => Number.isFinite(s));
  if (finite.length === 0) return floor;
  return Math.max(0, Math.min(floor, Math.min(...finite) - margin));
}

/** Why a prediction is withheld: its confidence, or its tool similarity, is below the floor. */
export function unsureBecause(p: Prediction, floor: number, similarityFloor = 0): "confidence" | "tool-similarity" | null {
  if (p.calls.length === 0) return null;
  if (p.confidence < floor) return "confidence";
  // A request for two things is close to neither tool alone: the similarity floor judges single calls only.
  if (similarityFloor > 0 && p.calls.length === 1 && p.toolSimilarity !== undefined && p.toolSimilarity < similarityFloor) {
    return "tool-similarity";
  }
  return null;
}

/**
 * `p` unchanged when it has no calls, or its confidence reaches `floor` and (a single call, the tools scored)
 * its tool similarity reaches `similarityFloor`; else no calls, the guess kept aside.
 */
export function abstainBelow<P extends Prediction>(p: P, floor: number, similarityFloor = 0): MaybeWithheld<P> {
  return unsureBecause(p, floor, similarityFloor) ? { ...p, calls: [], withheld: p.calls } : p;
}
