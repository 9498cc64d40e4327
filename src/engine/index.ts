// The engine's entry point: what the daemon, `needled predict` and `needled eval` load.
//
//   const engine = await openEngine({ modelDir: "models/default" });
//   const p = await engine.predict("set a timer for 5 minutes", tools);   // {calls, confidence, ms, toolsInPrompt}
//   await engine.close();
import { NeedleEngine, type EngineOptions } from "./needle-engine.js";
import type { ToolCaller } from "./types.js";

export { NeedleEngine, DEFAULT_MAX_TOOLS_IN_PROMPT, MAX_CALLS } from "./needle-engine.js";
export type { EngineOptions, EngineStats, PredictionDetails, DetailedPrediction } from "./needle-engine.js";
export { EngineError } from "./types.js";
export type { ToolCaller, ToolCall, ToolDeclaration, Prediction, PredictOptions, JsonSchema } from "./types.js";
export { parseToolsJson } from "./tool-schema.js";
export { abstainBelow, floorFromExamples, modelMinConfidence, modelMinToolSimilarity, unsureBecause, type MaybeWithheld } from "./abstain.js";

/**
 * Loads a model directory and returns the engine (a ToolCaller). Throws EngineError MODEL_MISSING (no such
 * directory or file) or MODEL_INVALID (bad config.json, a graph or tokenizer that does not load or match).
 */
export async function openEngine(opts: { modelDir: string; maxToolsInPrompt?: number; threads?: number } & Partial<EngineOptions>): Promise<ToolCaller & NeedleEngine> {
  return NeedleEngine.open(opts);
}
