// The byte-level automaton: compiled value specs and the immutable states that walk them.
//
// A state is a GNode: the frame being matched (a string, a number, an object at some phase, ...) plus `up`,
// the continuation that runs once this frame is complete (a persistent stack: pushing a child shares the
// parent). A parent pushes a child already in its "after the child" phase, so completing the child just returns
// `up` itself. Several alternatives alive at once (anyOf, open objects: declared key or free key) form a
// MultiNode. Nodes never change after construction; `step(byte)` results are memoized on the node, so the set
// of nodes reachable during one decode is a lazily built DFA, and two threads that pop into the same parent
// become the same object (de-duplicated by reference). See README.md for the full design.

import { ByteTrie } from "./byte-trie.js";
import { prefixFeasible, textInRange, type Range } from "./decimal.js";

// ---------------------------------------------------------------------------------------------------------
// Compiled specs (immutable, shared by every decode of the same tool set)

export interface StrSpec {
  readonly kind: "string";
  readonly min: number;
  /** Infinity when unbounded */
  readonly max: number;
  /** never a span of the utterance, even when the decode has a span text (pattern, format, x-needled-span: false) */
  readonly free?: true;
}

export interface NumSpec {
  readonly kind: "number";
  readonly integer: boolean;
  readonly range: Range;
  /** bounds present: digits limited to SIG_DIGITS significant ones, no exponent, feasibility checked */
  readonly bounded: boolean;
}

export interface LitSpec {
  readonly kind: "literal";
  readonly trie: ByteTrie;
}

export interface PropSpec {
  readonly key: string;
  readonly index: number;
  readonly value: ValueSpec;
  /** bytes of `"key":` plus the value's minimum */
  readonly cost: number;
}

export interface ObjSpec {
  readonly kind: "object";
  readonly props: readonly PropSpec[];
  /** spellings of `"key":` -> prop index */
  readonly keyTrie: ByteTrie;
  /** per key-trie node: the satisfiable props reachable below it */
  readonly keyMasks: readonly Uint32Array[];
  readonly words: number;
  readonly required: Uint32Array;
  readonly requiredList: readonly number[];
  /** props whose value schema is satisfiable (the only ones offered) */
  readonly avail: Uint32Array;
  /** schema of keys not declared; null = closed object */
  readonly additional: ValueSpec | null;
  /** every declared key (also the unsatisfiable ones): never accepted as a free key */
  readonly declared: ReadonlySet<string>;
}

export interface ArrSpec {
  readonly kind: "array";
  /** element specs by index: prefix (tuple) then `rest` */
  readonly prefix: readonly ValueSpec[];
  /** spec of elements after the prefix; null = none allowed */
  readonly rest: ValueSpec | null;
  readonly min: number;
  /** effective maximum (Infinity when unbounded) */
  readonly max: number;
}

export type Branch = StrSpec | NumSpec | LitSpec | ObjSpec | ArrSpec;

export interface ValueSpec {
  readonly branches: readonly Branch[];
  /** the bytes a value may start with, ascending */
  readonly firstBytes: readonly number[];
  /** byFirst[i]: the branches that may start with firstBytes[i] (two short arrays: a 256-slot table per spec
   * weighed 2 KB, and a tool set has hundreds of specs) */
  readonly byFirst: readonly (readonly Branch[])[];
  /** lower bound of the bytes of any value of this spec (filled after construction for recursive specs) */
  minBytes: number;
  readonly sat: boolean;
}

export interface RootSpec {
  /** spellings of `{"name":"<tool>","arguments":` -> tool index */
  readonly callTrie: ByteTrie;
  readonly args: readonly ValueSpec[];
  /** the tools' names, by index (for subsets: compile.ts subsetRoot) */
  readonly names: readonly string[];
  readonly maxCalls: number;
  readonly leadingSpace: boolean;
  readonly minCallBytes: number;
  /** When set, every string value is a span of this text (per decode: ToolGrammar.startState). */
  readonly span?: SpanSource;
}

// ---------------------------------------------------------------------------------------------------------
// byte sets as plain arrays: candidate bytes that a state may accept next

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const SPACE = 0x20;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const DIGITS = [0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39];
const HEX: number[] = [...DIGITS, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66];
const ESCAPABLE = [QUOTE, BACKSLASH, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74, 0x75];

