// The token vocabulary as the grammar sees it: the bytes each token id contributes to the answer, a byte trie
// over them (so that a full mask walks shared prefixes once), and precomputed classes:
//   plain[id]  - the token is a run of complete, valid UTF-8 characters with no `"`, `\` or control byte, i.e.
//                it is allowed anywhere inside a free JSON string and keeps such a state unchanged;
//   nChars[id] - its number of characters (code points), for strings with minLength/maxLength.
// Built once per tokenizer and shared by every tool set.

import { EngineError } from "../types.js";
import { utf8Lead } from "./automaton.js";

/** A flat byte trie over token spellings. */
export class TokenTrie {
  /** edges of node n are childByte/childNode[childStart[n] .. childStart[n+1]) */
  readonly childStart: Int32Array;
  readonly childByte: Uint8Array;
  readonly childNode: Int32Array;
  /** tokens ending at node n are tokIds[tokStart[n] .. tokStart[n+1]) */
  readonly tokStart: Int32Array;
  readonly tokIds: Int32Array;

  constructor(pieces: readonly Uint8Array[], include: (id: number) => boolean) {
    interface TNode {
      children: Map<number, TNode>;
      tokens: number[];
    }
    const root: TNode = { children: new Map(), tokens: [] };
    for (let id = 0; id < pieces.length; id++) {
      const p = pieces[id]!;
      if (p.length === 0 || !include(id)) continue;
      let n = root;
      for (const b of p) {
        let c = n.children.get(b);
        if (!c) {
          c = { children: new Map(), tokens: [] };
          n.children.set(b, c);
        }
        n = c;
      }
      n.tokens.push(id);
    }
    // number nodes breadth-first so that each node's children are contiguous
    const order: TNode[] = [root];
    for (let i = 0; i < order.length; i++) {
      const kids = [...order[i]!.children.entries()].sort((a, b) => a[0] - b[0]);
      for (const [, c] of kids) order.push(c);
    }
    const index = new Map<TNode, number>(order.map((n, i) => [n, i]));
    const nNodes = order.length;
    this.childStart = new Int32Array(nNodes + 1);
    this.childByte = new Uint8Array(nNodes - 1);
    this.childNode = new Int32Array(nNodes - 1);
    this.tokStart = new Int32Array(nNodes + 1);
    const toks: number[] = [];
    let e = 0;
    order.forEach((n, i) => {
      this.childStart[i] = e;
      for (const [b, c] of [...n.children.entries()].sort((a, b2) => a[0] - b2[0])) {
        this.childByte[e] = b;
        this.childNode[e] = index.get(c)!;
        e++;
      }
      this.tokStart[i] = toks.length;
      toks.push(...n.tokens);
    });
    this.childStart[nNodes] = e;
    this.tokStart[nNodes] = toks.length;
    this.tokIds = Int32Array.from(toks);
  }

  /** A token of the trie starts with `bytes` and is longer: those bytes could merge with what follows. */
  extendsBeyond(bytes: Uint8Array): boolean {
    let n = 0;
    for (const b of bytes) {
      let next = -1;
      for (let e = this.childStart[n]!; e < this.childStart[n + 1]!; e++) {
        if (this.childByte[e] === b) {
          next = this.childNode[e]!;
          break;
        }
      }
      if (next < 0) return false;
      n = next;
    }
    return this.childStart[n + 1]! > this.childStart[n]!;
  }
}

/** Code points of `bytes` when it is plain string content (see the header), else -1. */
function plainChars(bytes: Uint8Array): number {
  let chars = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x20 || b === 0x22 || b === 0x5c) return -1;
    if (b >= 0x80) {
      const lead = utf8Lead(b);
      if (lead === 0) return -1;
      const need = lead & 0xff;
      for (let k = 1; k <= need; k++) {
        const c = bytes[i + k];
        const lo = k === 1 ? (lead >>> 8) & 0xff : 0x80;
        const hi = k === 1 ? lead >>> 16 : 0xbf;
        if (c === undefined || c < lo || c > hi) return -1;
      }
      i += need;
    }
    i++;
    chars++;
  }
  return chars;
}

