// SentencePiece BPE tokenizer: reproduces the ids of sentencepiece 0.1.97 (`sp.encode(text)`, no BOS/EOS) and
// its `sp.decode(ids)`, for BPE models whose normalisation is the identity (no precompiled character map),
// which is what Needle's tokenizer is.
//
// Encoding, as sentencepiece does it:
//   1. normalise: drop leading spaces, collapse runs of spaces, drop trailing spaces (remove_extra_whitespaces),
//      put U+2581 "▁" in front (add_dummy_prefix) and in place of every space (escape_whitespaces);
//      user-defined symbols are copied through untouched.
//   2. split into symbols: a user-defined symbol (longest match) is one frozen symbol, anything else one
//      character (code point).
//   3. repeatedly merge the adjacent pair whose concatenation is a piece with the highest score (leftmost on
//      ties), with a priority queue and a doubly linked list of symbols, O(n log n).
//   4. UNUSED pieces are split back into the pieces they were merged from; a symbol that is not a piece is
//      unknown: with byte_fallback its UTF-8 bytes become <0xXX> pieces, without it a run of unknown
//      symbols becomes one <unk>.
import { readFile } from "node:fs/promises";
import { ModelType, PieceType, readModelProto, type ProtoModel, type PieceTypeNumber } from "./sentencepiece-proto.js";
import { EngineError } from "./types.js";

const SPACE_SYMBOL = "\u2581";
const REPLACEMENT = "\uFFFD";
const EMPTY = new Uint8Array(0);
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export type PieceKind = "normal" | "unknown" | "control" | "user_defined" | "unused" | "byte";
const KIND_BY_TYPE: Record<PieceTypeNumber, PieceKind> = {
  1: "normal",
  2: "unknown",
  3: "control",
  4: "user_defined",
  5: "unused",
  6: "byte",
};

export interface NormalizerOptions {
  addDummyPrefix: boolean;
  removeExtraWhitespaces: boolean;
  escapeWhitespaces: boolean;
}

/** 2^32: candidate keys are scoreRank * 2^32 + (2^32 - 1 - left), exact in a float64 for any vocabulary. */
const LEFT_SPAN = 4294967296;

/**
 * The merge agenda: a binary max-heap in sentencepiece's order (highest score first, then leftmost). Score
 * and position are folded into one number per candidate (the score's rank among the model's distinct scores,
 * then the inverted left index), and candidates live in typed arrays, so a 4 kB text allocates a handful of
 * buffers and each comparison is one float compare.
 */
class Agenda {
  readonly left: Int32Array;
  readonly right: Int32Array;
  /** Length (UTF-16 units) of the merged symbol; a stale candidate no longer adds up to it. */
  readonly size: Int32Array;
  readonly id: Int32Array;
  private readonly heapKey: Float64Array;
  private readonly heapCand: Int32Array;
  private count = 0;
  private length = 0;

  constructor(capacity: number) {
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.size = new Int32Array(capacity);
    this.id = new Int32Array(capacity);
    this.heapKey = new Float64Array(capacity);
    this.heapCand = new Int32Array(capacity);
  }

  push(rank: number, left: number, right: number, size: number, id: number): void {
    const c = this.count++;
    this.left[c] = left;
    this.right[c] = right;
    this.size[c] = size;
    this.id[c] = id;
    const key = rank * LEFT_SPAN + (LEFT_SPAN - 1 - left);
    const hk = this.heapKey;
    const hc = this.heapCand;
    let i = this.length++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (hk[parent]! >= key) break;
      hk[i] = hk[parent]!;
      hc[i] = hc[parent]!;
      i = parent;
    }
    hk[i] = key;
    hc[i] = c;
  }

  /** Index of the best candidate, removed from the heap; -1 when empty. */
  pop(): number {
    if (this.length === 0) return -1;
    const hk = this.heapKey;
    const hc = this.heapCand;
    const top = hc[0]!;
    const n = --this.length;
    const lastKey = hk[n]!;
    const lastCand = hc[n]!;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && hk[r]! > hk[l]! ? r : l;
      if (hk[child]! <= lastKey) break;
      hk[i] = hk[child]!;
      hc[i] = hc[child]!;
      i = child;
    }
    hk[i] = lastKey;
    hc[i] = lastCand;
    return top;
  }
}