function hexVal(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** Upper bound on simultaneous alternatives; dropping extra ones only narrows the language (stays sound). */
export const MAX_THREADS = 32;

// ---------------------------------------------------------------------------------------------------------
// nodes

export abstract class GNode {
  private memo: Map<number, GNode | null> | undefined;
  private minRem = -1;

  constructor(readonly up: GNode | null) {}

  /** The state after one more byte, or null when the byte is not allowed. */
  step(b: number): GNode | null {
    let m = this.memo;
    if (m === undefined) m = this.memo = new Map();
    else {
      const r = m.get(b);
      if (r !== undefined) return r;
    }
    const r = this.compute(b);
    m.set(b, r);
    return r;
  }

  protected abstract compute(b: number): GNode | null;

  /** A superset of the bytes this state may accept next, or null for "many" (not worth listing). */
  abstract candidates(): number[] | null;

  /** Lower bound on the bytes that complete this frame (not counting `up`). */
  protected abstract ownMin(): number;

  /** The whole answer is complete (eos allowed). */
  isFinal(): boolean {
    return false;
  }

  /** The input may stop here: used only to test literal values against a spec (EndNode as `up`). */
  endsHere(): boolean {
    return false;
  }

  /** Lower bound on the bytes from this state to the end of the answer. */
  minRemaining(): number {
    if (this.minRem < 0) this.minRem = this.ownMin() + (this.up ? this.up.minRemaining() : 0);
    return this.minRem;
  }

  /** The alternatives this state stands for (itself unless it is a MultiNode). */
  threads(): readonly GNode[] {
    return [this];
  }
}

export class MultiNode extends GNode {
  constructor(readonly alts: readonly GNode[]) {
    super(null);
  }
  protected compute(b: number): GNode | null {
    return union(this.alts.map((a) => a.step(b)));
  }
  candidates(): number[] | null {
    const out = new Set<number>();
    for (const a of this.alts) {
      const c = a.candidates();
      if (c === null) return null;
      for (const x of c) out.add(x);
    }
    return [...out];
  }
  protected ownMin(): number {
    return 0;
  }
  override minRemaining(): number {
    let m = Infinity;
    for (const a of this.alts) m = Math.min(m, a.minRemaining());
    return m;
  }
  override isFinal(): boolean {
    return this.alts.some((a) => a.isFinal());
  }
  override endsHere(): boolean {
    return this.alts.some((a) => a.endsHere());
  }
  override threads(): readonly GNode[] {
    return this.alts;
  }
}

/** Merges alternative successor states (nulls dropped, MultiNodes flattened, duplicates removed by identity). */
export function union(items: ReadonlyArray<GNode | null>): GNode | null {
  let single: GNode | null = null;
  let list: GNode[] | null = null;
  for (const it of items) {
    if (it === null) continue;
    for (const t of it.threads()) {
      if (single === null) single = t;
      else if (t !== single) {
        if (list === null) list = [single];
        if (!list.includes(t) && list.length < MAX_THREADS) list.push(t);
      }
    }
  }
  if (list !== null && list.length > 1) return new MultiNode(list);
  return single;
}

/** A node that accepts nothing more and may stop: the `up` of a literal being checked against a spec. */
export class EndNode extends GNode {
  constructor() {
    super(null);
  }
  protected compute(): GNode | null {
    return null;
  }
  candidates(): number[] {
    return [];
  }
  protected ownMin(): number {
    return 0;
  }
  override endsHere(): boolean {
    return true;
  }
}

/** Expects exactly these bytes, then continues with `up`. */
export class LitSeqNode extends GNode {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly pos: number,
    up: GNode,
  ) {
    super(up);
  }
  protected compute(b: number): GNode | null {
    if (b !== this.bytes[this.pos]) return null;
    return this.pos + 1 === this.bytes.length ? this.up : new LitSeqNode(this.bytes, this.pos + 1, this.up!);
  }
  candidates(): number[] {
    return [this.bytes[this.pos]!];
  }
  protected ownMin(): number {
    return this.bytes.length - this.pos;
  }
}

// ---- the answer: [ call, ... ] ---------------------------------------------------------------------------

const enum RootPhase {
  Start,
  StartNoSpace,
  ListOpen,
  AfterCall,
  NeedCall,
  Done,
}

const CLOSE_BRACE = new Uint8Array([RBRACE]);

export class RootNode extends GNode {
  constructor(
    readonly spec: RootSpec,
    private readonly phase: RootPhase,
    private readonly calls: number,
  ) {
    super(null);
  }

  static start(spec: RootSpec): RootNode {
    return new RootNode(spec, RootPhase.Start, 0);
  }

  private callStart(b: number): GNode | null {
    if (this.calls >= this.spec.maxCalls) return null;
    const after = new RootNode(this.spec, RootPhase.AfterCall, this.calls + 1);
    return new CallTrieNode(this.spec, ByteTrie.ROOT, after).step(b);
  }

  protected compute(b: number): GNode | null {
    switch (this.phase) {
      case RootPhase.Start:
        if (b === SPACE && this.spec.leadingSpace) return new RootNode(this.spec, RootPhase.StartNoSpace, 0);
      // falls through
      case RootPhase.StartNoSpace:
        return b === LBRACKET ? new RootNode(this.spec, RootPhase.ListOpen, 0) : null;
      case RootPhase.ListOpen:
        if (b === RBRACKET) return new RootNode(this.spec, RootPhase.Done, 0);
        return this.callStart(b);
      case RootPhase.AfterCall:
        if (b === RBRACKET) return new RootNode(this.spec, RootPhase.Done, this.calls);
        if (b === COMMA && this.calls < this.spec.maxCalls) {
          return new RootNode(this.spec, RootPhase.NeedCall, this.calls);
        }
        return null;
      case RootPhase.NeedCall:
        return this.callStart(b);
      case RootPhase.Done:
        return null;
    }
  }

