// The constrained greedy decoding loop, independent of the model runtime: the caller feeds tokens to its
// decoder and hands back logits. Budget rule: the decoder has `maxPositions` positions (Needle: 512); when the
// answer can no longer be completed within them the result is `[]` (no call), never a truncated call.

import type { GrammarState, PickResult, TokenGrammar } from "./grammar.js";

/**
 * A decoder step's scores for the next token when the runtime hands back only its K best logits (decoder I/O 3,
 * models/FORMAT.md) instead of the whole row.
 */
export interface TopKScores {
  /** token ids of the K highest logits (any order of equal logits; highest first is cheapest) */
  readonly ids: ArrayLike<number>;
  /** their logits */
  readonly values: ArrayLike<number>;
  /** log(sum(exp(logits))) over the whole row; not finite when the row has NaN or infinite logits */
  readonly logSumExp: number;
  /** the whole row of logits, for the rare step where the K cannot decide (may re-run the decoder step) */
  full(): Promise<Float32Array>;
}

/** What a decoder step hands to the loop: the whole row of logits, or its top K (TopKScores). */
export type StepScores = Float32Array | TopKScores;

/**
 * The pick `grammar.pickGreedy(state, row)` makes, from the row's top K alone, or null when they cannot decide
 * it: the allowed candidate with the highest logit (ties: the lower id), provided its logit is above the
 * smallest of the K (every token outside the K is at or below that, so none can beat or tie it). Null also when
 * logSumExp is not finite (NaN or infinite logits: pickGreedy's NaN rules need the whole row).
 */
export function pickFromTopK(grammar: TokenGrammar, state: GrammarState, top: Omit<TopKScores, "full">): PickResult | null {
  if (grammar.canEnd(state)) return { token: grammar.vocab.eosId, state }; // as pickGreedy: eos is all that is left
  if (!Number.isFinite(top.logSumExp)) return null;
  const K = Math.min(top.ids.length, top.values.length);
  let floor = Infinity;
  for (let j = 0; j < K; j++) {
    const v = top.values[j]!;
    if (Number.isNaN(v)) return null;
    if (v < floor) floor = v;
  }
  const order = byLogit(top, K);
  for (let r = 0; r < K; r++) {
    const j = order[r]!;
    if (!(top.values[j]! > floor)) return null;
    const id = top.ids[j]!;
    if (!(id >= 0 && id < grammar.vocab.size)) continue;
    const next = grammar.advance(state, id); // null for eos, which is allowed only when canEnd (handled above)
    if (next) return { token: id, state: next };
  }
  return null;
}

/** Positions 0..K-1 of `top` in (logit desc, id asc) order (insertion sort: the runtime's order is nearly it). */
function byLogit(top: Omit<TopKScores, "full">, K: number): Int32Array {
  const order = new Int32Array(K);
  for (let j = 0; j < K; j++) {
    const v = top.values[j]!;
    const id = top.ids[j]!;
    let i = j;
    while (i > 0) {
      const o = order[i - 1]!;
      const ov = top.values[o]!;
      if (ov > v || (ov === v && top.ids[o]! < id)) break;
      order[i] = o;
      i--;
    }
    order[i] = j;
  }
  return order;
}

export interface DecodeOptions {
  /** decoder positions available in all (Needle: 512) */
  maxPositions?: number;
  /** positions already fed before the answer, e.g. 2 for Needle's `[eos, <tool_call>]` */
  usedPositions: number;
  /** tokenizer for jump-forward (encodeNoDummyPrefix); without it every token comes from the logits */
  encode?: (text: string) => readonly number[];
  /** every string value must be a span of this text (TokenGrammar.startState); undefined: free strings */
  spanText?: string;
  /**
   * Called for every token taken from the logits (not for jump-forward tokens), eos included, with the scores
   * it was picked from: the whole row, or top-K scores that hold the token (the whole row when they could not
   * decide). `forced` is true when the grammar allowed nothing else (eos after a complete answer).
   * The engine's confidence is computed from these (src/engine/confidence.ts).
   */
  onPick?: (token: number, logits: StepScores, forced: boolean) => void;
}

