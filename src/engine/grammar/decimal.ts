// Exact decimal arithmetic for number-range feasibility (see README.md, "Numbers with bounds").
//
// A number being generated is a prefix of a JSON number text. Whether another digit (or '.', or '-') may be
// added depends on whether SOME completion can land in the schema's range; whether the number may end depends on
// whether its value is in range. Both are decided here exactly, with BigInt decimals, never with floats.
//
// Bounded numbers are limited to SIG_DIGITS significant digits (counted in the text, from the first non-zero
// digit). With at most 15 significant digits a decimal compares to a bound (taken as the shortest decimal that
// round-trips the bound's double, i.e. what the schema author wrote) exactly as the parsed double compares to
// the bound's double, so what the grammar accepts is exactly what ajv accepts.

/** value = m * 10^e */
export interface Dec {
  readonly m: bigint;
  readonly e: number;
}

export const SIG_DIGITS = 15;

const ZERO: Dec = { m: 0n, e: 0 };
const ONE: Dec = { m: 1n, e: 0 };

const pow10Cache: bigint[] = [];
function pow10(n: number): bigint {
  if (n < 0) throw new RangeError("negative power");
  if (n < 64) {
    let v = pow10Cache[n];
    if (v === undefined) {
      v = 10n ** BigInt(n);
      pow10Cache[n] = v;
    }
    return v;
  }
  return 10n ** BigInt(n);
}

export function decPow10(e: number): Dec {
  return { m: 1n, e };
}

/** Parses a JSON-style number text (optional sign, digits, optional fraction, optional exponent). */
export function decFromText(text: string): Dec {
  const match = /^(-)?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) throw new RangeError(`not a decimal: ${text}`);
  const [, sign, int, frac = "", exp = "0"] = match;
  let m = BigInt((int ?? "0") + frac);
  if (sign) m = -m;
  return { m, e: Number(exp) - frac.length };
}

/** The shortest decimal that round-trips `n` (what the schema author wrote). `n` must be finite. */
export function decFromNumber(n: number): Dec {
  if (!Number.isFinite(n)) throw new RangeError(`not a finite number: ${n}`);
  return decFromText(String(n));
}

function align(a: Dec, b: Dec): [bigint, bigint] {
  if (a.e === b.e) return [a.m, b.m];
  if (a.e > b.e) return [a.m * pow10(a.e - b.e), b.m];
  return [a.m, b.m * pow10(b.e - a.e)];
}