  candidates(): number[] {
    switch (this.phase) {
      case RootPhase.Start:
        return [SPACE, LBRACKET];
      case RootPhase.StartNoSpace:
        return [LBRACKET];
      case RootPhase.ListOpen:
        return [RBRACKET, LBRACE];
      case RootPhase.AfterCall:
        return [RBRACKET, COMMA];
      case RootPhase.NeedCall:
        return [LBRACE];
      case RootPhase.Done:
        return [];
    }
  }

  protected ownMin(): number {
    switch (this.phase) {
      case RootPhase.Start:
      case RootPhase.StartNoSpace:
        return 2;
      case RootPhase.ListOpen:
      case RootPhase.AfterCall:
        return 1;
      case RootPhase.NeedCall:
        return this.spec.minCallBytes + 1;
      case RootPhase.Done:
        return 0;
    }
  }

  override isFinal(): boolean {
    return this.phase === RootPhase.Done;
  }
}

/** Inside `{"name":"<tool>","arguments":` (one trie over all tools). */
class CallTrieNode extends GNode {
  constructor(
    private readonly spec: RootSpec,
    private readonly node: number,
    private readonly after: GNode,
  ) {
    super(null);
  }
  protected compute(b: number): GNode | null {
    const trie = this.spec.callTrie;
    const c = trie.child(this.node, b);
    if (c < 0) return null;
    if (trie.terminal(c)) {
      const args = this.spec.args[trie.payloadOf(c)]!;
      return new ValueNode(args, new LitSeqNode(CLOSE_BRACE, 0, this.after));
    }
    return new CallTrieNode(this.spec, c, this.after);
  }
  candidates(): number[] {
    return this.spec.callTrie.childBytes(this.node);
  }
  protected ownMin(): number {
    return this.spec.callTrie.minDepth[this.node]! + 1;
  }
  override minRemaining(): number {
    return this.ownMin() + this.after.minRemaining();
  }
}

// ---- values -----------------------------------------------------------------------------------------------

/** Before the first byte of a value of `spec`. */
export class ValueNode extends GNode {
  constructor(
    readonly spec: ValueSpec,
    up: GNode,
  ) {
    super(up);
  }
  protected compute(b: number): GNode | null {
    const i = this.spec.firstBytes.indexOf(b);
    if (i < 0) return null;
    const branches = this.spec.byFirst[i]!;
    if (branches.length === 1) return startBranch(branches[0]!, b, this.up!);
    return union(branches.map((br) => startBranch(br, b, this.up!)));
  }
  candidates(): number[] {
    return this.spec.firstBytes as number[];
  }
  protected ownMin(): number {
    return this.spec.minBytes;
  }
}

function startBranch(br: Branch, b: number, up: GNode): GNode | null {
  switch (br.kind) {
    case "string": {
      if (b !== QUOTE) return null;
      const src = spanSourceOf(up);
      return src && !br.free ? new SpanStrNode(br, src, null, 0, up) : new StrNode(br, 0, StrMode.Clean, 0, null, up);
    }
    case "number":
      return new NumNode(br, NumPhase.Start, false, "", null, 0, up).step(b);
    case "literal":
      return new LitNode(br.trie, ByteTrie.ROOT, up).step(b);
    case "object":
      return b === LBRACE ? new ObjNode(br, ObjPhase.Open, new Uint32Array(br.words), [], up) : null;
    case "array":
      return b === LBRACKET ? new ArrNode(br, ArrPhase.Open, 0, up) : null;
  }
}

/** Inside a literal (enum/const value, true/false/null). */
class LitNode extends GNode {
  constructor(
    private readonly trie: ByteTrie,
    private readonly node: number,
    up: GNode,
  ) {
    super(up);
  }
  protected compute(b: number): GNode | null {
    const c = this.trie.child(this.node, b);
    let next: GNode | null = null;
    if (c >= 0) {
      // a complete literal that no other literal extends is done at once (no lookahead needed)
      next = this.trie.terminal(c) && !this.trie.hasChildren(c) ? this.up : new LitNode(this.trie, c, this.up!);
    }
    if (this.trie.terminal(this.node)) {
      // a number literal ends when the next byte is not part of it
      const popped = this.up!.step(b);
      if (popped) return next ? union([next, popped]) : popped;
    }
    return next;
  }
  candidates(): number[] | null {
    const own = this.trie.childBytes(this.node);
    if (!this.trie.terminal(this.node)) return own;
    const up = this.up!.candidates();
    return up === null ? null : [...own, ...up];
  }
  protected ownMin(): number {
    return this.trie.minDepth[this.node]!;
  }
  override endsHere(): boolean {
    return this.trie.terminal(this.node) && this.up!.endsHere();
  }
}

// ---- strings ----------------------------------------------------------------------------------------------

