// The grammar's public face: ToolGrammar (bytes) and TokenGrammar (token ids, masks, greedy picks, jump-forward).

import { GNode, RootNode, type RootSpec, SpanSource, StrMode, StrNode } from "./automaton.js";
import { compileRoot, subsetRoot, type RootOptions, type ToolSchema } from "./compile.js";
import type { TokenTrie, Vocabulary } from "./vocabulary.js";

/** An immutable grammar state. Keep it, branch from it, compare it by identity; never mutate it. */
export type GrammarState = GNode;

export type GrammarOptions = RootOptions;

/** Byte-level grammar of a whole answer `[{"name":...,"arguments":{...}}, ...]` for one set of tools. */
export class ToolGrammar {
  private constructor(readonly spec: RootSpec) {}

  /** Compiles the tools; throws EngineError("BAD_TOOLS") with the tool and schema path on a bad schema. */
  static compile(tools: readonly ToolSchema[], options: GrammarOptions = {}): ToolGrammar {
    return new ToolGrammar(compileRoot(tools, options));
  }

  /** The grammar of the tools at `indices` (in that order), sharing their compiled argument specs with this one:
   * the same as compiling those tools with the same options, at the cost of their call heads only. */
  subset(indices: readonly number[]): ToolGrammar {
    return new ToolGrammar(subsetRoot(this.spec, indices));
  }

  /**
   * A fresh state before the answer's first byte (after `<tool_call>`). Each call starts a new memo. With
   * `spanText`, every string value must be a span of it (case-insensitive; see SpanStrNode): enum and const
   * values, keys and numbers are not affected.
   */
  startState(spanText?: string): GrammarState {
    if (spanText === undefined) return RootNode.start(this.spec);
    return RootNode.start({ ...this.spec, span: new SpanSource(spanText) });
  }

  stepByte(state: GrammarState, b: number): GrammarState | null {
    return state.step(b);
  }

  advanceBytes(state: GrammarState, bytes: Uint8Array): GrammarState | null {
    let s: GrammarState | null = state;
    for (let i = 0; i < bytes.length && s !== null; i++) s = s.step(bytes[i]!);
    return s;
  }

  /** The answer is complete JSON: eos is allowed (and nothing else is). */
  canEnd(state: GrammarState): boolean {
    return state.isFinal();
  }

  /**
   * The bytes that are the only possible continuation of `state` (empty when there is a choice, including
   * the choice of ending). Every prefix of the result is accepted.
   */
  forcedBytes(state: GrammarState, max = 4096): Uint8Array {
    const out: number[] = [];
    let s = state;
    while (out.length < max && !s.isFinal()) {
      const cands = s.candidates();
      if (cands === null) break;
      let only = -1;
      let next: GrammarState | null = null;
      let seen = 0;
      for (const b of cands) {
        if (b === only) continue;
        const r = s.step(b);
        if (r === null) continue;
        if (++seen > 1) break;
        only = b;
        next = r;
      }
      if (seen !== 1) break;
      out.push(only);
      s = next!;
    }
    return Uint8Array.from(out);
  }

  /** Lower bound on the bytes still needed to complete the answer (0 when complete). */
  minRemainingBytes(state: GrammarState): number {
    return state.isFinal() ? 0 : state.minRemaining();
  }
}

export interface PickResult {
  token: number;
  /** the state after the token (for eos: the same state) */
  state: GrammarState;
}

export interface ForcedTokens {
  /** tokens to feed to the decoder in one call (the forced text's tokens except the last one) */
  ids: number[];
  /** the state after them */
  state: GrammarState;
  /** the forced bytes that were tokenized (cut at a UTF-8 boundary) */
  bytes: Uint8Array;
}

