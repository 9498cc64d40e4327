// JSON exactly as Python writes it with `json.dumps(value, separators=(",", ":"))` (ensure_ascii on, keys in
// insertion order), and a JSON reader that keeps each number's spelling so that Python's int/float
// distinction survives a round trip through JavaScript (`0.0` stays a float and prints `0.0`).
import { isLosslessNumber, parse as parseLossless, type LosslessNumber } from "lossless-json";

export type { LosslessNumber };

/** A value that cannot be written as JSON the way Python would (with the path to it, e.g. `$.parameters.x`). */
export class PythonJsonError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path}: ${message}`);
    this.name = "PythonJsonError";
  }
}

const MAX_DEPTH = 64;

/**
 * Parses JSON text; numbers become lossless-json `LosslessNumber`s holding their original spelling.
 * Throws a SyntaxError with the position on malformed text, and on duplicate keys with different values.
 */
export function parseJsonPreservingNumbers(text: string): unknown {
  return parseLossless(text);
}

/** Python's `repr(float)`: shortest round-trip digits; exponent form below 1e-4 and from 1e16 on. */
export function pythonFloatRepr(x: number): string {
  if (!Number.isFinite(x)) {
    throw new RangeError(`${x} is not a finite number (Python would write ${x > 0 ? "Infinity" : x < 0 ? "-Infinity" : "NaN"}, which is not JSON)`);
  }
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  // toExponential() without an argument gives the shortest digits that round-trip, like Python's repr.
  const [mantissa, expText] = x.toExponential().split("e") as [string, string];
  const exp = Number(expText);
  const sign = mantissa.startsWith("-") ? "-" : "";
  const digits = mantissa.replace("-", "").replace(".", "");
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? "-" : "+"}${String(Math.abs(exp)).padStart(2, "0")}`;
  }
  if (exp < 0) return `${sign}0.${"0".repeat(-exp - 1)}${digits}`;
  const whole = digits.slice(0, exp + 1).padEnd(exp + 1, "0");
  const frac = digits.slice(exp + 1);
  return `${sign}${whole}.${frac === "" ? "0" : frac}`;
}

const INT_TEXT = /^-?(0|[1-9][0-9]*)$/;

/** How Python prints a JSON number literal after `json.loads`: ints exactly, floats via repr. */
export function pythonNumberFromJsonText(text: string): string {
  if (INT_TEXT.test(text)) return BigInt(text).toString(); // "-0" is the int 0
  const x = Number(text);
  if (Number.isNaN(x)) throw new RangeError(`"${text}" is not a JSON number`);
  return pythonFloatRepr(x);
}

/** A plain JavaScript number: an integral one prints as a Python int (plugins write `5`, not `5.0`). */
function pythonNumber(x: number): string {
  if (Number.isInteger(x)) return Math.abs(x) < 1e21 ? String(x === 0 ? 0 : x) : BigInt(x).toString();
  return pythonFloatRepr(x);
}

const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const SHORT_ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: "\\\\", 0x0a: "\\n", 0x0d: "\\r", 0x09: "\\t", 0x08: "\\b", 0x0c: "\\f" };

/** A JSON string as Python writes it with ensure_ascii: everything outside ' '..'~' as \uXXXX (lower-case hex). */
export function pythonJsonString(s: string): string {
  if (PLAIN_ASCII.test(s)) return `"${s}"`;
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(run, i) + (SHORT_ESCAPES[c] ?? `\\u${c.toString(16).padStart(4, "0")}`);
    run = i + 1;
  }
  return `${out}${s.slice(run)}"`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "function") return "a function";
  if (typeof v === "symbol") return "a symbol";
  if (typeof v === "object" && v !== null) return `an object of class ${v.constructor?.name ?? "unknown"}`;
  return typeof v;
}

function dump(v: unknown, path: string, depth: number, ancestors: Set<object>): string {
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return pythonJsonString(v);
    case "boolean":
      return v ? "true" : "false";
    case "number":
      try {
        return pythonNumber(v);
      } catch (err) {
        throw new PythonJsonError((err as Error).message, path);
      }
    case "bigint":
      return v.toString();
    default:
      break;
  }
  if (isLosslessNumber(v)) {
    try {
      return pythonNumberFromJsonText(v.value);
    } catch (err) {
      throw new PythonJsonError((err as Error).message, path);
    }
  }
  if (typeof v !== "object") throw new PythonJsonError(`${describe(v)} is not JSON`, path);
  if (depth >= MAX_DEPTH) throw new PythonJsonError(`nested deeper than ${MAX_DEPTH} levels`, path);
  if (ancestors.has(v)) throw new PythonJsonError("circular reference", path);
  ancestors.add(v);
  let out: string;
  if (Array.isArray(v)) {
    const items: string[] = [];
    for (let i = 0; i < v.length; i++) items.push(dump(v[i], `${path}[${i}]`, depth + 1, ancestors));
    out = `[${items.join(",")}]`;
  } else if (isPlainObject(v)) {
    const items: string[] = [];
    for (const key of Object.keys(v)) {
      const item = v[key];
      if (item === undefined) continue; // an optional field left undefined, as JSON.stringify does
      items.push(`${pythonJsonString(key)}:${dump(item, `${path}.${key}`, depth + 1, ancestors)}`);
    }
    out = `{${items.join(",")}}`;
  } else {
    throw new PythonJsonError(`${describe(v)} is not JSON`, path);
  }
  ancestors.delete(v);
  return out;
}

/**
 * `json.dumps(value, separators=(",", ":"))` as Python 3 writes it. Numbers: LosslessNumber keeps its int or
 * float nature (`0.0` -> `0.0`, `1E5` -> `100000.0`, `-0` -> `0`), JS numbers print as ints when integral,
 * bigint as ints. Object keys keep insertion order (JavaScript lists integer-like keys such as "10" first).
 * Keys whose value is undefined are left out. Throws PythonJsonError on non-finite numbers, functions,
 * class instances other than LosslessNumber, cycles and nesting deeper than 64.
 */
export function pythonJsonDumps(value: unknown): string {
  return dump(value, "$", 0, new Set());
}

/**
 * Deep copy with every LosslessNumber turned into a JS number (for validators that want plain JSON).
 * Throws PythonJsonError on cycles and on nesting deeper than 64.
 */
export function toPlainJson(value: unknown): unknown {
  return plain(value, "$", 0, new Set());
}

function plain(value: unknown, path: string, depth: number, ancestors: Set<object>): unknown {
  if (isLosslessNumber(value)) return Number(value.value);
  if (typeof value !== "object" || value === null) return value;
  if (depth >= MAX_DEPTH) throw new PythonJsonError(`nested deeper than ${MAX_DEPTH} levels`, path);
  if (ancestors.has(value)) throw new PythonJsonError("circular reference", path);
  ancestors.add(value);
  let out: unknown = value;
  if (Array.isArray(value)) {
    out = value.map((v, i) => plain(v, `${path}[${i}]`, depth + 1, ancestors));
  } else if (isPlainObject(value)) {
    const copy: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      // defineProperty: a "__proto__" key stays an own data property.
      const v = plain(value[key], `${path}.${key}`, depth + 1, ancestors);
      Object.defineProperty(copy, key, { value: v, enumerable: true, writable: true, configurable: true });
    }
    out = copy;
  }
  ancestors.delete(value);
  return out;
}

export { isLosslessNumber, isPlainObject };
