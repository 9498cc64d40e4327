// Shared helpers for the grammar tests: a seeded PRNG, a synthetic SentencePiece-like vocabulary, a greedy
// tokenizer over it, random JSON Schemas, and ajv validation of answers.
import { Ajv } from "ajv";
import {
  decodeConstrained,
  type DecodeResult,
  type TokenGrammar,
  ToolGrammar,
  Vocabulary,
} from "../src/engine/grammar/index.js";

export const enc = new TextEncoder();

/** mulberry32: small, seedable, good enough for test data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: () => number, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

export function int(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

// ---- synthetic vocabulary -------------------------------------------------------------------------------

export const EOS = 1;
export const SPECIALS = ["<pad>", "</s>", "<s>", "<unk>", "<tool_call>", "<tools>"];

const MERGED = [
  "[", " [", "[]", " []", "[{", "[{\"", "{\"", "{\"name", "\"name", "name", "\":\"", "\":", "\",\"", "\",", "\"arguments",
  "arguments", "\":{\"", "\":{", "\"}", "\"}}", "\"},{\"", "\"}},{\"", "},{\"", "}]", "}}]", "\"}}]", "]", "\":[", "],\"", "\"]", "\"],",
  "\":{}}", "{}", "}", "},", ",", ":", "\"", "\",\"arguments\":{\"", "null", "true", "false", "nul", "tr", "fal",
  "0", "1", "2", "5", "9", "00", "10", "12", "100", "2024", "-", "-1", ".", ".5", "0.", "e", "E", "e+", "E-", "e-0",
  "\\", "\\n", "\\\"", "\\\\", "\\u", "\\u00", "\\u00e9", "\\ud83d", "\\ude00", "\\/", "\\t",
  "é", "ü", "ß", "日本", "語", "😀", "café", " café", "naïve",
  " ", "  ", " the", " kitchen", " lights", " minutes", " at", "ing", "er", "_", "__", "set", "set_", "timer", "get",
  "get_", "weather", "city", "unit", "mode", "target", "duration", "time", "day", "text", "value", "items", "id",
  "a", "b", "c", "x", "y", "z", "A", "Z", "key", "tags", "count", "level", "price", "enabled", "color",
];

/** ids: 0-5 specials (empty bytes), 6-261 byte-fallback tokens, then merged pieces and random short pieces. */
export function syntheticVocabulary(seed = 7, extra = 260): { vocab: Vocabulary; pieces: Uint8Array[] } {
  const r = rng(seed);
  const pieces: Uint8Array[] = SPECIALS.map(() => new Uint8Array(0));
  for (let b = 0; b < 256; b++) pieces.push(Uint8Array.of(b));
  const seen = new Set<string>();
  const add = (bytes: Uint8Array): void => {
    const k = Buffer.from(bytes).toString("hex");
    if (bytes.length > 1 && !seen.has(k)) {
      seen.add(k);
      pieces.push(bytes);
    }
  };
  for (const m of MERGED) add(enc.encode(m));
  // partial UTF-8 pieces: an emoji split in two, a CJK char split after its lead byte
  const emoji = enc.encode("😀");
  add(emoji.subarray(0, 2));
  add(emoji.subarray(2));
  add(enc.encode("日").subarray(0, 2));
  const alphabet = "abcdefghijklmnopqrstuvwxyz_ 0123456789\",:{}[]-.";
  for (let i = 0; i < extra; i++) {
    let s = "";
    const n = int(r, 2, 5);
    for (let k = 0; k < n; k++) s += pick(r, [...alphabet]);
    add(enc.encode(s));
  }
  return { vocab: new Vocabulary(pieces, { eosId: EOS }), pieces };
}

