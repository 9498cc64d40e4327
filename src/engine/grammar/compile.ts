// JSON Schema -> compiled value specs (automaton.ts). Keywords honoured and limits: README.md.
//
// A schema is first normalised shallowly (draft-4 boolean exclusive bounds, prefixItems, nullable), allOf is
// merged into one schema, anyOf/oneOf become alternatives (each merged with the keywords beside them), and a
// plain schema becomes one branch per JSON type it allows. Unsatisfiable parts are dropped where that is
// allowed (an optional property, an alternative, an array length) and reported where not (a tool whose
// arguments admit no value).

import { EngineError } from "../types.js";
import {
  type ArrSpec,
  type Branch,
  EndNode,
  type LitSpec,
  type NumSpec,
  type ObjSpec,
  type PropSpec,
  type RootSpec,
  type StrSpec,
  ValueNode,
  type ValueSpec,
} from "./automaton.js";
import { ByteTrie } from "./byte-trie.js";
import { decFromNumber, decCmp, FULL_RANGE, isBounded, prefixFeasible, type Range, rangeFeasible } from "./decimal.js";

export interface ToolSchema {
  /** the name as the model writes it (snake_case) */
  name: string;
  /** JSON Schema of the arguments object; undefined = no arguments */
  schema?: unknown;
}

export interface CompileLimits {
  /** nesting of schemas (properties, items, alternatives) */
  maxDepth: number;
  /** compiled value specs in one tool set */
  maxSpecs: number;
  /** bytes of literal spellings (enum values, keys, tool names) in one tool set */
  maxLiteralBytes: number;
  /** alternatives of one anyOf/oneOf after expansion */
  maxAlternatives: number;
}

export const DEFAULT_LIMITS: CompileLimits = {
  maxDepth: 32,
  maxSpecs: 50_000,
  maxLiteralBytes: 4 << 20,
  maxAlternatives: 64,
};

type Rec = Record<string, unknown>;

const TYPE_NAMES = ["null", "boolean", "integer", "number", "string", "array", "object"] as const;
type TypeName = (typeof TYPE_NAMES)[number];

const utf8 = new TextEncoder();

function isRec(x: unknown): x is Rec {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function has(s: Rec, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(s, k) && s[k] !== undefined;
}

function omit(s: Rec, ...keys: string[]): Rec {
  const out: Rec = {};
  for (const k of Object.keys(s)) if (!keys.includes(k)) out[k] = s[k];
  return out;
}

/** Compact JSON spellings of a value: JSON.stringify's, plus Python's ensure_ascii one when it differs. */
export function spellings(value: unknown): string[] {
  const s = JSON.stringify(value);
  if (s === undefined) return [];
  const ascii = s.replace(/[\u0080-\uffff]/g, (c) => "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0"));
  return ascii === s ? [s] : [s, ascii];
}

function canonical(value: unknown): string {
  return JSON.stringify(value) ?? "undefined";
}

// ---------------------------------------------------------------------------------------------------------
// shared specs

function makeValueSpec(branches: Branch[]): ValueSpec {
  const table = new Map<number, Branch[]>();
  for (const br of branches) {
    for (const b of firstBytesOf(br)) {
      const list = table.get(b);
      if (list) list.push(br);
      else table.set(b, [br]);
    }
  }
  const firstBytes = [...table.keys()].sort((x, y) => x - y);
  const byFirst = firstBytes.map((b) => table.get(b)!);
  let minBytes = Infinity;
  for (const br of branches) minBytes = Math.min(minBytes, branchMinBytes(br));
  return { branches, byFirst, firstBytes, minBytes, sat: branches.length > 0 };
}

function firstBytesOf(br: Branch): number[] {
  switch (br.kind) {
    case "string":
      return [0x22];
    case "object":
      return [0x7b];
    case "array":
      return [0x5b];
    case "literal":
      return br.trie.childBytes(ByteTrie.ROOT);
    case "number": {
      const out: number[] = [];
      if (!br.bounded || prefixFeasible({ neg: true, int: "", frac: null }, br.range, br.integer)) out.push(0x2d);
      for (let d = 0; d <= 9; d++) {
        if (!br.bounded || prefixFeasible({ neg: false, int: String(d), frac: null }, br.range, br.integer)) {
          out.push(0x30 + d);
        }
      }
      return out;
    }
  }
}