/**
 * (left id, right id) -> merged id: an open-addressing hash table on typed arrays. It is the hottest lookup
 * of encoding, and a Map with number keys costs about twice as much here.
 */
class PairTable {
  private readonly keys: Int32Array;
  private readonly values: Int32Array;
  private readonly mask: number;
  private readonly shift: number;

  constructor(
    entries: Array<[number, number]>,
    private readonly vocab: number,
  ) {
    let bits = 4;
    while (1 << bits < entries.length * 2) bits++;
    this.keys = new Int32Array(1 << bits).fill(-1);
    this.values = new Int32Array(1 << bits);
    this.mask = (1 << bits) - 1;
    this.shift = 32 - bits;
    for (const [key, value] of entries) {
      let i = this.slot(key);
      while (this.keys[i] !== -1) i = (i + 1) & this.mask;
      this.keys[i] = key;
      this.values[i] = value;
    }
  }

  private slot(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  /** The merged id, or -1. */
  get(left: number, right: number): number {
    const key = left * this.vocab + right;
    for (let i = this.slot(key); ; i = (i + 1) & this.mask) {
      const k = this.keys[i]!;
      if (k === key) return this.values[i]!;
      if (k === -1) return -1;
    }
  }
}

const encoder = new TextEncoder();
function utf8Of(s: string): Uint8Array {
  return encoder.encode(s);
}

/**
 * One UTF-8 character at `bytes[offset]`, with sentencepiece's rules: overlong forms, surrogates and code
 * points above U+10FFFF are invalid, and an invalid sequence consumes one byte.
 */
function decodeUtf8Char(bytes: number[], offset: number): { cp: number; len: number } | undefined {
  const n = bytes.length - offset;
  const b0 = bytes[offset]!;
  const trail = (k: number): boolean => ((bytes[offset + k]! & 0xc0) === 0x80);
  const valid = (cp: number): boolean => cp < 0xd800 || (cp >= 0xe000 && cp <= 0x10ffff);
  if (b0 < 0x80) return { cp: b0, len: 1 };
  if (n >= 2 && (b0 & 0xe0) === 0xc0) {
    const cp = ((b0 & 0x1f) << 6) | (bytes[offset + 1]! & 0x3f);
    if (trail(1) && cp >= 0x80 && valid(cp)) return { cp, len: 2 };
  } else if (n >= 3 && (b0 & 0xf0) === 0xe0) {
    const cp = ((b0 & 0x0f) << 12) | ((bytes[offset + 1]! & 0x3f) << 6) | (bytes[offset + 2]! & 0x3f);
    if (trail(1) && trail(2) && cp >= 0x800 && valid(cp)) return { cp, len: 3 };
  } else if (n >= 4 && (b0 & 0xf8) === 0xf0) {
    const cp =
      ((b0 & 0x07) << 18) |
      ((bytes[offset + 1]! & 0x3f) << 12) |
      ((bytes[offset + 2]! & 0x3f) << 6) |
      (bytes[offset + 3]! & 0x3f);
    if (trail(1) && trail(2) && trail(3) && cp >= 0x10000 && valid(cp)) return { cp, len: 4 };
  }
  return undefined;
}

/** Byte pieces to text: each valid UTF-8 character as itself, each invalid byte as U+FFFD. */
function bytesToText(bytes: number[]): string {
  let out = "";
  let i = 0;
  while (i < bytes.length) {
    const c = decodeUtf8Char(bytes, i);
    if (c === undefined) {
      out += REPLACEMENT;
      i += 1;
    } else {
      out += String.fromCodePoint(c.cp);
      i += c.len;
    }
  }
  return out;
}

function parseBytePiece(piece: string): number {
  const m = /^<0x([0-9A-F]{2})>$/.exec(piece);
  return m ? parseInt(m[1]!, 16) : -1;
}

export class SentencePieceTokenizer {
  /** Number of pieces (ids are 0 .. vocabSize-1). */
  readonly vocabSize: number;
  /** The <unk> piece's id. */
  readonly unkId: number;
  /** Special ids as the trainer spec declares them (-1 when disabled). */
  readonly bosId: number;
  readonly eosId: number;
  readonly padId: number;
  readonly byteFallback: boolean;
  readonly normalizerOptions: Readonly<NormalizerOptions>;
  /** The normalisation rule name stored in the model (only rules without a character map are supported). */
  readonly normalizationName: string;