export function decCmp(a: Dec, b: Dec): number {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function decAdd(a: Dec, b: Dec): Dec {
  const [x, y] = align(a, b);
  return { m: x + y, e: Math.min(a.e, b.e) };
}

export function decNeg(a: Dec): Dec {
  return { m: -a.m, e: a.e };
}

function decMulPow10(a: Dec, k: number): Dec {
  return { m: a.m, e: a.e + k };
}

/** floor(a / 10^u) as a BigInt */
function floorUnits(a: Dec, u: number): bigint {
  if (a.e >= u) return a.m * pow10(a.e - u);
  const d = pow10(u - a.e);
  const q = a.m / d;
  return a.m < 0n && q * d !== a.m ? q - 1n : q;
}

/** ceil(a / 10^u) as a BigInt */
function ceilUnits(a: Dec, u: number): bigint {
  return -floorUnits(decNeg(a), u);
}

/** An interval of values; null ends are unbounded. `loX`/`hiX`: the end is excluded. */
export interface Range {
  readonly lo: Dec | null;
  readonly loX: boolean;
  readonly hi: Dec | null;
  readonly hiX: boolean;
}

export const FULL_RANGE: Range = { lo: null, loX: false, hi: null, hiX: false };

export function inRange(x: Dec, r: Range): boolean {
  if (r.lo) {
    const c = decCmp(x, r.lo);
    if (c < 0 || (c === 0 && r.loX)) return false;
  }
  if (r.hi) {
    const c = decCmp(x, r.hi);
    if (c > 0 || (c === 0 && r.hiX)) return false;
  }
  return true;
}

export function mirror(r: Range): Range {
  return { lo: r.hi ? decNeg(r.hi) : null, loX: r.hiX, hi: r.lo ? decNeg(r.lo) : null, hiX: r.loX };
}

export function isBounded(r: Range): boolean {
  return r.lo !== null || r.hi !== null;
}

/**
 * Is there x = A + j * 10^u (j >= 0 integer) with A <= x < B and x in r? A must be a multiple of 10^u.
 */
function gridHit(A: Dec, B: Dec, u: number, r: Range): boolean {
  let first = floorUnits(A, u); // exact: A is on the grid
  let last = ceilUnits(B, u) - 1n; // largest grid point < B
  if (r.lo) {
    let l = ceilUnits(r.lo, u);
    if (r.loX && decCmp({ m: l, e: u }, r.lo) === 0) l += 1n;
    if (l > first) first = l;
  }
  if (r.hi) {
    let h = floorUnits(r.hi, u);
    if (r.hiX && decCmp({ m: h, e: u }, r.hi) === 0) h -= 1n;
    if (h < last) last = h;
  }
  return first <= last;
}

/** floor(log10(x)) for x > 0 */
function decade(x: Dec): number {
  return x.m.toString().length - 1 + x.e;
}

/**
 * The largest x with x <= b (x < b when strict) that has at most SIG_DIGITS significant digits and is below
 * 10^SIG_DIGITS; null when there is none above 0. b > 0.
 */
function largestShortBelow(b: Dec, strict: boolean): Dec | null {
  const cap = decPow10(SIG_DIGITS);
  if (decCmp(b, cap) > 0 || (decCmp(b, cap) === 0 && !strict)) {
    return { m: pow10(SIG_DIGITS) - 1n, e: 0 };
  }
  const d = decade(b);
  const u = d - SIG_DIGITS + 1;
  if (!strict) return { m: floorUnits(b, u), e: u };
  const g: Dec = { m: ceilUnits(b, u) - 1n, e: u };
  if (decCmp(g, decPow10(d)) >= 0) return g;
  // b is exactly 10^d: the largest short number below it is SIG_DIGITS nines one decade down.
  const u2 = d - SIG_DIGITS;
  return { m: pow10(SIG_DIGITS) - 1n, e: u2 };
}

/**
 * Is there a non-negative x with at most SIG_DIGITS significant digits, x in r, x < T (when T is given),
 * where x = 0 counts only when `zero` is true?
 */
function existsShort(r: Range, T: Dec | null, zero: boolean): boolean {
  if (zero && inRange(ZERO, r)) return true;
  // upper end U (strict or not)
  let U: Dec | null = T;
  let Ustrict = true;
  if (r.hi && (!U || decCmp(r.hi, U) < 0 || (decCmp(r.hi, U) === 0 && r.hiX))) {
    U = r.hi;
    Ustrict = r.hiX;
  }
  if (U === null) {
    U = decPow10(SIG_DIGITS);
    Ustrict = true;
  }
  if (U.m <= 0n) return false;
  const g = largestShortBelow(U, Ustrict);
  if (!g || g.m <= 0n) return false;
  if (r.lo) {
    const c = decCmp(g, r.lo);
    if (c < 0 || (c === 0 && r.loX)) return false;
  }
  return true;
}

/** Where a number text is: the phases of the JSON number grammar that can carry range feasibility. */
export interface NumberPrefix {
  readonly neg: boolean;
  /** integer digits so far ("" before the first digit) */
  readonly int: string;
  /** fraction digits after '.', or null before '.' */
  readonly frac: string | null;
}

function sigDigits(int: string, frac: string): number {
  const all = int + frac;
  let i = 0;
  while (i < all.length && all.charCodeAt(i) === 48) i++;
  return all.length - i;
}

/**
 * Can the number prefix be completed (digits, '.', fraction digits; no exponent) into a number with at most
 * SIG_DIGITS significant digits that lies in r? `integer`: no fraction allowed.
 */
export function prefixFeasible(p: NumberPrefix, r: Range, integer: boolean): boolean {
  const rr = p.neg ? mirror(r) : r;
  // magnitudes are >= 0; after '-' they are > 0 (negative zero is never written)
  const mag: Range =
    rr.lo && (rr.lo.m > 0n || (rr.lo.m === 0n && !p.neg))
      ? rr
      : { lo: ZERO, loX: p.neg, hi: rr.hi, hiX: rr.hiX };
  if (mag.hi && mag.lo && decCmp(mag.hi, mag.lo) < 0) return false;
  const S = SIG_DIGITS;
  if (p.int === "") {
    if (integer) {
      // an integer 0 .. 10^S - 1 in range
      return gridHit(ZERO, decPow10(S), 0, mag);
    }
    return existsShort(mag, null, true);
  }
  const fracDigits = p.frac ?? "";
  const c = sigDigits(p.int, fracDigits);
  if (c > S) return false;
  if (p.frac === null) {
    if (p.int === "0") {
      if (inRange(ZERO, mag)) return true;
      return !integer && existsShort(mag, ONE, false);
    }
    const I = decFromText(p.int);
    for (let k = 0; k <= S - c; k++) {
      const A = decMulPow10(I, k);
      if (mag.hi && decCmp(A, mag.hi) > 0) break;
      const B = decMulPow10(decAdd(I, ONE), k);
      if (gridHit(A, B, integer ? 0 : -(S - c - k), mag)) return true;
    }
    return false;
  }
  if (integer) return false;
  const f = fracDigits.length;
  if (c === 0) {
    // the value so far is 0 (leading zeros do not count as significant)
    return existsShort(mag, decPow10(-f), true);
  }
  if (f === 0 && c >= S) return false; // "I." needs one more digit
  const V = decFromText(p.int + "." + fracDigits);
  return gridHit(V, decAdd(V, decPow10(-f)), -(f + S - c), mag);
}

/** Is the complete number text's value in r? */
export function textInRange(text: string, r: Range): boolean {
  return inRange(decFromText(text), r);
}

/** True when r contains at least one number with at most SIG_DIGITS significant digits. */
export function rangeFeasible(r: Range, integer: boolean): boolean {
  return (
    prefixFeasible({ neg: false, int: "", frac: null }, r, integer) ||
    prefixFeasible({ neg: true, int: "", frac: null }, r, integer)
  );
}