const TOP_K = 16;
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Length of the longest prefix of `bytes` that ends on a UTF-8 character boundary. */
function utf8Cut(bytes: Uint8Array): number {
  let i = bytes.length - 1;
  let back = 0;
  while (i >= 0 && back < 4 && (bytes[i]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i < 0) return 0;
  const b = bytes[i]!;
  const len = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
  return i + len <= bytes.length ? bytes.length : i;
}

/** Jump-forward leaves at most this many forced tokens for the model to write (see forcedTokens). */
const MAX_TAIL_TOKENS = 4;

/** The grammar over token ids of one vocabulary. */
export class TokenGrammar {
  constructor(
    readonly grammar: ToolGrammar,
    readonly vocab: Vocabulary,
  ) {}

  /** See ToolGrammar.subset. */
  subset(indices: readonly number[]): TokenGrammar {
    return new TokenGrammar(this.grammar.subset(indices), this.vocab);
  }

  /** See ToolGrammar.startState. */
  startState(spanText?: string): GrammarState {
    return this.grammar.startState(spanText);
  }

  canEnd(state: GrammarState): boolean {
    return state.isFinal();
  }

  /** The state after token `id`, or null when the grammar does not allow it (eos: use canEnd). */
  advance(state: GrammarState, id: number): GrammarState | null {
    const vocab = this.vocab;
    if (id === vocab.eosId) return null;
    const bytes = vocab.pieces[id];
    if (bytes === undefined || bytes.length === 0) return null;
    if (state instanceof StrNode && state.mode === StrMode.Clean && vocab.plain[id] === 1) {
      return state.afterChars(vocab.nChars[id]!);
    }
    let s: GrammarState | null = state;
    for (let i = 0; i < bytes.length && s !== null; i++) s = s.step(bytes[i]!);
    return s;
  }

  /** The full mask: bit `id` of word `id >>> 5` is set when token `id` is allowed (eos when complete). */
  allowedTokens(state: GrammarState): Uint32Array {
    const vocab = this.vocab;
    const bits = new Uint32Array((vocab.size + 31) >>> 5);
    if (state.isFinal()) bits[vocab.eosId >>> 5]! |= 1 << (vocab.eosId & 31);
    if (state instanceof StrNode && state.mode === StrMode.Clean) {
      if (state.isFreeClean) bits.set(vocab.plainBits);
      else {
        const room = state.spec.max - state.count;
        const ids = vocab.plainIds;
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i]!;
          if (vocab.nChars[id]! <= room) bits[id >>> 5]! |= 1 << (id & 31);
        }
      }
      walk(vocab.nonPlainTrie, state, bits);
    } else {
      walk(vocab.trie, state, bits);
    }
    return bits;
  }

  /** The allowed token ids, ascending (a convenience over allowedTokens). */
  allowedIds(state: GrammarState): number[] {
    const out: number[] = [];
    forEachBit(this.allowedTokens(state), (id) => out.push(id));
    return out;
  }

  private check(state: GrammarState, id: number): GrammarState | null {
    if (id === this.vocab.eosId) return state.isFinal() ? state : null;
    return this.advance(state, id);
  }

  /**
   * The allowed token with the highest logit (ties: the lower id; NaN counts as -Infinity), and the state after
   * it. Checks the argmax first, then the next best in order, and computes the full mask only when the top
   * TOP_K candidates are all disallowed. Null only if nothing is allowed, which a compiled grammar never does.
   */
  pickGreedy(state: GrammarState, logits: Float32Array): PickResult | null {
    if (state.isFinal()) return { token: this.vocab.eosId, state }; // eos is all that is left
    const n = Math.min(logits.length, this.vocab.size);
    let best = -1;
    let bv = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = logits[i]!;
      if (v > bv) {
        bv = v;
        best = i;
      }
    }
    if (best < 0) return this.pickFromMask(state, logits, n);
    const first = this.check(state, best);
    if (first) return { token: best, state: first };

    // the next TOP_K in (logit desc, id asc) order, by insertion into a short sorted list
    const ids = new Int32Array(TOP_K);
    const vals = new Float32Array(TOP_K);
    let k = 0;
    for (let i = 0; i < n; i++) {
      if (i === best) continue;
      const v = logits[i]!;
      if (!(v > -Infinity)) continue;
      if (k === TOP_K && !(v > vals[k - 1]!)) continue;
      let j = k < TOP_K ? k++ : TOP_K - 1;
      while (j > 0 && vals[j - 1]! < v) {
        vals[j] = vals[j - 1]!;
        ids[j] = ids[j - 1]!;
        j--;
      }
      vals[j] = v;
      ids[j] = i;
    }
    for (let j = 0; j < k; j++) {
      const s = this.check(state, ids[j]!);
      if (s) return { token: ids[j]!, state: s };
    }
    return this.pickFromMask(state, logits, n);
  }

  private pickFromMask(state: GrammarState, logits: Float32Array, n: number): PickResult | null {
    let best = -1;
    let bv = -Infinity;
    forEachBit(this.allowedTokens(state), (id) => {
      const v = id < n ? logits[id]! : -Infinity;
      if (best < 0 || v > bv) {
        best = id;
        bv = v > -Infinity ? v : -Infinity; // NaN counts as -Infinity
      }
    });
    if (best < 0) return null;
    const s = this.check(state, best);
    return s ? { token: best, state: s } : null;
  }

  /** Bytes that are the only possible continuation (see ToolGrammar.forcedBytes). */
  forcedBytes(state: GrammarState): Uint8Array {
    return this.grammar.forcedBytes(state);
  }

  /**
   * Jump-forward: tokenizes the forced bytes with `encode` (the tokenizer's encodeNoDummyPrefix) and returns
   * all its tokens but the tail, to be fed in one decoder call, with the state after them. The tail (the last
   * token, and up to MAX_TAIL_TOKENS while the tail's bytes begin a longer token) is left to the model so that
   * the boundary with what follows stays the model's own. Tokens the grammar does not
   * accept (a user symbol matched inside the text, say) end the run early.
   */
  forcedTokens(state: GrammarState, encode: (text: string) => readonly number[]): ForcedTokens {
    const forced = this.grammar.forcedBytes(state);
    const bytes = forced.subarray(0, utf8Cut(forced));
    if (bytes.length === 0) return { ids: [], state, bytes };
    let text: string;
    try {
      text = utf8Decoder.decode(bytes);
    } catch {
      return { ids: [], state, bytes: bytes.subarray(0, 0) };
    }
    const all = encode(text);
    // The model writes the last forced token itself, and more of the tail while that tail could be the start of
    // a longer token: the tokenizer it was trained on merges forced text with what follows (`":{}}]` is one
    // token, so feeding `":{` and asking for `}}` shows the model a split it never saw).
    let keep = all.length - 1;
    while (keep > 0 && all.length - keep < MAX_TAIL_TOKENS && this.vocab.trie.extendsBeyond(this.#bytesOf(all, keep))) keep--;
    const ids: number[] = [];
    let s = state;
    for (let i = 0; i < keep; i++) {
      const next = this.advance(s, all[i]!);
      if (next === null) break;
      ids.push(all[i]!);
      s = next;
    }
    return { ids, state: s, bytes };
  }

  /** The bytes of tokens all[from..]. */
  #bytesOf(all: readonly number[], from: number): Uint8Array {
    const parts = all.slice(from).map((id) => this.vocab.pieces[id] ?? new Uint8Array(0));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }

  /**
   * Lower bound on the tokens (eos included) needed to complete the answer from `state`: the shortest byte
   * completion spelled with the longest tokens of the vocabulary.
   */
  minTokensToFinish(state: GrammarState): number {
    if (state.isFinal()) return 1;
    return Math.ceil(state.minRemaining() / this.vocab.maxPieceBytes) + 1;
  }

  /**
   * The budget rule: true when the answer cannot be completed within `tokensLeft` more tokens (eos included),
   * so decoding should stop now and return `[]` instead of spending the rest of the budget.
   */
  shouldStop(state: GrammarState, tokensLeft: number): boolean {
    return this.minTokensToFinish(state) > tokensLeft;
  }
}