/** Greedy longest-match tokenizer over the synthetic vocabulary (stands in for encodeNoDummyPrefix). */
export function greedyTokenizer(pieces: readonly Uint8Array[]): (text: string) => number[] {
  const byKey = new Map<string, number>();
  let maxLen = 1;
  pieces.forEach((p, id) => {
    if (p.length === 0) return;
    const k = Buffer.from(p).toString("latin1");
    if (!byKey.has(k)) byKey.set(k, id);
    maxLen = Math.max(maxLen, p.length);
  });
  return (text) => {
    const bytes = Buffer.from(text, "utf8").toString("latin1");
    const out: number[] = [];
    let i = 0;
    while (i < bytes.length) {
      for (let len = Math.min(maxLen, bytes.length - i); len >= 1; len--) {
        const id = byKey.get(bytes.slice(i, i + len));
        if (id !== undefined) {
          out.push(id);
          i += len;
          break;
        }
      }
    }
    return out;
  };
}

// ---- random logits --------------------------------------------------------------------------------------

/** Per-case bias: tokens that close strings/containers get a boost so that random decodes finish. */
export function closingBias(r: () => number, pieces: readonly Uint8Array[], strength: number): Float32Array {
  const bias = new Float32Array(pieces.length);
  pieces.forEach((p, id) => {
    if (id === EOS) bias[id] = strength * r();
    for (const b of p) {
      if (b === 0x22 || b === 0x7d || b === 0x5d) {
        bias[id] = strength * (0.5 + r());
        break;
      }
    }
  });
  return bias;
}

export function randomLogits(r: () => number, bias: Float32Array): Float32Array {
  const out = new Float32Array(bias.length);
  for (let i = 0; i < out.length; i++) {
    // roughly normal (sum of uniforms), quantised now and then to create ties
    let v = r() + r() + r() - 1.5 + bias[i]!;
    if (r() < 0.05) v = Math.round(v);
    out[i] = v;
  }
  return out;
}

// ---- random schemas -------------------------------------------------------------------------------------

const KEYS = ["city", "unit", "mode", "target", "duration", "time", "day", "text", "value", "items", "id", "tags",
  "count", "level", "price", "enabled", "color", "name", "café", "a b", "x", "über_key", "k\"q", "emoji😀"];

export interface SchemaGenOptions {
  /** allow oneOf (only over disjoint types, so that exactly one alternative matches) */
  oneOf?: boolean;
}

function randomNumberSchema(r: () => number): Record<string, unknown> {
  const integer = r() < 0.5;
  const s: Record<string, unknown> = { type: integer ? "integer" : "number" };
  const bound = (): number => {
    const k = r();
    if (k < 0.3) return int(r, -20, 120);
    if (k < 0.6) return Math.round((r() * 200 - 50) * 100) / 100;
    if (k < 0.8) return Math.round(r() * 1e6) / 1e3;
    return pick(r, [0, 1, -1, 0.5, 0.1, 1e-3, 99.99, 1e9, -1e-7]);
  };
  const lo = r() < 0.5 ? bound() : undefined;
  let hi = r() < 0.5 ? bound() : undefined;
  if (lo !== undefined && hi !== undefined && hi < lo) hi = lo + Math.abs(bound());
  if (lo !== undefined) s[r() < 0.3 ? "exclusiveMinimum" : "minimum"] = lo;
  if (hi !== undefined) s[r() < 0.3 ? "exclusiveMaximum" : "maximum"] = hi;
  return s;
}

function randomEnum(r: () => number): unknown[] {
  const pool: unknown[] = ["a", "b", "kitchen", "café", "日本", "x\"y", "", 0, 1, 12, 1.5, -3, true, false, null,
    [1, 2], { k: "v" }, "with space", "new\nline"];
  const n = int(r, 1, 5);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const v = pick(r, pool);
    if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
  }
  return out;
}

