// Unconstrained greedy decoding over NeedleOnnxModel: the KV-cached way an engine runs, and the reference
// way (the whole prefix re-run every step, as Needle's own Python does). Used by parity tests and the bench;
// the grammar-constrained decoder lives elsewhere and builds on decode() the same way.
import type { EncoderState, NeedleOnnxModel } from "./onnx-model.js";

export interface GreedyOptions {
  /** Decoder prefix (default `[eos]`: Needle's decoder starts from eos). */
  start?: number[];
  /** Stop after this many generated tokens (default: up to max_decoder_len). */
  maxNewTokens?: number;
  /** Stop at the first of these ids, which is kept out of `tokens` (default `[eos]`). */
  stopIds?: number[];
  /** Adjust a row of logits in place before the argmax (e.g. ban ids); `prefix` is start + generated so far. */
  processLogits?: (row: Float32Array, prefix: readonly number[]) => void;
}

export interface GreedyResult {
  /** Generated ids after the start prefix, without the stop id. */
  tokens: number[];
  stopped: "stop" | "length";
  /** Decoder calls made. */
  steps: number;
}

/** Index of the largest value (the first one on ties). */
export function argmax(row: ArrayLike<number>): number {
  let best = 0;
  let bestV = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > bestV) {
      bestV = v;
      best = i;
    }
  }
  return best;
}

function plan(model: NeedleOnnxModel, o: GreedyOptions) {
  const eos = model.config.special_ids.eos;
  const start = o.start ?? [eos];
  const room = model.config.max_decoder_len - start.length;
  const max = Math.max(0, Math.min(o.maxNewTokens ?? room, room));
  const pick = (row: Float32Array, prefix: readonly number[]): number => {
    if (!o.processLogits) return argmax(row);
    const copy = row.slice();
    o.processLogits(copy, prefix);
    return argmax(copy);
  };
  return { start, max, stop: new Set(o.stopIds ?? [eos]), pick };
}

/** Greedy decoding with the self-attention cache: the prefix once, then one token per call. */
export async function greedyCached(model: NeedleOnnxModel, enc: EncoderState, options: GreedyOptions = {}): Promise<GreedyResult> {
  const { start, max, stop, pick } = plan(model, options);
  const tokens: number[] = [];
  if (max === 0) return { tokens, stopped: "length", steps: 0 };
  let step = await model.decode(enc, model.emptyCache(), start);
  let steps = 1;
  for (;;) {
    const next = pick(step.logits[step.logits.length - 1]!, [...start, ...tokens]);
    if (stop.has(next)) return { tokens, stopped: "stop", steps };
    tokens.push(next);
    if (tokens.length >= max) return { tokens, stopped: "length", steps };
    step = await model.decode(enc, step.cache, [next]);
    steps++;
  }
}

/** The reference way: no cache, the whole prefix re-run every step (quadratic; for parity tests and the bench). */
export async function greedyUncached(model: NeedleOnnxModel, enc: EncoderState, options: GreedyOptions = {}): Promise<GreedyResult> {
  const { start, max, stop, pick } = plan(model, options);
  const prefix = [...start];
  const tokens: number[] = [];
  let steps = 0;
  while (tokens.length < max) {
    const { logits } = await model.decode(enc, model.emptyCache(), prefix);
    steps++;
    const next = pick(logits[logits.length - 1]!, prefix);
    if (stop.has(next)) return { tokens, stopped: "stop", steps };
    tokens.push(next);
    prefix.push(next);
  }
  return { tokens, stopped: "length", steps };
}