export interface VocabularyOptions {
  /** id of the end-of-sequence token (Needle: 1) */
  eosId: number;
  /**
   * ids the grammar must never allow although they have a spelling: user-defined symbols such as
   * `<tool_call>` and `<tools>` (pieceBytes gives their text). Tokens with no bytes are never allowed anyway.
   */
  disallowIds?: Iterable<number>;
}

/** What the grammar needs from a tokenizer (src/engine/sentencepiece.ts provides it). */
export interface TokenizerLike {
  readonly vocabSize: number;
  pieceBytes(id: number): Uint8Array;
}

export class Vocabulary {
  readonly size: number;
  readonly eosId: number;
  readonly pieces: readonly Uint8Array[];
  readonly plain: Uint8Array;
  readonly nChars: Int32Array;
  readonly plainIds: Int32Array;
  readonly plainBits: Uint32Array;
  /** every token with a non-empty spelling */
  readonly trie: TokenTrie;
  /** the tokens that are not plain (checked byte by byte inside strings) */
  readonly nonPlainTrie: TokenTrie;
  readonly maxPieceBytes: number;

  /**
   * @param pieces the bytes each token id contributes to decoded text (empty for control tokens, which the
   *   grammar never allows except eos)
   */
  constructor(pieces: readonly Uint8Array[], options: VocabularyOptions) {
    if (Array.isArray(pieces) && pieces.some((p) => !(p instanceof Uint8Array))) {
      throw new EngineError("grammar: every token spelling must be a Uint8Array", "BAD_INPUT");
    }
    if (!Array.isArray(pieces) || pieces.length === 0) throw new EngineError("grammar: empty vocabulary", "BAD_INPUT");
    if (!Number.isInteger(options.eosId) || options.eosId < 0 || options.eosId >= pieces.length) {
      throw new EngineError(`grammar: eos id ${options.eosId} is outside the vocabulary`, "BAD_INPUT");
    }
    this.size = pieces.length;
    this.eosId = options.eosId;
    const disallowed = new Set(options.disallowIds ?? []);
    const empty = new Uint8Array(0);
    this.pieces = disallowed.size ? pieces.map((p, id) => (disallowed.has(id) ? empty : p)) : pieces;
    pieces = this.pieces;
    this.plain = new Uint8Array(this.size);
    this.nChars = new Int32Array(this.size);
    this.plainBits = new Uint32Array((this.size + 31) >>> 5);
    const plainIds: number[] = [];
    let maxLen = 1;
    for (let id = 0; id < this.size; id++) {
      const p = pieces[id]!;
      if (id === this.eosId || p.length === 0) continue;
      maxLen = Math.max(maxLen, p.length);
      const n = plainChars(p);
      if (n > 0) {
        this.plain[id] = 1;
        this.nChars[id] = n;
        this.plainBits[id >>> 5]! |= 1 << (id & 31);
        plainIds.push(id);
      }
    }
    this.plainIds = Int32Array.from(plainIds);
    this.maxPieceBytes = maxLen;
    const notEos = (id: number): boolean => id !== this.eosId;
    this.trie = new TokenTrie(pieces, notEos);
    this.nonPlainTrie = new TokenTrie(pieces, (id) => notEos(id) && this.plain[id] === 0);
  }

  /** The vocabulary of a tokenizer: every id's pieceBytes, with `disallowIds` (user symbols) left out. */
  static fromTokenizer(tokenizer: TokenizerLike, options: VocabularyOptions): Vocabulary {
    const pieces: Uint8Array[] = [];
    for (let id = 0; id < tokenizer.vocabSize; id++) pieces.push(tokenizer.pieceBytes(id));
    return new Vocabulary(pieces, options);
  }
}