/** A random JSON Schema of bounded depth, using only keywords the grammar honours (plus a few it ignores). */
export function randomSchema(r: () => number, depth: number, opts: SchemaGenOptions = {}): Record<string, unknown> {
  const leafOnly = depth <= 0;
  const k = r();
  if (!leafOnly && k < 0.12) return randomObjectSchema(r, depth - 1, opts);
  if (!leafOnly && k < 0.2) {
    const s: Record<string, unknown> = { type: "array", items: randomSchema(r, depth - 1, opts) };
    if (r() < 0.4) s.minItems = int(r, 0, 2);
    if (r() < 0.4) s.maxItems = int(r, (s.minItems as number | undefined) ?? 0, 4);
    if (r() < 0.1) {
      s.items = [randomSchema(r, depth - 1, opts), randomSchema(r, depth - 1, opts)];
      s.additionalItems = r() < 0.5 ? false : randomSchema(r, 0, opts);
    }
    return s;
  }
  if (!leafOnly && k < 0.27) {
    return { anyOf: [randomSchema(r, depth - 1, opts), randomSchema(r, depth - 1, opts)], description: "alt" };
  }
  if (!leafOnly && k < 0.31 && opts.oneOf !== false) {
    const kinds = ["string", "integer", "boolean", "null", "array"].sort(() => r() - 0.5).slice(0, 2);
    return { oneOf: kinds.map((t) => (t === "array" ? { type: "array", items: randomSchema(r, 0) } : leafOfType(r, t))) };
  }
  if (k < 0.4) return { enum: randomEnum(r), ...(r() < 0.3 ? { type: "string" } : {}) };
  if (k < 0.43) return { const: pick(r, ["fixed", 7, true, null, "ünï"]) };
  if (k < 0.47) return { description: "anything" }; // no type: any JSON value
  if (k < 0.52) return { type: pick(r, [["string", "null"], ["integer", "string"], ["boolean", "number"]]) };
  if (k < 0.56) return { type: "string", nullable: true, format: "date" };
  return leafOfType(r, pick(r, ["string", "string", "integer", "number", "boolean", "null"]));
}

function leafOfType(r: () => number, t: string): Record<string, unknown> {
  if (t === "integer" || t === "number") {
    const s = randomNumberSchema(r);
    s.type = t;
    return s;
  }
  if (t === "string") {
    const s: Record<string, unknown> = { type: "string" };
    if (r() < 0.25) s.minLength = int(r, 0, 3);
    if (r() < 0.3) s.maxLength = int(r, (s.minLength as number | undefined) ?? 0, 6);
    return s;
  }
  return { type: t };
}

export function randomObjectSchema(r: () => number, depth: number, opts: SchemaGenOptions = {}): Record<string, unknown> {
  const n = int(r, 0, 5);
  const properties: Record<string, unknown> = {};
  const keys = [...KEYS].sort(() => r() - 0.5).slice(0, n);
  for (const key of keys) properties[key] = randomSchema(r, depth, opts);
  const s: Record<string, unknown> = { type: "object", properties };
  const req = keys.filter(() => r() < 0.4);
  if (req.length || r() < 0.3) s.required = req;
  const a = r();
  if (a < 0.15) s.additionalProperties = false;
  else if (a < 0.25) s.additionalProperties = true;
  else if (a < 0.32) s.additionalProperties = leafOfType(r, pick(r, ["string", "integer", "boolean"]));
  if (r() < 0.1) s["x-unknown-keyword"] = { anything: 1 };
  return s;
}

const NAME_PARTS = ["get", "set", "weather", "timer", "light", "turn", "on", "off", "search", "x"];

export function randomTools(r: () => number, opts: SchemaGenOptions = {}): { name: string; schema: Record<string, unknown> }[] {
  const n = int(r, 1, 4);
  const tools: { name: string; schema: Record<string, unknown> }[] = [];
  const names = new Set<string>();
  while (tools.length < n) {
    const parts = int(r, 1, 3);
    const name = Array.from({ length: parts }, () => pick(r, NAME_PARTS)).join("_");
    if (names.has(name)) continue;
    names.add(name);
    tools.push({ name, schema: randomObjectSchema(r, int(r, 0, 2), opts) });
  }
  return tools;
}

