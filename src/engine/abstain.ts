// Abstaining on low confidence: a model's answer whose confidence (src/engine/confidence.ts) is below a floor
// is treated as no answer at all. For a voice hub a wrong action (the lights go on when you asked about the
// weather) is worse than "sorry, I'm not sure", and the confidence separates right from wrong answers well.
//
// The floor belongs to the model: each export is calibrated on the trainer's own generated check set (never on
// the dev or held-out sets) and records it in config.json as `decision.min_confidence`. The daemon's
// `model.min_confidence` and `needled predict --min-confidence` override it; 0 turns abstaining off.
import type { ModelConfig } from "./model-dir.js";
import type { Prediction, ToolCall } from "./types.js";

/** The model's recommended floor: config.json `decision.min_confidence` when it is a number in [0, 1], else 0. */
export function modelMinConfidence(config: ModelConfig): number {
  const decision = config["decision"] as { min_confidence?: unknown } | undefined;
  const v = decision?.min_confidence;
  return typeof v === "number" && v >= 0 && v <= 1 ? v : 0;
}

export type MaybeWithheld<P extends Prediction> = P & {
  /** The calls the model made with a confidence below the floor, withheld (`calls` is then []). */
  withheld?: ToolCall[];
};

/** `p` unchanged when its confidence reaches `floor` or it has no calls; else no calls, the guess kept aside. */
export function abstainBelow<P extends Prediction>(p: P, floor: number): MaybeWithheld<P> {
  if (p.calls.length === 0 || !(p.confidence < floor)) return p;
  return { ...p, calls: [], withheld: p.calls };
}