/** Calls `fn` with each set bit's index, ascending. */
function forEachBit(bits: Uint32Array, fn: (i: number) => void): void {
  for (let w = 0; w < bits.length; w++) {
    let x = bits[w]!;
    while (x !== 0) {
      const t = x & -x;
      fn(w * 32 + 31 - Math.clz32(t));
      x ^= t;
    }
  }
}

/** DFS over the token trie from `state`, setting the bits of the tokens whose bytes the grammar accepts. */
function walk(trie: TokenTrie, state: GrammarState, bits: Uint32Array): void {
  const nodeStack: number[] = [0];
  const stateStack: GrammarState[] = [state];
  const { childStart, childByte, childNode, tokStart, tokIds } = trie;
  while (nodeStack.length > 0) {
    const node = nodeStack.pop()!;
    const s = stateStack.pop()!;
    for (let e = childStart[node]!; e < childStart[node + 1]!; e++) {
      const s2 = s.step(childByte[e]!);
      if (s2 === null) continue;
      const c = childNode[e]!;
      for (let t = tokStart[c]!; t < tokStart[c + 1]!; t++) {
        const id = tokIds[t]!;
        bits[id >>> 5]! |= 1 << (id & 31);
      }
      if (childStart[c + 1]! > childStart[c]!) {
        nodeStack.push(c);
        stateStack.push(s2);
      }
    }
  }
}

/** Compiles the tools for a vocabulary: the one call the engine makes per tool set. */
export function compileGrammar(
  tools: readonly ToolSchema[],
  vocab: Vocabulary,
  options: GrammarOptions = {},
): TokenGrammar {
  return new TokenGrammar(ToolGrammar.compile(tools, options), vocab);
}