  private readonly pieces: string[];
  private readonly scores: Float64Array;
  /** Rank of each piece's score among the distinct scores (equal scores share a rank), for the agenda. */
  private readonly scoreRanks: Int32Array;
  private readonly types: Uint8Array;
  /** sentencepiece's `pieces_`: NORMAL, USER_DEFINED and UNUSED pieces (the ones merges may produce). */
  private readonly mergeable = new Map<string, number>();
  /** sentencepiece's `reserved_id_map_`: UNKNOWN, CONTROL and BYTE pieces. */
  private readonly reserved = new Map<string, number>();
  /** (left id, right id) -> id of the piece their concatenation is. */
  private readonly pairs: PairTable;
  /** User-defined symbols by first UTF-16 unit, longest first; userFirst flags those first units. */
  private readonly userSymbols = new Map<number, string[]>();
  private readonly userFirst = new Uint8Array(0x10000);
  /** Mergeable id of each one-unit piece by its UTF-16 unit, -1 where none (the common lookup, kept flat). */
  private readonly charIds = new Int32Array(0x10000).fill(-1);
  private readonly byteIds = new Int32Array(256);
  private readonly byteValue: Int16Array;
  /** The id decode() works with for each id (sentencepiece decodes id -> piece -> id). */
  private readonly decodeIds: Int32Array;
  /** Mergeable ids whose piece string is also a reserved piece (PieceToId then answers the reserved id). */
  private readonly shadowed: Uint8Array;
  private readonly bytesById: Uint8Array[];
  private readonly unkSurface: string;