/** Letters, digits and combining marks: the characters a word is made of. */
const WORD_CHAR = /[\p{L}\p{N}\p{M}]/u;
/** Scripts written without spaces between words: each character counts as a word of its own. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

/**
 * The text that string values are copied from, under the Needle value convention ("a value is what the user
 * said: a span of the utterance"). `bytes` is its UTF-8 with ASCII letters lower-cased, so a value matches its
 * span whatever the case it is written in. A value is a run of whole words: it starts at a non-space character
 * where a word (or a character outside words) starts and ends where one ends, never inside a word ("Overhead
 * Light" gives "overhead", "light", "overhead light" but not "verhead" or "GH"; in scripts written without
 * spaces, such as Chinese or Thai, any run of characters).
 */
export class SpanSource {
  readonly bytes: Uint8Array;
  /** positions where a value may start */
  readonly starts: Int32Array;
  /** endOk[p] = 1: a value may end just before byte p (p = bytes.length: at the end of the text) */
  private readonly endOk: Uint8Array;

  constructor(text: string) {
    const raw = Buffer.from(text, "utf8");
    const n = raw.length;
    this.bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) this.bytes[i] = lowerAscii(raw[i]!);
    const word = new Uint8Array(n); // 1: byte i belongs to a word character
    const charStart = new Uint8Array(n + 1);
    let at = 0;
    for (const ch of text) {
      const len = Buffer.byteLength(ch, "utf8");
      charStart[at] = 1;
      if (WORD_CHAR.test(ch) && !UNSPACED.test(ch)) word.fill(1, at, at + len);
      at += len;
    }
    charStart[n] = 1;
    const inWord = (p: number) => p > 0 && p < n && word[p - 1] === 1 && word[p] === 1;
    const starts: number[] = [];
    this.endOk = new Uint8Array(n + 1);
    for (let p = 0; p <= n; p++) {
      if (!charStart[p] || inWord(p)) continue;
      this.endOk[p] = 1;
      const b = raw[p];
      if (b !== undefined && b !== SPACE && b >= 0x20) starts.push(p);
    }
    this.starts = Int32Array.from(starts);
  }

  /** A value may end just before byte `p`. */
  canEndAt(p: number): boolean {
    return this.endOk[p] === 1;
  }
}

function lowerAscii(b: number): number {
  return b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
}

/** The span source of the decode that `up` belongs to: its root's, found at the bottom of the stack. */
function spanSourceOf(up: GNode): SpanSource | undefined {
  let n: GNode = up;
  while (n.up !== null) n = n.up;
  return n instanceof RootNode ? n.spec.span : undefined;
}

/**
 * Inside a JSON string whose value must be a span of the SpanSource (case-insensitive, whole words: see
 * SpanSource). `ends` are the positions in the source just after each occurrence of the value so far (null
 * before its first byte: any start). No escapes (a span with a quote, backslash or control character cannot be
 * written), no empty value, and the quote closes the value only where a word ends (so after a whole
 * character); minLength/maxLength count characters as ajv does.
 */
export class SpanStrNode extends GNode {
  constructor(
    readonly spec: StrSpec,
    private readonly src: SpanSource,
    private readonly ends: Int32Array | null,
    private readonly count: number,
    up: GNode,
  ) {
    super(up);
  }

  private canClose(): boolean {
    if (this.ends === null || this.count < Math.max(1, this.spec.min)) return false;
    for (const p of this.ends) if (this.src.canEndAt(p)) return true;
    return false;
  }

  protected compute(b: number): GNode | null {
    if (b === QUOTE) return this.canClose() ? this.up : null;
    if (b < 0x20 || b === BACKSLASH) return null;
    const newChar = (b & 0xc0) !== 0x80;
    if (newChar && this.count >= this.spec.max) return null;
    const want = lowerAscii(b);
    const bytes = this.src.bytes;
    const from = this.ends ?? this.src.starts;
    const next: number[] = [];
    for (let i = 0; i < from.length; i++) {
      const p = from[i]!;
      if (p < bytes.length && bytes[p] === want) next.push(p + 1);
    }
    if (next.length === 0) return null;
    return new SpanStrNode(this.spec, this.src, Int32Array.from(next), this.count + (newChar ? 1 : 0), this.up!);
  }

  candidates(): number[] | null {
    if (this.ends === null) return null;
    const out = new Set<number>();
    for (const p of this.ends) {
      if (p >= this.src.bytes.length) continue;
      const b = this.src.bytes[p]!;
      out.add(b);
      if (b >= 0x61 && b <= 0x7a) out.add(b - 0x20);
    }
    if (this.canClose()) out.add(QUOTE);
    return [...out];
  }

  protected ownMin(): number {
    return 1 + Math.max(1, this.spec.min) - Math.min(this.count, Math.max(1, this.spec.min));
  }
}

export const enum StrMode {
  Clean,
  /** aux: remaining continuation bytes | lo << 8 | hi << 16 */
  Utf8,
  /** after a backslash */
  Esc,
  /** aux: digits so far | value << 3 */
  Hex,
  /** after a high-surrogate escape: expect `\` */
  LowBackslash,
  /** expect `u` */
  LowU,
  /** aux: digits so far | value << 3 */
  LowHex,
}