function branchMinBytes(br: Branch): number {
  switch (br.kind) {
    case "string":
      return 2 + br.min;
    case "number":
      return 1;
    case "literal":
      return br.trie.minDepth[ByteTrie.ROOT]!;
    case "object": {
      let c = 2;
      for (const i of br.requiredList) c += br.props[i]!.cost;
      return c + Math.max(0, br.requiredList.length - 1);
    }
    case "array": {
      let c = 2;
      for (let i = 0; i < br.min; i++) c += (i < br.prefix.length ? br.prefix[i]! : br.rest!).minBytes;
      return c + Math.max(0, br.min - 1);
    }
  }
}

function literalTrie(texts: Iterable<string>): ByteTrie {
  const trie = new ByteTrie();
  for (const t of texts) trie.add(utf8.encode(t), 0);
  return trie.finish();
}

const FREE_STRING_SPEC: StrSpec = { kind: "string", min: 0, max: Infinity };
const FREE_NUMBER_SPEC: NumSpec = { kind: "number", integer: false, range: FULL_RANGE, bounded: false };

/** Any JSON value (a schema without type). Recursive: objects and arrays of any values. */
export const ANY: ValueSpec = (() => {
  const obj: { -readonly [K in keyof ObjSpec]: ObjSpec[K] } = {
    kind: "object",
    props: [],
    keyTrie: new ByteTrie().finish(),
    keyMasks: [new Uint32Array(1)],
    words: 1,
    required: new Uint32Array(1),
    requiredList: [],
    avail: new Uint32Array(1),
    additional: null,
    declared: new Set(),
  };
  const arr: { -readonly [K in keyof ArrSpec]: ArrSpec[K] } = {
    kind: "array",
    prefix: [],
    rest: null,
    min: 0,
    max: Infinity,
  };
  const lit: LitSpec = { kind: "literal", trie: literalTrie(["null", "true", "false"]) };
  const spec = makeValueSpec([lit, FREE_NUMBER_SPEC, FREE_STRING_SPEC, arr, obj]);
  obj.additional = spec;
  arr.rest = spec;
  spec.minBytes = 1;
  return spec;
})();

const UNSAT: ValueSpec = makeValueSpec([]);

// ---------------------------------------------------------------------------------------------------------
// normalising and merging raw schemas

/** Shallow rewrite into the forms the compiler reads: numeric exclusive bounds, items/additionalItems, nullable. */
function normalizeShallow(s: Rec): Rec {
  let out = s;
  const edit = (): Rec => (out === s ? (out = { ...s }) : out);
  if (typeof s.exclusiveMinimum === "boolean") {
    const o = edit();
    if (s.exclusiveMinimum && typeof s.minimum === "number") {
      o.exclusiveMinimum = s.minimum;
      delete o.minimum;
    } else delete o.exclusiveMinimum;
  }
  if (typeof s.exclusiveMaximum === "boolean") {
    const o = edit();
    if (s.exclusiveMaximum && typeof s.maximum === "number") {
      o.exclusiveMaximum = s.maximum;
      delete o.maximum;
    } else delete o.exclusiveMaximum;
  }
  if (Array.isArray(s.prefixItems)) {
    const o = edit();
    o.additionalItems = has(s, "items") ? s.items : true;
    o.items = s.prefixItems;
    delete o.prefixItems;
  }
  if (s.nullable === true && has(s, "type")) {
    const o = edit();
    const t = s.type;
    if (typeof t === "string") o.type = t === "null" ? t : [t, "null"];
    else if (Array.isArray(t) && !t.includes("null")) o.type = [...t, "null"];
    delete o.nullable;
  }
  return out;
}

function typeList(t: unknown): string[] | null {
  if (t === undefined) return null;
  if (typeof t === "string") return [t];
  if (Array.isArray(t)) return t.filter((x): x is string => typeof x === "string");
  return null;
}