  private constructor(model: ProtoModel, source: string) {
    const bad = (msg: string): never => {
      throw new EngineError(`${source}: ${msg}`, "MODEL_INVALID");
    };
    const { trainer, normalizer } = model;
    if (trainer.modelType !== ModelType.BPE) {
      bad(`model type ${trainer.modelType} is not BPE (2); only BPE models are supported`);
    }
    if (trainer.treatWhitespaceAsSuffix) bad("treat_whitespace_as_suffix is not supported");
    if (normalizer.precompiledCharsmapLength > 0) {
      bad(`normalization rule "${normalizer.name}" uses a character map; only "identity" is supported`);
    }
    if (model.denormalizer && model.denormalizer.precompiledCharsmapLength > 0) {
      bad("a denormalizer character map is not supported");
    }
    this.byteFallback = trainer.byteFallback;
    this.normalizerOptions = Object.freeze({
      addDummyPrefix: normalizer.addDummyPrefix,
      removeExtraWhitespaces: normalizer.removeExtraWhitespaces,
      escapeWhitespaces: normalizer.escapeWhitespaces,
    });
    this.normalizationName = normalizer.name;
    this.unkSurface = trainer.unkSurface;
    this.bosId = trainer.bosId;
    this.eosId = trainer.eosId;
    this.padId = trainer.padId;

    const n = model.pieces.length;
    this.vocabSize = n;
    this.pieces = new Array<string>(n);
    this.scores = new Float64Array(n);
    this.types = new Uint8Array(n);
    this.byteValue = new Int16Array(n).fill(-1);
    let unk = -1;
    const bytesSeen = new Set<number>();
    const users: string[] = [];
    model.pieces.forEach((p, id) => {
      if (p.piece === "") bad(`piece ${id} is empty`);
      this.pieces[id] = p.piece;
      this.scores[id] = p.score;
      this.types[id] = p.type;
      const isMergeable = p.type === PieceType.NORMAL || p.type === PieceType.USER_DEFINED || p.type === PieceType.UNUSED;
      const map = isMergeable ? this.mergeable : this.reserved;
      if (map.has(p.piece)) bad(`piece ${JSON.stringify(p.piece)} is defined twice`);
      map.set(p.piece, id);
      if (p.type === PieceType.USER_DEFINED) users.push(p.piece);
      if (p.type === PieceType.UNKNOWN) {
        if (unk >= 0) bad("more than one <unk> piece");
        unk = id;
      }
      if (p.type === PieceType.BYTE) {
        if (!trainer.byteFallback) bad(`byte piece ${p.piece} found although byte_fallback is off`);
        const b = parseBytePiece(p.piece);
        if (b < 0) bad(`byte piece ${JSON.stringify(p.piece)} is not of the form <0xXX>`);
        bytesSeen.add(b);
        this.byteValue[id] = b;
      }
    });
    if (unk < 0) bad("no <unk> piece");
    this.unkId = unk;
    if (trainer.byteFallback && bytesSeen.size !== 256) bad("byte_fallback is on but not all 256 byte pieces exist");

    for (let b = 0; b < 256; b++) this.byteIds[b] = this.lookup(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
    for (const s of users.sort((a, b) => b.length - a.length)) {
      const k = s.charCodeAt(0);
      const list = this.userSymbols.get(k);
      if (list) list.push(s);
      else this.userSymbols.set(k, [s]);
      this.userFirst[k] = 1;
    }
    for (const [piece, id] of this.mergeable) if (piece.length === 1) this.charIds[piece.charCodeAt(0)] = id;
    // Every way a mergeable piece splits into two mergeable pieces: the merge table of the fast path.
    if (n > 46340) bad(`vocabulary of ${n} pieces is too large (at most 46340)`);
    const pairs: Array<[number, number]> = [];
    for (const [piece, id] of this.mergeable) {
      for (let k = 1; k < piece.length; k++) {
        const l = this.mergeable.get(piece.slice(0, k));
        if (l === undefined) continue;
        const r = this.mergeable.get(piece.slice(k));
        if (r !== undefined) pairs.push([l * n + r, id]);
      }
    }
    this.pairs = new PairTable(pairs, n);
    const distinct = [...new Set(this.scores)].sort((a, b) => a - b);
    const rankOf = new Map(distinct.map((score, rank) => [score, rank]));
    this.scoreRanks = Int32Array.from(this.scores, (score) => rankOf.get(score)!);
    this.decodeIds = new Int32Array(n);
    this.shadowed = new Uint8Array(n);
    this.bytesById = new Array<Uint8Array>(n);
    for (let id = 0; id < n; id++) {
      const piece = this.pieces[id]!;
      this.decodeIds[id] = this.reserved.get(piece) ?? this.mergeable.get(piece) ?? unk;
      if (this.decodeIds[id] !== id) this.shadowed[id] = 1;
      const t = this.types[id];
      if (t === PieceType.BYTE) this.bytesById[id] = Uint8Array.of(this.byteValue[id]!);
      else if (t === PieceType.CONTROL || t === PieceType.UNKNOWN) this.bytesById[id] = EMPTY;
      else this.bytesById[id] = utf8Of(piece.replaceAll(SPACE_SYMBOL, " "));
    }
    // One buffer for every spelling, each token's a view of it: thousands of tiny buffers cost V8 an ArrayBuffer
    // and a native backing store apiece (~1.5 MB for an 8k vocabulary, measured with a heap snapshot).
    const all = new Uint8Array(this.bytesById.reduce((sum, b) => sum + b.length, 0));
    let at = 0;
    for (let id = 0; id < n; id++) {
      const b = this.bytesById[id]!;
      all.set(b, at);
      this.bytesById[id] = all.subarray(at, at + b.length);
      at += b.length;
    }
  }

  /** Builds a tokenizer from the bytes of a `.model` file. Throws EngineError MODEL_INVALID. */
  static fromBytes(bytes: Uint8Array, source = "tokenizer model"): SentencePieceTokenizer {
    return new SentencePieceTokenizer(readModelProto(bytes, source), source);
  }

  /** Reads and builds a tokenizer from a `.model` file. Throws EngineError MODEL_MISSING / MODEL_INVALID. */
  static async load(path: string): Promise<SentencePieceTokenizer> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new EngineError(`cannot read tokenizer model ${path}: ${(err as Error).message}`, "MODEL_MISSING");
    }
    return SentencePieceTokenizer.fromBytes(bytes, path);
  }