export type DecodeStatus =
  /** the model wrote eos after a complete answer */
  | "eos"
  /** the answer could not be completed within the positions left: calls = [] */
  | "budget"
  /** no token was allowed (does not happen with a compiled grammar): calls = [] */
  | "dead";

export interface DecodeResult {
  /** the parsed answer; `[]` unless status is "eos" */
  calls: Array<{ name: string; arguments: Record<string, unknown> }>;
  status: DecodeStatus;
  /** answer tokens in order, forced ones included, eos excluded */
  tokens: number[];
  /** decoded answer text */
  text: string;
  /** decoder calls made (forced runs count once) */
  decoderCalls: number;
  /** tokens that came from jump-forward */
  forcedTokenCount: number;
  /** picks for which top-K scores could not decide, so the whole row was fetched (TopKScores.full) */
  fullRowFetches: number;
}

/**
 * Greedy decoding under the grammar. `firstLogits` are the scores after the prefix; `feed(ids)` runs the
 * decoder on the next ids (one call, any count) and returns the scores after the last of them: the whole row of
 * logits, or its top K (TopKScores), which give the same picks (pickFromTopK, else the whole row).
 */
export async function decodeConstrained(
  grammar: TokenGrammar,
  firstLogits: StepScores,
  feed: (ids: readonly number[]) => Promise<StepScores> | StepScores,
  options: DecodeOptions,
): Promise<DecodeResult> {
  const maxPositions = options.maxPositions ?? 512;
  const eos = grammar.vocab.eosId;
  let used = options.usedPositions;
  let logits = firstLogits;
  let state: GrammarState = grammar.startState(options.spanText);
  const tokens: number[] = [];
  let decoderCalls = 0;
  let forcedTokenCount = 0;
  let fullRowFetches = 0;
  const result = (status: DecodeStatus): DecodeResult => {
    const text = textOf(grammar, tokens);
    let calls: DecodeResult["calls"] = [];
    if (status === "eos") {
      try {
        calls = JSON.parse(text) as DecodeResult["calls"];
      } catch {
        status = "dead";
      }
    }
    return { calls, status, tokens, text, decoderCalls, forcedTokenCount, fullRowFetches };
  };

  for (;;) {
    // tokens still possible: one per position left to feed, plus the one these logits give
    const tokensLeft = maxPositions - used + 1;
    if (grammar.shouldStop(state, tokensLeft)) return result("budget");
    if (options.encode) {
      const forced = grammar.forcedTokens(state, options.encode);
      const n = forced.ids.length;
      if (n > 0 && used + n < maxPositions && !grammar.shouldStop(forced.state, tokensLeft - n)) {
        logits = await feed(forced.ids);
        decoderCalls++;
        used += n;
        forcedTokenCount += n;
        tokens.push(...forced.ids);
        state = forced.state;
        continue;
      }
    }
    const onlyEos = grammar.canEnd(state);
    let pick: PickResult | null;
    if (logits instanceof Float32Array) pick = grammar.pickGreedy(state, logits);
    else {
      pick = pickFromTopK(grammar, state, logits);
      if (pick === null) {
        logits = await logits.full();
        fullRowFetches++;
        pick = grammar.pickGreedy(state, logits);
      }
    }
    if (pick === null) return result("dead");
    options.onPick?.(pick.token, logits, onlyEos);
    if (pick.token === eos) return result("eos");
    if (used >= maxPositions) return result("budget");
    tokens.push(pick.token);
    state = pick.state;
    logits = await feed([pick.token]);
    decoderCalls++;
    used++;
  }
}

function textOf(grammar: TokenGrammar, tokens: readonly number[]): string {
  const parts = tokens.map((t) => grammar.vocab.pieces[t]!);
  return Buffer.concat(parts).toString("utf8");
}