/**
 * Lead byte -> continuation count | first continuation byte's low bound << 8 | its high bound << 16, per
 * RFC 3629 (no overlongs, no surrogates, nothing above U+10FFFF); 0 when `b` cannot start a multi-byte character.
 */
export function utf8Lead(b: number): number {
  if (b >= 0xc2 && b <= 0xdf) return 1 | (0x80 << 8) | (0xbf << 16);
  if (b === 0xe0) return 2 | (0xa0 << 8) | (0xbf << 16);
  if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) return 2 | (0x80 << 8) | (0xbf << 16);
  if (b === 0xed) return 2 | (0x80 << 8) | (0x9f << 16);
  if (b === 0xf0) return 3 | (0x90 << 8) | (0xbf << 16);
  if (b >= 0xf1 && b <= 0xf3) return 3 | (0x80 << 8) | (0xbf << 16);
  if (b === 0xf4) return 3 | (0x80 << 8) | (0x8f << 16);
  return 0;
}

const FREE_STRING: StrSpec = { kind: "string", min: 0, max: Infinity };

/**
 * Inside a JSON string. `count` is the number of characters (code points) so far, clamped where it no longer
 * matters so that an unconstrained string stays one node. `back` is the clean node to return to once the
 * multi-byte character or escape in progress is complete.
 */
export class StrNode extends GNode {
  private nextCleanNode: StrNode | undefined;

  constructor(
    readonly spec: StrSpec,
    readonly count: number,
    readonly mode: StrMode,
    private readonly aux: number,
    private readonly back: StrNode | null,
    up: GNode | null,
  ) {
    super(up);
  }

  /** Free and clean: any plain character keeps the state as it is. */
  get isFreeClean(): boolean {
    return this.mode === StrMode.Clean && this.spec.max === Infinity && this.count >= this.spec.min;
  }

  /** Clean state after one more character (or this state, when counting no longer matters). */
  nextClean(): StrNode {
    let n = this.nextCleanNode;
    if (n === undefined) {
      const c = this.spec.max === Infinity ? Math.min(this.count + 1, this.spec.min) : this.count + 1;
      n = c === this.count ? this : new StrNode(this.spec, c, StrMode.Clean, 0, null, this.up);
      this.nextCleanNode = n;
    }
    return n;
  }

  /** Clean state after `n` more characters, or null when that passes maxLength. */
  afterChars(n: number): StrNode | null {
    const c = this.count + n;
    if (c > this.spec.max) return null;
    if (this.spec.max === Infinity && this.count >= this.spec.min) return this;
    const cc = this.spec.max === Infinity ? Math.min(c, this.spec.min) : c;
    return new StrNode(this.spec, cc, StrMode.Clean, 0, null, this.up);
  }

  /** What the closing quote leads to. */
  protected close(): GNode | null {
    return this.up;
  }

  protected compute(b: number): GNode | null {
    const spec = this.spec;
    switch (this.mode) {
      case StrMode.Clean: {
        if (b === QUOTE) return this.count >= spec.min ? this.close() : null;
        if (b < 0x20) return null;
        if (this.count >= spec.max) return null;
        if (b === BACKSLASH) return new StrNode(spec, 0, StrMode.Esc, 0, this.nextClean(), this.up);
        if (b < 0x80) return this.nextClean();
        const lead = utf8Lead(b);
        if (lead === 0) return null;
        return new StrNode(spec, 0, StrMode.Utf8, lead, this.nextClean(), this.up);
      }
      case StrMode.Utf8: {
        const left = this.aux & 0xff;
        if (b < ((this.aux >>> 8) & 0xff) || b > (this.aux >>> 16)) return null;
        if (left === 1) return this.back;
        return new StrNode(spec, 0, StrMode.Utf8, (left - 1) | (0x80 << 8) | (0xbf << 16), this.back, this.up);
      }
      case StrMode.Esc:
        if (b === 0x75) return new StrNode(spec, 0, StrMode.Hex, 0, this.back, this.up);
        return ESCAPABLE.includes(b) ? this.back : null;
      case StrMode.Hex: {
        const d = hexVal(b);
        if (d < 0) return null;
        const n = (this.aux & 7) + 1;
        const v = (this.aux >>> 3) * 16 + d;
        if (n === 2 && v >= 0xdc && v <= 0xdf) return null; // a lone low surrogate
        if (n === 4) {
          if (v >= 0xd800 && v <= 0xdbff) return new StrNode(spec, 0, StrMode.LowBackslash, 0, this.back, this.up);
          return this.back;
        }
        return new StrNode(spec, 0, StrMode.Hex, n | (v << 3), this.back, this.up);
      }
      case StrMode.LowBackslash:
        return b === BACKSLASH ? new StrNode(spec, 0, StrMode.LowU, 0, this.back, this.up) : null;
      case StrMode.LowU:
        return b === 0x75 ? new StrNode(spec, 0, StrMode.LowHex, 0, this.back, this.up) : null;
      case StrMode.LowHex: {
        const d = hexVal(b);
        if (d < 0) return null;
        const n = (this.aux & 7) + 1;
        const v = (this.aux >>> 3) * 16 + d;
        if (n === 1 && v !== 0xd) return null;
        if (n === 2 && (v < 0xdc || v > 0xdf)) return null;
        if (n === 4) return this.back;
        return new StrNode(spec, 0, StrMode.LowHex, n | (v << 3), this.back, this.up);
      }
    }
  }