  /** Token ids of `text`, exactly as sentencepiece's `encode(text)` (no BOS/EOS). `""` gives `[]`. */
  encode(text: string): number[] {
    return this.encodeWith(text, this.normalizerOptions);
  }

  /**
   * Token ids of a fragment that sits in the middle of a text: no dummy prefix and no whitespace clean-up
   * (leading, trailing and repeated spaces are kept, each as "▁"), so that decoding the concatenated
   * pieceBytes of the result gives `text` back. Equals sentencepiece's encode with add_dummy_prefix and
   * remove_extra_whitespaces switched off.
   */
  encodeNoDummyPrefix(text: string): number[] {
    return this.encodeWith(text, { ...this.normalizerOptions, addDummyPrefix: false, removeExtraWhitespaces: false });
  }

  /** The text sentencepiece's normaliser makes of `text` (spaces as "▁" when escaping is on). */
  normalize(text: string, options: NormalizerOptions = this.normalizerOptions): string {
    if (typeof text !== "string") throw new EngineError("text to tokenize must be a string", "BAD_INPUT");
    const input = text.replace(LONE_SURROGATE, REPLACEMENT);
    const n = input.length;
    if (n === 0) return "";
    const ws = options.escapeWhitespaces ? SPACE_SYMBOL : " ";
    let i = 0;
    if (options.removeExtraWhitespaces) {
      // A user symbol that is a single space would stop this loop in sentencepiece too.
      while (i < n && input.charCodeAt(i) === 0x20 && this.matchUser(input, i) <= 1) i++;
      if (i === n) return "";
    }
    let out = options.addDummyPrefix ? ws : "";
    let prevSpace = options.removeExtraWhitespaces;
    let runStart = i; // start of a run of plain characters copied as they are
    while (i < n) {
      const c = input.charCodeAt(i);
      const user = this.matchUser(input, i);
      if (c !== 0x20 && user === 0) {
        // An ordinary character: it ends no whitespace run.
        prevSpace = false;
        i += c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
        continue;
      }
      out += input.slice(runStart, i);
      let chunk = user > 0 ? input.slice(i, i + user) : " ";
      i += user > 0 ? user : 1;
      runStart = i;
      if (prevSpace) chunk = chunk.replace(/^ +/, "");
      if (chunk !== "") {
        out += options.escapeWhitespaces ? chunk.replaceAll(" ", SPACE_SYMBOL) : chunk;
        prevSpace = chunk.endsWith(" ");
      }
      if (!options.removeExtraWhitespaces) prevSpace = false;
    }
    out += input.slice(runStart, n);
    if (options.removeExtraWhitespaces) {
      let end = out.length;
      while (end >= ws.length && out.startsWith(ws, end - ws.length)) end -= ws.length;
      out = out.slice(0, end);
    }
    return out;
  }

