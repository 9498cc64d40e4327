// The constrained greedy decoding loop, independent of the model runtime: the caller feeds tokens to its
// decoder and hands back logits. Budget rule: the decoder has `maxPositions` positions (Needle: 512); when the
// answer can no longer be completed within them the result is `[]` (no call), never a truncated call.

import type { GrammarState, TokenGrammar } from "./grammar.js";

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
   * Called for every token taken from the logits (not for jump-forward tokens), eos included, with the logits
   * it was picked from. `forced` is true when the grammar allowed nothing else (eos after a complete answer).
   * The engine's confidence is computed from these (src/engine/confidence.ts).
   */
  onPick?: (token: number, logits: Float32Array, forced: boolean) => void;
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
}

/**
 * Greedy decoding under the grammar. `firstLogits` are the logits after the prefix; `feed(ids)` runs the
 * decoder on the next ids (one call, any count) and returns the logits after the last of them.
 */
export async function decodeConstrained(
  grammar: TokenGrammar,
  firstLogits: Float32Array,
  feed: (ids: readonly number[]) => Promise<Float32Array> | Float32Array,
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
    return { calls, status, tokens, text, decoderCalls, forcedTokenCount };
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
    const pick = grammar.pickGreedy(state, logits);
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