  candidates(): number[] | null {
    switch (this.mode) {
      case StrMode.Clean:
        return this.count >= this.spec.max ? [QUOTE] : null;
      case StrMode.Utf8:
        return null;
      case StrMode.Esc:
        return ESCAPABLE;
      case StrMode.Hex:
      case StrMode.LowHex:
        return HEX;
      case StrMode.LowBackslash:
        return [BACKSLASH];
      case StrMode.LowU:
        return [0x75];
    }
  }

  protected ownMin(): number {
    if (this.mode === StrMode.Clean) return 1 + Math.max(0, this.spec.min - this.count);
    return 1 + this.back!.ownMin();
  }
}

/** A key of an open object that is not one of the declared keys: a free string collected byte by byte. */
class FreeKeyNode extends GNode {
  constructor(
    private readonly inner: StrNode,
    private readonly raw: number[],
    private readonly obj: ObjNode,
  ) {
    super(null);
  }
  protected compute(b: number): GNode | null {
    if (b === QUOTE && this.inner.mode === StrMode.Clean) {
      const key = JSON.parse('"' + Buffer.from(this.raw).toString("utf8") + '"') as string;
      if (this.obj.spec.declared.has(key) || this.obj.free.includes(key)) return null;
      return new ColonNode(this.obj, key);
    }
    const inner = this.inner.step(b);
    return inner === null ? null : new FreeKeyNode(inner as StrNode, [...this.raw, b], this.obj);
  }
  candidates(): number[] | null {
    return this.inner.candidates();
  }
  protected ownMin(): number {
    return 3 + this.obj.spec.additional!.minBytes + this.obj.closingCost(this.obj.seen);
  }
  override minRemaining(): number {
    return this.ownMin() + (this.obj.up ? this.obj.up.minRemaining() : 0);
  }
}

class ColonNode extends GNode {
  constructor(
    private readonly obj: ObjNode,
    private readonly key: string,
  ) {
    super(null);
  }
  protected compute(b: number): GNode | null {
    if (b !== COLON) return null;
    const after = new ObjNode(this.obj.spec, ObjPhase.AfterValue, this.obj.seen, [...this.obj.free, this.key], this.obj.up);
    return new ValueNode(this.obj.spec.additional!, after);
  }
  candidates(): number[] {
    return [COLON];
  }
  protected ownMin(): number {
    return 1 + this.obj.spec.additional!.minBytes + this.obj.closingCost(this.obj.seen);
  }
  override minRemaining(): number {
    return this.ownMin() + (this.obj.up ? this.obj.up.minRemaining() : 0);
  }
}

// ---- numbers ----------------------------------------------------------------------------------------------

export const enum NumPhase {
  Start,
  Minus,
  Int0,
  Int,
  Dot,
  Frac,
  Exp,
  ExpSign,
  ExpDig,
}

/** Digits of an unbounded number's integer or fraction part, and of its exponent. */
const MAX_FREE_DIGITS = 100;
const MAX_EXP_DIGITS = 2;

export class NumNode extends GNode {
  constructor(
    readonly spec: NumSpec,
    private readonly phase: NumPhase,
    private readonly neg: boolean,
    private readonly int: string,
    private readonly frac: string | null,
    private readonly expDigits: number,
    up: GNode,
  ) {
    super(up);
  }

  private with(phase: NumPhase, int: string, frac: string | null, expDigits = 0): NumNode | null {
    const spec = this.spec;
    if (spec.bounded) {
      if (!prefixFeasible({ neg: this.neg, int, frac }, spec.range, spec.integer)) return null;
    } else if (int.length > MAX_FREE_DIGITS || (frac !== null && frac.length > MAX_FREE_DIGITS)) {
      return null;
    } else if (this.neg && spec.integer && int === "0") {
      return null; // "-0" could only end as negative zero
    }
    return new NumNode(spec, phase, this.neg, int, frac, expDigits, this.up!);
  }

  /** "-0", "-0.00": negative zero is never written (it would be a dead end before an exponent, too). */
  private negZero(): boolean {
    return this.neg && /^0*$/.test(this.int + (this.frac ?? ""));
  }

  /** The number text so far is complete and in range. */
  canEnd(): boolean {
    if (this.negZero()) return false;
    switch (this.phase) {
      case NumPhase.Int0:
      case NumPhase.Int:
      case NumPhase.Frac:
        return !this.spec.bounded || textInRange(this.text(), this.spec.range);
      case NumPhase.ExpDig:
        return true;
      default:
        return false;
    }
  }