  /**
   * Text of `ids`, exactly as sentencepiece's `decode(ids)`: control pieces vanish, <unk> becomes " ⁇ ",
   * runs of byte pieces are reassembled as UTF-8 (each invalid byte -> U+FFFD), "▁" becomes a space and the
   * dummy-prefix space at the start is dropped. Throws EngineError BAD_INPUT on an id out of range.
   */
  decode(ids: ArrayLike<number>): string {
    const { addDummyPrefix, removeExtraWhitespaces } = this.normalizerOptions;
    let text = "";
    let bytes: number[] = [];
    let isBosWs = true;
    let bosWsSeen = false;
    for (let k = 0; k < ids.length; k++) {
      const raw = ids[k]!;
      if (!Number.isInteger(raw) || raw < 0 || raw >= this.vocabSize) {
        throw new EngineError(`cannot decode token id ${raw}: ids are integers in 0..${this.vocabSize - 1}`, "BAD_INPUT");
      }
      const id = this.decodeIds[raw]!;
      const type = this.types[id];
      if (type === PieceType.BYTE) {
        bytes.push(this.byteValue[id]!);
        continue;
      }
      if (bytes.length > 0) {
        text += bytesToText(bytes);
        bytes = [];
      }
      if (bosWsSeen || text.length > 0) isBosWs = false;
      bosWsSeen = false;
      if (type === PieceType.CONTROL) continue;
      if (type === PieceType.UNKNOWN) {
        text += this.unkSurface;
        continue;
      }
      let piece = this.pieces[id]!;
      if (isBosWs && (addDummyPrefix || removeExtraWhitespaces) && piece.startsWith(SPACE_SYMBOL)) {
        piece = piece.slice(SPACE_SYMBOL.length);
        bosWsSeen = !removeExtraWhitespaces;
      }
      text += piece.replaceAll(SPACE_SYMBOL, " ");
    }
    if (bytes.length > 0) text += bytesToText(bytes);
    return text;
  }

  /** The id of a piece, or undefined when the vocabulary has no such piece. */
  pieceToId(piece: string): number | undefined {
    return this.reserved.get(piece) ?? this.mergeable.get(piece);
  }

  /** The piece of an id ("▁" for spaces, "<0x0A>" for byte pieces, "</s>" for control pieces). */
  idToPiece(id: number): string {
    this.checkId(id);
    return this.pieces[id]!;
  }

  pieceKind(id: number): PieceKind {
    this.checkId(id);
    return KIND_BY_TYPE[this.types[id] as PieceTypeNumber];
  }

  /** The piece's score (merge priority for BPE). */
  score(id: number): number {
    this.checkId(id);
    return this.scores[id]!;
  }

