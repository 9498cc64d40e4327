// Spoken durations -> seconds ("an hour and a half" -> 5400), and seconds -> short spoken text.
import { isDigits, readCount, readNumber, tokenize } from "./words.js";

const UNITS: Record<string, number> = {
  s: 1, sec: 1, secs: 1, second: 1, seconds: 1,
  m: 60, min: 60, mins: 60, minute: 60, minutes: 60,
  h: 3600, hr: 3600, hrs: 3600, hour: 3600, hours: 3600,
  d: 86400, day: 86400, days: 86400,
};
const SMALLER: Record<number, number> = { 86400: 3600, 3600: 60, 60: 1 };
/** Words that may surround a duration without changing it ("for 5 minutes", "in about an hour"). */
const FILLER = new Set(["for", "in", "about", "around", "roughly", "approximately", "just", "only", "another", "timer", "long", "plus"]);

function unitAt(tokens: string[], i: number): number | undefined {
  const t = tokens[i];
  return t !== undefined ? UNITS[t] : undefined;
}

/** Skips "a", "an", "of", "of a", "of an" before a unit ("half an hour", "a quarter of an hour"). */
function skipToUnit(tokens: string[], i: number): number {
  let j = i;
  if (tokens[j] === "of") j++;
  if (tokens[j] === "a" || tokens[j] === "an") j++;
  return j;
}

/** Reads "and a half" / "and a quarter" / "and three quarters" at i; returns the fraction and next index. */
function readFraction(tokens: string[], i: number): { value: number; next: number } | undefined {
  if (tokens[i] !== "and") return undefined;
  let j = i + 1;
  if (tokens[j] === "a" || tokens[j] === "an") j++;
  if (tokens[j] === "half") return { value: 0.5, next: j + 1 };
  if (tokens[j] === "quarter") return { value: 0.25, next: j + 1 };
  if (tokens[j] === "three" && tokens[j + 1] === "quarters") return { value: 0.75, next: j + 2 };
  return undefined;
}

interface Part {
  seconds: number;
  unit: number;
  next: number;
}

function readPart(tokens: string[], i: number, previousUnit: number | undefined): Part | undefined {
  const t = tokens[i];
  // "half an hour", "half a minute", "half hour"
  if (t === "half" || ((t === "a" || t === "an") && tokens[i + 1] === "half")) {
    const j = skipToUnit(tokens, t === "half" ? i + 1 : i + 2);
    const unit = unitAt(tokens, j);
    if (unit === undefined) return undefined;
    return { seconds: unit / 2, unit, next: j + 1 };
  }
  // "a quarter of an hour", "three quarters of an hour", "quarter hour"
  {
    let count = 1;
    let j = i;
    if (t !== "quarter") {
      const n = readCount(tokens, i);
      if (n && (tokens[n.next] === "quarter" || tokens[n.next] === "quarters")) {
        count = n.value;
        j = n.next;
      }
    }
    if (tokens[j] === "quarter" || tokens[j] === "quarters") {
      const k = skipToUnit(tokens, j + 1);
      const unit = unitAt(tokens, k);
      if (unit === undefined) return undefined;
      return { seconds: (count * unit) / 4, unit, next: k + 1 };
    }
  }
  // "a couple of minutes"
  let n = readCount(tokens, i);
  // "a ten second timer": the article belongs to the phrase, not the number
  if ((t === "a" || t === "an") && readNumber(tokens, i + 1)) n = readNumber(tokens, i + 1);
  if ((t === "a" || t === "couple") && (tokens[i + 1] === "couple" || t === "couple")) {
    const j = t === "a" ? i + 2 : i + 1;
    n = { value: 2, next: tokens[j] === "of" ? j + 1 : j };
  }
  if (!n) return undefined;
  let value = n.value;
  let j = n.next;
  // "one and a half hours"
  const before = readFraction(tokens, j);
  if (before && unitAt(tokens, before.next) !== undefined) {
    value += before.value;
    j = before.next;
  }
  const unit = unitAt(tokens, j);
  if (unit === undefined) {
    // "1 hour 30", "five minutes thirty": a trailing bare number counts in the next smaller unit.
    if (previousUnit !== undefined && SMALLER[previousUnit] !== undefined && t !== "a" && t !== "an") {
      const smaller = SMALLER[previousUnit]!;
      return { seconds: value * smaller, unit: smaller, next: j };
    }
    return undefined;
  }
  j++;
  let seconds = value * unit;
  // "an hour and a half", "a minute and a quarter"
  const after = readFraction(tokens, j);
  if (after && unitAt(tokens, after.next) === undefined && tokens[after.next] !== "of") {
    seconds += after.value * unit;
    j = after.next;
  }
  return { seconds, unit, next: j };
}

/**
 * Parses a spoken duration. Returns seconds (> 0), or undefined when the text is not a duration.
 * Accepts "five minutes", "an hour and a half", "1 hour 15 minutes and 30 seconds", "90 seconds",
 * "a quarter of an hour", "1.5 hours", "1h30m", "half a minute", "one and a half hours".
 */
export function parseDuration(text: string): number | undefined {
  const tokens = tokenize(text).filter((t) => !FILLER.has(t));
  if (tokens.length === 0) return undefined;
  let total = 0;
  let i = 0;
  let previousUnit: number | undefined;
  let parts = 0;
  while (i < tokens.length) {
    if (tokens[i] === "and" && parts > 0) {
      i++;
      continue;
    }
    const part = readPart(tokens, i, previousUnit);
    if (!part) return undefined;
    total += part.seconds;
    previousUnit = part.unit;
    i = part.next;
    parts++;
  }
  if (!(total > 0) || !Number.isFinite(total)) return undefined;
  return Math.round(total);
}

/** True when the text is only a bare number ("5"): a duration without a unit. */
export function isBareNumber(text: string): boolean {
  const tokens = tokenize(text).filter((t) => !FILLER.has(t));
  if (tokens.length === 0) return false;
  if (tokens.length === 1 && isDigits(tokens[0])) return true;
  const n = readNumber(tokens, 0);
  return n !== undefined && n.next === tokens.length;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** 5400 -> "1 hour 30 minutes"; 90 -> "1 minute 30 seconds"; at most the two largest units. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  if (s === 0) return "0 seconds";
  const units: Array<[number, string]> = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
    [1, "second"],
  ];
  const parts: string[] = [];
  let rest = s;
  for (const [size, name] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(plural(n, name));
    if (parts.length === 2) break;
    if (parts.length === 1 && n === 0) break; // "1 hour 5 seconds" reads oddly; stop at a gap
  }
  return parts.join(" ");
}

/** A coarse "how long ago" for late events: seconds under a minute, then whole minutes, then hours. */
export function formatAgo(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return plural(s, "second");
  const m = Math.round(s / 60);
  if (m < 60) return plural(m, "minute");
  return formatDuration(Math.round(s / 60) * 60);
}