  private text(): string {
    return (this.neg ? "-" : "") + this.int + (this.frac === null ? "" : "." + this.frac);
  }

  protected compute(b: number): GNode | null {
    const isDigit = b >= 0x30 && b <= 0x39;
    const d = String.fromCharCode(b);
    const spec = this.spec;
    const expOk = !spec.bounded && !spec.integer;
    switch (this.phase) {
      case NumPhase.Start:
        if (b === MINUS) {
          if (spec.bounded && !prefixFeasible({ neg: true, int: "", frac: null }, spec.range, spec.integer)) {
            return null;
          }
          return new NumNode(spec, NumPhase.Minus, true, "", null, 0, this.up!);
        }
      // falls through
      case NumPhase.Minus:
        if (!isDigit) return null;
        return this.with(b === 0x30 ? NumPhase.Int0 : NumPhase.Int, d, null);
      case NumPhase.Int0:
      case NumPhase.Int:
      case NumPhase.Frac: {
        if (isDigit && this.phase !== NumPhase.Int0) {
          return this.phase === NumPhase.Int
            ? this.with(NumPhase.Int, this.int + d, null)
            : this.with(NumPhase.Frac, this.int, this.frac + d);
        }
        if (b === DOT && this.phase !== NumPhase.Frac && !spec.integer) return this.with(NumPhase.Dot, this.int, "");
        if ((b === 0x65 || b === 0x45) && expOk && !this.negZero()) return this.with(NumPhase.Exp, this.int, this.frac);
        return this.canEnd() ? this.up!.step(b) : null;
      }
      case NumPhase.Dot:
        return isDigit ? this.with(NumPhase.Frac, this.int, d) : null;
      case NumPhase.Exp:
        if (b === PLUS || b === MINUS) return this.with(NumPhase.ExpSign, this.int, this.frac);
      // falls through
      case NumPhase.ExpSign:
        return isDigit ? this.with(NumPhase.ExpDig, this.int, this.frac, 1) : null;
      case NumPhase.ExpDig:
        if (isDigit && this.expDigits < MAX_EXP_DIGITS) {
          return this.with(NumPhase.ExpDig, this.int, this.frac, this.expDigits + 1);
        }
        return this.up!.step(b);
    }
  }

  candidates(): number[] | null {
    const own = [...DIGITS, MINUS, PLUS, DOT, 0x65, 0x45];
    if (!this.canEnd()) return own;
    const up = this.up!.candidates();
    return up === null ? null : [...own, ...up];
  }

  protected ownMin(): number {
    return this.canEnd() ? 0 : 1;
  }

  override endsHere(): boolean {
    return this.canEnd() && this.up!.endsHere();
  }
}

// ---- objects ----------------------------------------------------------------------------------------------

export const enum ObjPhase {
  /** after `{`: a key or `}` */
  Open,
  /** after a value: `,` or `}` */
  AfterValue,
  /** after `,`: a key */
  AfterComma,
}

function hasBit(mask: Uint32Array, i: number): boolean {
  return (mask[i >>> 5]! & (1 << (i & 31))) !== 0;
}

function withBit(mask: Uint32Array, i: number): Uint32Array {
  const m = mask.slice();
  m[i >>> 5]! |= 1 << (i & 31);
  return m;
}

/** Some bit of `mask` is not in `seen`. */
function anyUnseen(mask: Uint32Array, seen: Uint32Array): boolean {
  for (let w = 0; w < mask.length; w++) if ((mask[w]! & ~seen[w]!) !== 0) return true;
  return false;
}

export class ObjNode extends GNode {
  constructor(
    readonly spec: ObjSpec,
    private readonly phase: ObjPhase,
    readonly seen: Uint32Array,
    /** free (undeclared) keys used so far */
    readonly free: readonly string[],
    up: GNode | null,
  ) {
    super(up);
  }

  private requiredDone(): boolean {
    return !anyUnseen(this.spec.required, this.seen);
  }

  private canAddKey(): boolean {
    return this.spec.additional !== null || anyUnseen(this.spec.avail, this.seen);
  }

  private keyStart(): GNode | null {
    const alts: GNode[] = [];
    if (anyUnseen(this.spec.avail, this.seen)) {
      const k = new KeyTrieNode(this, ByteTrie.ROOT).step(QUOTE);
      if (k) alts.push(k);
    }
    if (this.spec.additional !== null) {
      alts.push(new FreeKeyNode(new StrNode(FREE_STRING, 0, StrMode.Clean, 0, null, null), [], this));
    }
    return union(alts);
  }

  protected compute(b: number): GNode | null {
    switch (this.phase) {
      case ObjPhase.Open:
        if (b === RBRACE) return this.requiredDone() ? this.up : null;
        return b === QUOTE ? this.keyStart() : null;
      case ObjPhase.AfterValue:
        if (b === RBRACE) return this.requiredDone() ? this.up : null;
        if (b === COMMA && this.canAddKey()) {
          return new ObjNode(this.spec, ObjPhase.AfterComma, this.seen, this.free, this.up);
        }
        return null;
      case ObjPhase.AfterComma:
        return b === QUOTE ? this.keyStart() : null;
    }
  }