  /**
   * The UTF-8 bytes a token contributes to decoded text: "▁" -> space, a byte piece -> that byte, control and
   * <unk> pieces -> nothing, user-defined symbols (<tool_call>, <tools>) -> their own text. The dummy-prefix
   * space that decode() drops at the very start is NOT removed here. The returned array is shared: do not
   * modify it.
   */
  pieceBytes(id: number): Uint8Array {
    this.checkId(id);
    return this.bytesById[id]!;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new EngineError(`token id ${id} is out of range 0..${this.vocabSize - 1}`, "BAD_INPUT");
    }
  }

  /** sentencepiece's PieceToId: reserved pieces first, then mergeable ones, else <unk>. */
  private lookup(piece: string): number {
    return this.reserved.get(piece) ?? this.mergeable.get(piece) ?? this.unkId;
  }

  /** Length of the longest user-defined symbol at `s[i]`, or 0. */
  private matchUser(s: string, i: number): number {
    const first = s.charCodeAt(i);
    if (this.userFirst[first] === 0) return 0;
    const list = this.userSymbols.get(first);
    if (list === undefined) return 0;
    for (const sym of list) if (s.startsWith(sym, i)) return sym.length;
    return 0;
  }

  private encodeWith(text: string, options: NormalizerOptions): number[] {
    const normalized = this.normalize(text, options);
    const out: number[] = [];
    if (normalized.length > 0) this.encodeNormalized(normalized, out);
    return out;
  }

  private encodeNormalized(s: string, out: number[]): void {
    const n = s.length;
    const start = new Int32Array(n);
    const end = new Int32Array(n);
    const prev = new Int32Array(n);
    const next = new Int32Array(n);
    const ids = new Int32Array(n);
    const frozen = new Uint8Array(n);
    let count = 0;
    for (let i = 0; i < n; ) {
      const user = this.matchUser(s, i);
      let len = user;
      let id: number;
      if (user === 0) {
        const c = s.charCodeAt(i);
        len = c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1;
        id = len === 1 ? this.charIds[c]! : (this.mergeable.get(s.slice(i, i + 2)) ?? -1);
      } else {
        id = this.mergeable.get(s.slice(i, i + len)) ?? -1;
      }
      start[count] = i;
      end[count] = i + len;
      frozen[count] = user > 0 ? 1 : 0;
      ids[count] = id;
      prev[count] = count - 1;
      i += len;
      next[count] = i < n ? count + 1 : -1;
      count++;
    }

    // At most count-1 initial candidates plus two per merge (and there are at most count-1 merges).
    const agenda = new Agenda(3 * count);
    // Only UNUSED pieces need to remember what they were merged from (last candidate wins, as in sentencepiece).
    const revMerge = new Map<string, [string, string]>();
    const addCandidate = (left: number, right: number): void => {
      if (left < 0 || right < 0 || frozen[left] || frozen[right]) return;
      const l = ids[left]!;
      const r = ids[right]!;
      const merged =
        l >= 0 && r >= 0 ? this.pairs.get(l, r) : (this.mergeable.get(s.slice(start[left]!, end[right]!)) ?? -1);
      if (merged < 0) return;
      agenda.push(this.scoreRanks[merged]!, left, right, end[right]! - start[left]!, merged);
      if (this.types[merged] === PieceType.UNUSED) {
        revMerge.set(this.pieces[merged]!, [s.slice(start[left]!, end[left]!), s.slice(start[right]!, end[right]!)]);
      }
    };
    for (let k = 1; k < count; k++) addCandidate(k - 1, k);

    for (let top = agenda.pop(); top >= 0; top = agenda.pop()) {
      const left = agenda.left[top]!;
      const right = agenda.right[top]!;
      const leftLen = end[left]! - start[left]!;
      const rightLen = end[right]! - start[right]!;
      if (leftLen === 0 || rightLen === 0 || leftLen + rightLen !== agenda.size[top]) continue; // stale
      end[left] = end[right]!;
      ids[left] = agenda.id[top]!;
      next[left] = next[right]!;
      if (next[right]! >= 0) prev[next[right]!] = left;
      end[right] = start[right]!;
      addCandidate(prev[left]!, left);
      addCandidate(left, next[left]!);
    }

    let prevUnknown = false;
    const emit = (piece: string | undefined, id: number): void => {
      const unknown = this.types[id] === PieceType.UNKNOWN;
      if (unknown && this.byteFallback) {
        for (const b of utf8Of(piece ?? this.pieces[id]!)) out.push(this.byteIds[b]!);
      } else if (!(unknown && prevUnknown)) {
        out.push(id);
      }
      prevUnknown = unknown;
    };
    const resegment = (piece: string): void => {
      const id = this.lookup(piece);
      const split = this.types[id] === PieceType.UNUSED ? revMerge.get(piece) : undefined;
      if (split === undefined) return emit(piece, id);
      resegment(split[0]);
      resegment(split[1]);
    };
    for (let k = 0; k !== -1; k = next[k]!) {
      const id = ids[k]!;
      if (id >= 0 && this.types[id] !== PieceType.UNUSED && !this.shadowed[id]) emit(undefined, id);
      else resegment(s.slice(start[k]!, end[k]!));
    }
  }
}

/** Loads the tokenizer of a model directory's `tokenizer.model` (or any `.model` path). */
export function loadTokenizer(path: string): Promise<SentencePieceTokenizer> {
  return SentencePieceTokenizer.load(path);
}