function intersectTypes(a: unknown, b: unknown): unknown {
  const la = typeList(a);
  const lb = typeList(b);
  if (la === null || lb === null) return la === null ? b : a;
  const out: string[] = [];
  const add = (t: string): void => {
    if (!out.includes(t)) out.push(t);
  };
  for (const t of la) {
    if (lb.includes(t)) add(t);
    else if (t === "integer" && lb.includes("number")) add("integer");
    else if (t === "number" && lb.includes("integer")) add("integer");
  }
  return out;
}

/** Splits array keywords into per-index element schemas and the schema of the rest. */
function arrayParts(s: Rec): { prefix: unknown[]; rest: unknown } {
  if (Array.isArray(s.items)) return { prefix: s.items, rest: has(s, "additionalItems") ? s.additionalItems : true };
  return { prefix: [], rest: has(s, "items") ? s.items : true };
}

/** Nesting beyond which merging gives up (a cyclic object from a plugin, say): the compiler reports depth. */
const MAX_MERGE_DEPTH = 64;

class MergeTooDeep extends Error {}

/** The intersection of two schemas (allOf, and anyOf alternatives with the keywords beside them). */
export function mergeSchemas(a: unknown, b: unknown, depth = 0): unknown {
  if (depth > MAX_MERGE_DEPTH) throw new MergeTooDeep();
  if (a === false || b === false) return false;
  if (a === true || a === undefined) return b === undefined ? true : b;
  if (b === true || b === undefined) return a;
  if (!isRec(a) || !isRec(b)) return a; // malformed: the compiler reports it
  const x = normalizeShallow(a);
  const y = normalizeShallow(b);
  const out: Rec = { ...x };
  for (const key of Object.keys(y)) {
    const bv = y[key];
    if (!has(out, key)) {
      out[key] = bv;
      continue;
    }
    const av = out[key];
    switch (key) {
      case "type":
        out.type = intersectTypes(av, bv);
        break;
      case "enum":
        if (Array.isArray(av) && Array.isArray(bv)) {
          const keep = new Set(bv.map(canonical));
          out.enum = av.filter((v) => keep.has(canonical(v)));
        }
        break;
      case "const":
        if (canonical(av) !== canonical(bv)) out.enum = [];
        break;
      case "minimum":
      case "exclusiveMinimum":
      case "minLength":
      case "minItems":
        if (typeof av === "number" && typeof bv === "number") out[key] = Math.max(av, bv);
        break;
      case "maximum":
      case "exclusiveMaximum":
      case "maxLength":
      case "maxItems":
        if (typeof av === "number" && typeof bv === "number") out[key] = Math.min(av, bv);
        break;
      case "required":
        if (Array.isArray(av) && Array.isArray(bv)) out.required = [...new Set([...av, ...bv])];
        break;
      case "properties":
        if (isRec(av) && isRec(bv)) {
          const p: Rec = { ...av };
          for (const k of Object.keys(bv)) p[k] = has(p, k) ? mergeSchemas(p[k], bv[k], depth + 1) : bv[k];
          out.properties = p;
        }
        break;
      case "additionalProperties":
        out.additionalProperties = av === false || bv === false ? false : mergeSchemas(av, bv, depth + 1);
        break;
      case "items":
      case "additionalItems": {
        const pa = arrayParts(x);
        const pb = arrayParts(y);
        const n = Math.max(pa.prefix.length, pb.prefix.length);
        if (n === 0) {
          out.items = mergeSchemas(pa.rest, pb.rest, depth + 1);
          delete out.additionalItems;
        } else {
          const items: unknown[] = [];
          for (let i = 0; i < n; i++) {
            const ea = i < pa.prefix.length ? pa.prefix[i] : pa.rest;
            items.push(mergeSchemas(ea, i < pb.prefix.length ? pb.prefix[i] : pb.rest, depth + 1));
          }
          out.items = items;
          out.additionalItems = mergeSchemas(pa.rest, pb.rest, depth + 1);
        }
        break;
      }
      case "anyOf":
      case "oneOf":
        if (Array.isArray(av) && Array.isArray(bv)) {
          const prod: unknown[] = [];
          for (const p of av) for (const q of bv) prod.push(mergeSchemas(p, q, depth + 1));
          out[key] = prod;
        }
        break;
      case "allOf":
        if (Array.isArray(av) && Array.isArray(bv)) out.allOf = [...av, ...bv];
        break;
      case "nullable":
        out.nullable = av === true && bv === true;
        break;
      default:
        break; // descriptions, defaults, unknown keywords: the first one stays
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// the compiler

class Compiler {
  private specs = 0;
  private literalBytes = 0;
  /** why parts of the schema admit no value, in compile order (for the error when the whole tool does) */
  readonly unsat: { path: string; msg: string; next?: string }[] = [];

  constructor(
    private readonly tool: string,
    private readonly limits: CompileLimits,
  ) {}

  fail(path: string, msg: string): never {
    throw new EngineError(`tool "${this.tool}": schema at ${path || "/"}: ${msg}`, "BAD_TOOLS");
  }

  private countSpec(path: string): void {
    if (++this.specs > this.limits.maxSpecs) {
      this.fail(path, `too large (more than ${this.limits.maxSpecs} sub-schemas)`);
    }
  }

  private note(path: string, msg: string, next?: string): void {
    this.unsat.push({ path: path || "/", msg, ...(next !== undefined ? { next: next || "/" } : {}) });
  }

  /** Why the root admits no value: the chain of required properties down to the first cause. */
  reason(): string | undefined {
    const parts: string[] = [];
    let p: string | undefined = "/";
    while (p !== undefined && parts.length < 40) {
      const at = p;
      let hit: (typeof this.unsat)[number] | undefined;
      for (const n of this.unsat) if (n.path === at) hit = n;
      if (!hit) break;
      parts.push(`${hit.path}: ${hit.msg}`);
      p = hit.next;
    }
    return parts.length ? parts.join("; ") : undefined;
  }

  countLiteral(bytes: number, path: string): void {
    this.literalBytes += bytes;
    if (this.literalBytes > this.limits.maxLiteralBytes) {
      this.fail(path, `too large (more than ${this.limits.maxLiteralBytes} bytes of enum values and keys)`);
    }
  }

  /**
   * @param argsRoot the tool's arguments object: closed unless additionalProperties says otherwise
   */
  value(schema: unknown, path: string, depth: number, argsRoot = false): ValueSpec {
    if (depth > this.limits.maxDepth) this.fail(path, `nested deeper than ${this.limits.maxDepth} levels`);
    if (schema === true || schema === undefined) return ANY;
    if (schema === false) return UNSAT;
    if (!isRec(schema)) this.fail(path, `must be an object or a boolean (got ${describe(schema)})`);
    this.countSpec(path);
    let s: unknown = normalizeShallow(schema);
    if (has(s as Rec, "allOf")) s = this.expandAllOf(s as Rec, path, depth);
    if (s === false) return UNSAT;
    if (s === true) return ANY;
    const rec = s as Rec;
    const alts = this.alternatives(rec, path);
    if (alts === null) return this.plain(rec, path, depth, argsRoot);
    const base = omit(rec, "anyOf", "oneOf");
    const branches: Branch[] = [];
    alts.forEach((alt, i) => {
      const spec = this.value(mergeSchemas(base, alt), `${path}/anyOf/${i}`, depth + 1, argsRoot);
      for (const br of spec.branches) if (!branches.includes(br)) branches.push(br);
    });
    return makeValueSpec(branches);
  }

  private expandAllOf(s: Rec, path: string, depth: number): unknown {
    const members = s.allOf;
    if (!Array.isArray(members) || members.length === 0) this.fail(`${path}/allOf`, "must be a non-empty array");
    let acc: unknown = omit(s, "allOf");
    members.forEach((m, i) => {
      if (depth + 1 > this.limits.maxDepth) this.fail(path, `nested deeper than ${this.limits.maxDepth} levels`);
      if (m !== true && m !== false && !isRec(m)) this.fail(`${path}/allOf/${i}`, `must be an object or a boolean`);
      const mm = isRec(m) && has(m, "allOf") ? this.expandAllOf(normalizeShallow(m), `${path}/allOf/${i}`, depth + 1) : m;
      acc = mergeSchemas(acc, mm);
    });
    return acc;
  }

  private alternatives(s: Rec, path: string): unknown[] | null {
    const lists: unknown[][] = [];
    for (const k of ["anyOf", "oneOf"]) {
      if (!has(s, k)) continue;
      const v = s[k];
      if (!Array.isArray(v) || v.length === 0) this.fail(`${path}/${k}`, "must be a non-empty array");
      lists.push(v);
    }
    if (lists.length === 0) return null;
    let alts: unknown[] = lists[0]!;
    if (lists.length === 2) {
      const prod: unknown[] = [];
      for (const p of lists[0]!) for (const q of lists[1]!) prod.push(mergeSchemas(p, q));
      alts = prod;
    }
    if (alts.length > this.limits.maxAlternatives) {
      this.fail(path, `too many anyOf/oneOf alternatives (${alts.length} > ${this.limits.maxAlternatives})`);
    }
    return alts;
  }

  private types(s: Rec, path: string): Set<TypeName> {
    if (!has(s, "type")) return new Set(TYPE_NAMES);
    const t = s.type;
    const list = typeof t === "string" ? [t] : Array.isArray(t) ? t : null;
    if (list === null) this.fail(`${path}/type`, `must be a string or an array of strings (got ${describe(t)})`);
    const out = new Set<TypeName>();
    for (const x of list) {
      if (typeof x !== "string" || !(TYPE_NAMES as readonly string[]).includes(x)) {
        this.fail(`${path}/type`, `unknown type ${describe(x)} (expected one of ${TYPE_NAMES.join(", ")})`);
      }
      out.add(x as TypeName);
    }
    return out;
  }

  private num(s: Rec, key: string, path: string, kind: "number" | "count"): number | undefined {
    if (!has(s, key)) return undefined;
    const v = s[key];
    if (kind === "count") {
      if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
        this.fail(`${path}/${key}`, `must be a non-negative integer (got ${describe(v)})`);
      }
    } else if (typeof v !== "number" || !Number.isFinite(v)) {
      this.fail(`${path}/${key}`, `must be a finite number (got ${describe(v)})`);
    }
    return v as number;
  }

  private plain(s: Rec, path: string, depth: number, argsRoot: boolean): ValueSpec {
    const types = this.types(s, path);
    if (has(s, "enum") || has(s, "const")) return this.enumSpec(s, path, depth, argsRoot);
    const branches: Branch[] = [];
    const lits: string[] = [];
    if (types.has("null")) lits.push("null");
    if (types.has("boolean")) lits.push("true", "false");
    if (lits.length) branches.push({ kind: "literal", trie: literalTrie(lits) });
    if (types.has("number") || types.has("integer")) {
      const n = this.numberSpec(s, path, !types.has("number"));
      if (n) branches.push(n);
    }
    if (types.has("string")) {
      const min = this.num(s, "minLength", path, "count") ?? 0;
      const max = this.num(s, "maxLength", path, "count") ?? Infinity;
      // a value in a machine form (pattern, format) or marked `"x-needled-span": false` is never held to a
      // span of the utterance (TokenGrammar.startState's spanText)
      const free = s["x-needled-span"] === false || has(s, "pattern") || has(s, "format");
      if (min <= max) {
        branches.push(free ? { kind: "string", min, max, free: true }
          : min === 0 && max === Infinity ? FREE_STRING_SPEC : { kind: "string", min, max });
      }
      else this.note(path, `minLength ${min} > maxLength ${max}`);
    }
    if (types.has("array")) {
      const a = this.arraySpec(s, path, depth);
      if (a) branches.push(a);
    }
    if (types.has("object")) {
      const o = this.objectSpec(s, path, depth, argsRoot);
      if (o) branches.push(o);
    }
    return makeValueSpec(branches);
  }

  private numberSpec(s: Rec, path: string, integer: boolean): NumSpec | null {
    const minimum = this.num(s, "minimum", path, "number");
    const maximum = this.num(s, "maximum", path, "number");
    const exMin = this.num(s, "exclusiveMinimum", path, "number");
    const exMax = this.num(s, "exclusiveMaximum", path, "number");
    let range: Range = FULL_RANGE;
    const tighten = (v: number | undefined, excl: boolean, lower: boolean): void => {
      if (v === undefined) return;
      const d = decFromNumber(v);
      if (lower) {
        const c = range.lo ? decCmp(d, range.lo) : 1;
        if (c > 0 || (c === 0 && excl)) range = { ...range, lo: d, loX: excl };
      } else {
        const c = range.hi ? decCmp(d, range.hi) : -1;
        if (c < 0 || (c === 0 && excl)) range = { ...range, hi: d, hiX: excl };
      }
    };
    tighten(minimum, false, true);
    tighten(exMin, true, true);
    tighten(maximum, false, false);
    tighten(exMax, true, false);
    const bounded = isBounded(range);
    if (bounded && !rangeFeasible(range, integer)) {
      this.note(path, `no ${integer ? "integer" : "number"} (of at most 15 significant digits) lies in the range`);
      return null;
    }
    return { kind: "number", integer, range, bounded };
  }

  private arraySpec(s: Rec, path: string, depth: number): ArrSpec | null {
    const items = s.items;
    if (has(s, "items") && typeof items !== "boolean" && !isRec(items) && !Array.isArray(items)) {
      this.fail(`${path}/items`, `must be a schema or an array of schemas (got ${describe(items)})`);
    }
    if (has(s, "additionalItems") && typeof s.additionalItems !== "boolean" && !isRec(s.additionalItems)) {
      this.fail(`${path}/additionalItems`, `must be a schema (got ${describe(s.additionalItems)})`);
    }
    const parts = arrayParts(s);
    const prefix = parts.prefix.map((p, i) => this.value(p, `${path}/items/${i}`, depth + 1));
    const rest = this.value(parts.rest, `${path}/${Array.isArray(items) ? "additionalItems" : "items"}`, depth + 1);
    const min = this.num(s, "minItems", path, "count") ?? 0;
    let max = this.num(s, "maxItems", path, "count") ?? Infinity;
    for (let i = 0; i < prefix.length; i++) {
      if (!prefix[i]!.sat) {
        max = Math.min(max, i);
        break;
      }
    }
    if (!rest.sat) max = Math.min(max, prefix.length);
    if (min > max) {
      this.note(path, `minItems ${min} cannot be met (at most ${max} items are possible)`);
      return null;
    }
    return { kind: "array", prefix, rest: rest.sat ? rest : null, min, max };
  }

  private objectSpec(s: Rec, path: string, depth: number, argsRoot: boolean): ObjSpec | null {
    const properties = has(s, "properties") ? s.properties : {};
    if (!isRec(properties)) this.fail(`${path}/properties`, `must be an object (got ${describe(properties)})`);
    const required = has(s, "required") ? s.required : [];
    if (!Array.isArray(required) || required.some((r) => typeof r !== "string")) {
      this.fail(`${path}/required`, `must be an array of strings (got ${describe(required)})`);
    }
    const ap = s.additionalProperties;
    if (has(s, "additionalProperties") && typeof ap !== "boolean" && !isRec(ap)) {
      this.fail(`${path}/additionalProperties`, `must be a boolean or a schema (got ${describe(ap)})`);
    }
    const keys = Object.keys(properties);
    let additional: ValueSpec | null;
    if (ap === false) additional = null;
    else if (ap === true || isRec(ap)) additional = this.value(ap, `${path}/additionalProperties`, depth + 1);
    else additional = keys.length > 0 || argsRoot ? null : ANY;
    if (additional && !additional.sat) additional = null;

    // required keys that properties does not declare: declared with the additionalProperties schema, or any
    // value when there is none (additionalProperties: false leaves them impossible, as in JSON Schema)
    const extra = (required as string[]).filter((r) => !keys.includes(r));
    const extraSpec = ap === false ? UNSAT : isRec(ap) ? (additional ?? UNSAT) : ANY;
    const allKeys = [...keys, ...new Set(extra)];
    const words = Math.max(1, Math.ceil(allKeys.length / 32));
    const req = new Uint32Array(words);
    const avail = new Uint32Array(words);
    const requiredList: number[] = [];
    const props: PropSpec[] = [];
    const keyTrie = new ByteTrie();
    allKeys.forEach((key, index) => {
      const value =
        index < keys.length ? this.value(properties[key], `${path}/properties/${escapePointer(key)}`, depth + 1) : extraSpec;
      const isReq = (required as string[]).includes(key);
      if (isReq && !value.sat) return; // marked below: the object is unsatisfiable
      const keyLen = utf8.encode(JSON.stringify(key)).length + 1;
      props.push({ key, index, value, cost: keyLen + value.minBytes });
      if (isReq) {
        req[index >>> 5]! |= 1 << (index & 31);
        requiredList.push(index);
      }
      if (value.sat) {
        avail[index >>> 5]! |= 1 << (index & 31);
        for (const sp of spellings(key)) {
          const bytes = utf8.encode(sp + ":");
          this.countLiteral(bytes.length, path);
          keyTrie.add(bytes, index);
        }
      }
    });
    for (const key of required as string[]) {
      const i = allKeys.indexOf(key);
      if (!(avail[i >>> 5]! & (1 << (i & 31)))) {
        const sub = i < keys.length ? `${path}/properties/${escapePointer(key)}` : `${path}/additionalProperties`;
        this.note(path, `required property ${JSON.stringify(key)} admits no value`, sub);
        return null;
      }
    }
    // props must be indexable by key index
    const byIndex: PropSpec[] = new Array(allKeys.length);
    for (const p of props) byIndex[p.index] = p;
    for (let i = 0; i < allKeys.length; i++) {
      byIndex[i] ??= { key: allKeys[i]!, index: i, value: UNSAT, cost: Infinity };
    }
    keyTrie.finish();
    return {
      kind: "object",
      props: byIndex,
      keyTrie,
      keyMasks: keyTrie.payloadMasks(words),
      words,
      required: req,
      requiredList,
      avail,
      additional,
      declared: new Set(allKeys),
    };
  }

  private enumSpec(s: Rec, path: string, depth: number, argsRoot: boolean): ValueSpec {
    let values: unknown[];
    if (has(s, "enum")) {
      if (!Array.isArray(s.enum)) this.fail(`${path}/enum`, `must be an array (got ${describe(s.enum)})`);
      values = s.enum;
      if (has(s, "const")) values = values.filter((v) => canonical(v) === canonical(s.const));
    } else values = [s.const];
    // the other keywords still apply: keep the values that the rest of the schema accepts
    const rest = this.plain(omit(s, "enum", "const"), path, depth, argsRoot);
    const trie = new ByteTrie();
    for (const v of values) {
      const sp = spellings(v);
      if (sp.length === 0 || !acceptsLiteral(rest, utf8.encode(sp[0]!))) continue;
      for (const t of sp) {
        const bytes = utf8.encode(t);
        this.countLiteral(bytes.length, path);
        trie.add(bytes, 0);
      }
    }
    trie.finish();
    if (trie.size === 1) this.note(path, "no enum/const value satisfies the schema's other keywords");
    return makeValueSpec(trie.size > 1 ? [{ kind: "literal", trie }] : []);
  }
}

function acceptsLiteral(spec: ValueSpec, bytes: Uint8Array): boolean {
  let node: import("./automaton.js").GNode | null = new ValueNode(spec, new EndNode());
  for (const b of bytes) {
    node = node.step(b);
    if (node === null) return false;
  }
  return node.endsHere();
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

function describe(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return typeof v;
  return s.length > 40 ? s.slice(0, 37) + "..." : s;
}

export interface RootOptions {
  /** most calls in one answer (default 4) */
  maxCalls?: number;
  /** accept one space before `[` (SentencePiece's dummy prefix; default true) */
  leadingSpace?: boolean;
  limits?: Partial<CompileLimits>;
}

const DEFAULT_MAX_CALLS = 4;

/** Compiles the declared tools into the spec of the whole answer. Throws EngineError BAD_TOOLS. */
export function compileRoot(tools: readonly ToolSchema[], options: RootOptions = {}): RootSpec {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const maxCalls = options.maxCalls ?? DEFAULT_MAX_CALLS;
  if (!Number.isInteger(maxCalls) || maxCalls < 0) {
    throw new EngineError(`grammar: maxCalls must be a non-negative integer (got ${describe(maxCalls)})`, "BAD_TOOLS");
  }
  if (!Array.isArray(tools)) throw new EngineError("grammar: tools must be an array", "BAD_TOOLS");
  const args: ValueSpec[] = [];
  const names: string[] = [];
  const seen = new Set<string>();
  tools.forEach((tool, i) => {
    const name = (tool as Partial<ToolSchema> | null)?.name;
    if (typeof name !== "string" || name.length === 0) {
      throw new EngineError(`grammar: tool #${i} has no name (a non-empty string is required)`, "BAD_TOOLS");
    }
    if (seen.has(name)) throw new EngineError(`grammar: tool "${name}" is declared twice`, "BAD_TOOLS");
    seen.add(name);
    const compiler: Compiler = new Compiler(name, limits);
    const schema = tool.schema === undefined ? { type: "object" } : tool.schema;
    if (schema !== true && !isRec(schema)) compiler.fail("", `must be an object (got ${describe(schema)})`);
    let spec: ValueSpec;
    try {
      spec = compiler.value(mergeSchemas(schema, { type: "object" }), "", 0, true);
    } catch (e) {
      if (e instanceof EngineError) throw e;
      // not JSON (a cyclic object, a BigInt, a getter that throws): report, never crash
      const why = e instanceof MergeTooDeep || e instanceof RangeError ? `nested deeper than ${limits.maxDepth} levels` : String(e);
      compiler.fail("", `cannot be compiled: ${why}`);
    }
    if (!spec.sat) {
      const why = compiler.reason() ?? "it excludes objects";
      compiler.fail("", `the arguments schema admits no object (${why}): no call of this tool could be valid`);
    }
    args.push(spec);
    names.push(name);
  });
  return rootOf(names, args, maxCalls, options.leadingSpace ?? true, limits.maxLiteralBytes);
}

/**
 * The grammar of some of `full`'s tools (indices into them, in the order given), sharing their compiled
 * argument specs: only the call heads are new, so a subset costs little time or memory (the engine keeps dozens
 * of retrieval subsets per tool set).
 */
export function subsetRoot(full: RootSpec, indices: readonly number[]): RootSpec {
  const n = full.names.length;
  if (indices.some((i) => !Number.isInteger(i) || i < 0 || i >= n) || new Set(indices).size !== indices.length) {
    throw new EngineError(`grammar: subset [${indices.join(",")}] of ${n} tools`, "BAD_TOOLS");
  }
  return rootOf(indices.map((i) => full.names[i]!), indices.map((i) => full.args[i]!), full.maxCalls, full.leadingSpace,
    Infinity);
}

function rootOf(names: readonly string[], args: readonly ValueSpec[], maxCalls: number, leadingSpace: boolean,
  maxLiteralBytes: number): RootSpec {
  const callTrie = new ByteTrie();
  let minCallBytes = Infinity;
  let literalBytes = 0;
  names.forEach((name, i) => {
    let shortest = Infinity;
    for (const sp of spellings(name)) {
      const head = utf8.encode(`{"name":${sp},"arguments":`);
      literalBytes += head.length;
      callTrie.add(head, i);
      shortest = Math.min(shortest, head.length);
    }
    minCallBytes = Math.min(minCallBytes, shortest + args[i]!.minBytes + 1);
  });
  if (literalBytes > maxLiteralBytes) {
    throw new EngineError(`grammar: tool names too long (${literalBytes} bytes)`, "BAD_TOOLS");
  }
  return {
    callTrie: callTrie.finish(),
    args,
    names,
    maxCalls: names.length === 0 ? 0 : maxCalls,
    leadingSpace,
    minCallBytes,
  };
}