  candidates(): number[] {
    switch (this.phase) {
      case ObjPhase.Open:
        return [QUOTE, RBRACE];
      case ObjPhase.AfterValue:
        return [COMMA, RBRACE];
      case ObjPhase.AfterComma:
        return [QUOTE];
    }
  }

  /** Bytes still needed to close the object from after a value, given the keys seen. */
  closingCost(seen: Uint32Array): number {
    let c = 1;
    for (const i of this.spec.requiredList) if (!hasBit(seen, i)) c += 1 + this.spec.props[i]!.cost;
    return c;
  }

  protected ownMin(): number {
    const close = this.closingCost(this.seen);
    if (this.phase === ObjPhase.AfterValue) return close;
    // Open / AfterComma: no comma before the first remaining key
    if (close > 1) return close - 1;
    return this.phase === ObjPhase.Open ? 1 : 4;
  }
}

/** Inside a declared key `"key":` (one trie over the declared keys, filtered by the keys already seen). */
class KeyTrieNode extends GNode {
  constructor(
    private readonly obj: ObjNode,
    private readonly node: number,
  ) {
    super(null);
  }
  protected compute(b: number): GNode | null {
    const spec = this.obj.spec;
    const c = spec.keyTrie.child(this.node, b);
    if (c < 0 || !anyUnseen(spec.keyMasks[c]!, this.obj.seen)) return null;
    if (spec.keyTrie.terminal(c)) {
      const i = spec.keyTrie.payloadOf(c);
      const after = new ObjNode(spec, ObjPhase.AfterValue, withBit(this.obj.seen, i), this.obj.free, this.obj.up);
      return new ValueNode(spec.props[i]!.value, after);
    }
    return new KeyTrieNode(this.obj, c);
  }
  candidates(): number[] {
    return this.obj.spec.keyTrie.childBytes(this.node);
  }
  protected ownMin(): number {
    return this.obj.spec.keyTrie.minDepth[this.node]! + 1 + Math.max(1, this.obj.closingCost(this.obj.seen) - 1);
  }
  override minRemaining(): number {
    return this.ownMin() + (this.obj.up ? this.obj.up.minRemaining() : 0);
  }
}

// ---- arrays -----------------------------------------------------------------------------------------------

export const enum ArrPhase {
  Open,
  AfterElem,
  AfterComma,
}

export function elemSpec(spec: ArrSpec, i: number): ValueSpec | null {
  return i < spec.prefix.length ? spec.prefix[i]! : spec.rest;
}

export class ArrNode extends GNode {
  constructor(
    readonly spec: ArrSpec,
    private readonly phase: ArrPhase,
    /** elements so far, clamped once the exact count no longer matters */
    private readonly n: number,
    up: GNode,
  ) {
    super(up);
  }

  private elemStart(b: number): GNode | null {
    if (this.n >= this.spec.max) return null;
    const es = elemSpec(this.spec, this.n)!;
    const spec = this.spec;
    let n1 = this.n + 1;
    if (spec.max === Infinity) n1 = Math.min(n1, Math.max(spec.min, spec.prefix.length));
    return new ValueNode(es, new ArrNode(spec, ArrPhase.AfterElem, n1, this.up!)).step(b);
  }

  protected compute(b: number): GNode | null {
    switch (this.phase) {
      case ArrPhase.Open:
        if (b === RBRACKET) return this.spec.min === 0 ? this.up : null;
        return this.elemStart(b);
      case ArrPhase.AfterElem:
        if (b === RBRACKET) return this.n >= this.spec.min ? this.up : null;
        if (b === COMMA && this.n < this.spec.max) return new ArrNode(this.spec, ArrPhase.AfterComma, this.n, this.up!);
        return null;
      case ArrPhase.AfterComma:
        return this.elemStart(b);
    }
  }

  candidates(): number[] {
    switch (this.phase) {
      case ArrPhase.Open: {
        const first = this.spec.max > 0 ? (elemSpec(this.spec, 0)!.firstBytes as number[]) : [];
        return [RBRACKET, ...first];
      }
      case ArrPhase.AfterElem:
        return [RBRACKET, COMMA];
      case ArrPhase.AfterComma:
        return elemSpec(this.spec, this.n)!.firstBytes as number[];
    }
  }

  protected ownMin(): number {
    // 1 for `]`, plus the elements still required (at least one byte each, plus commas)
    let need = Math.max(0, this.spec.min - this.n);
    if (this.phase === ArrPhase.AfterComma) need = Math.max(need, 1);
    let c = 1;
    for (let i = 0; i < need; i++) {
      const es = elemSpec(this.spec, this.n + i);
      c += (es ? es.minBytes : 1) + (i === 0 && this.phase !== ArrPhase.AfterElem ? 0 : 1);
    }
    return c;
  }
}