// ---- validation -----------------------------------------------------------------------------------------

export function makeAjv(): Ajv {
  return new Ajv({ strict: false, allErrors: true, validateFormats: false });
}

/** Checks that `answer` is a list of calls, each `{"name": <tool>, "arguments": <valid>}` with keys in that order. */
export function validateAnswer(
  ajv: Ajv,
  tools: readonly { name: string; schema: unknown }[],
  text: string,
  maxCalls = 4,
): string | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return `not JSON: ${(e as Error).message}: ${text}`;
  }
  if (!Array.isArray(value)) return "not an array";
  if (value.length > maxCalls) return `too many calls: ${value.length}`;
  for (const call of value) {
    if (typeof call !== "object" || call === null || Array.isArray(call)) return "call is not an object";
    const keys = Object.keys(call);
    if (keys.length !== 2 || keys[0] !== "name" || keys[1] !== "arguments") return `call keys ${keys.join(",")}`;
    const tool = tools.find((t) => t.name === (call as { name: unknown }).name);
    if (!tool) return `unknown tool ${(call as { name: unknown }).name}`;
    const validate = ajv.compile(tool.schema as object);
    if (!validate((call as { arguments: unknown }).arguments)) {
      return `invalid arguments for ${tool.name}: ${ajv.errorsText(validate.errors)} in ${text}`;
    }
  }
  return null;
}

/** Random-logit greedy decode under the grammar (jump-forward on). */
export async function randomDecode(
  g: TokenGrammar,
  r: () => number,
  bias: Float32Array,
  encode: (t: string) => number[],
  onStep?: (logits: Float32Array) => void,
): Promise<DecodeResult> {
  const first = randomLogits(r, bias);
  onStep?.(first);
  return decodeConstrained(
    g,
    first,
    () => {
      const l = randomLogits(r, bias);
      onStep?.(l);
      return l;
    },
    { usedPositions: 2, maxPositions: 512, encode },
  );
}

/** Accepts a whole answer text? (byte level) */
export function accepts(g: ToolGrammar, text: string | Uint8Array): boolean {
  const s = g.advanceBytes(g.startState(), typeof text === "string" ? enc.encode(text) : text);
  return s !== null && g.canEnd(s);
}

/** Is `text` a prefix the grammar accepts (not necessarily complete)? */
export function acceptsPrefix(g: ToolGrammar, text: string): boolean {
  return g.advanceBytes(g.startState(), enc.encode(text)) !== null;
}

/** Compiles one tool `t` with `schema` as its arguments and wraps an arguments text into a full answer. */
export function argsGrammar(schema: unknown, options: { maxCalls?: number } = {}): {
  g: ToolGrammar;
  ok: (args: string) => boolean;
  prefix: (args: string) => boolean;
} {
  const g = ToolGrammar.compile([{ name: "t", schema }], options);
  return {
    g,
    ok: (args) => accepts(g, `[{"name":"t","arguments":${args}}]`),
    prefix: (args) => acceptsPrefix(g, `[{"name":"t","arguments":${args}`),
  };
}

/** One value under a property "v" (wraps a value schema into an object schema). */
export function valueGrammar(schema: unknown): { ok: (v: string) => boolean; prefix: (v: string) => boolean } {
  const a = argsGrammar({ type: "object", properties: { v: schema }, required: ["v"] });
  return { ok: (v) => a.ok(`{"v":${v}}`), prefix: (v) => a.prefix(`{"v":${v}`) };
}

// ---- schema-guided random instances (for completeness checks: valid values must be accepted) ------------

const STRINGS = ["", "a", "kitchen", "café", "日本", "😀", "x\"y", "back\\slash", "tab\tnew\nline", "ünï", "a b c", "fixed"];

function randomDecimalText(r: () => number): string {
  const neg = r() < 0.3;
  const intPart = r() < 0.3 ? "0" : String(int(r, 1, 9)) + Array.from({ length: int(r, 0, 3) }, () => int(r, 0, 9)).join("");
  const frac = r() < 0.4 ? "." + Array.from({ length: int(r, 1, 4) }, () => int(r, 0, 9)).join("") : "";
  const text = (neg ? "-" : "") + intPart + frac;
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

/** A random JSON value shaped by `schema` (not necessarily valid: filter with ajv). Closed objects get only declared keys. */
export function randomInstance(r: () => number, schema: unknown, depth = 0, argsRoot = false): unknown {
  if (schema === true || schema === undefined || (typeof schema === "object" && schema !== null && Object.keys(schema).length === 0)) {
    return depth > 3 ? null : randomInstance(r, { type: pick(r, ["string", "number", "boolean", "null", "array", "object"]) }, depth + 1);
  }
  if (typeof schema !== "object" || schema === null) return null;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum)) return pick(r, s.enum as unknown[]);
  if ("const" in s) return s.const;
  for (const k of ["anyOf", "oneOf"]) {
    if (Array.isArray(s[k])) {
      const rest = { ...s };
      delete rest.anyOf;
      delete rest.oneOf;
      const alt = pick(r, s[k] as unknown[]) as Record<string, unknown>;
      return randomInstance(r, { ...rest, ...alt }, depth + 1, argsRoot);
    }
  }
  let types = s.type === undefined ? ["string", "number", "boolean", "null", "array", "object"] : ([] as string[]).concat(s.type as string);
  if (s.nullable === true) types = [...types, "null"];
  const t = pick(r, types);
  switch (t) {
    case "null":
      return null;
    case "boolean":
      return r() < 0.5;
    case "integer":
      return Number(randomDecimalText(r).split(".")[0]);
    case "number":
      return Number(randomDecimalText(r));
    case "string":
      return r() < 0.7 ? pick(r, STRINGS) : pick(r, STRINGS) + pick(r, STRINGS);
    case "array": {
      if (depth > 3) return [];
      const n = int(r, 0, 3);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const items = s.items;
        const es = Array.isArray(items) ? (i < items.length ? items[i] : s.additionalItems) : items;
        out.push(randomInstance(r, es, depth + 1));
      }
      return out;
    }
    case "object": {
      if (depth > 3) return {};
      const props = (s.properties ?? {}) as Record<string, unknown>;
      const required = (s.required ?? []) as string[];
      const out: Record<string, unknown> = {};
      const keys = [...new Set([...Object.keys(props), ...required])].sort(() => r() - 0.5);
      for (const k of keys) {
        if (required.includes(k) || r() < 0.5) {
          out[k] = randomInstance(r, props[k] ?? (typeof s.additionalProperties === "object" ? s.additionalProperties : true), depth + 1);
        }
      }
      const ap = s.additionalProperties;
      const open = ap === true || typeof ap === "object" || (ap === undefined && Object.keys(props).length === 0 && !argsRoot);
      if (open && r() < 0.5) {
        out[pick(r, ["extra", "zz", "ünï"])] = randomInstance(r, typeof ap === "object" ? ap : true, depth + 1);
      }
      return out;
    }
  }
  return null;
}

/** Random tools that compile; tool sets whose arguments admit no object (a clear error) are drawn again. */
export function compilableTools<G>(
  r: () => number,
  compile: (tools: { name: string; schema: Record<string, unknown> }[]) => G,
  opts: SchemaGenOptions = {},
): { tools: { name: string; schema: Record<string, unknown> }[]; g: G } {
  for (;;) {
    const tools = randomTools(r, opts);
    try {
      return { tools, g: compile(tools) };
    } catch (e) {
      if (!/admits no object/.test((e as Error).message)) throw e;
    }
  }
}
