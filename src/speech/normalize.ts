// Recognised text -> text for the model. Vosk writes lower-case words, numbers spelled out ("twenty one",
// "six forty five") and "[unk]" for what it could not place. The model reads typed commands best, and the
// built-in tools' examples write numbers as digits ("8 minutes", "6:45", "30 percent"), so:
//   - "[unk]"/"<unk>" are dropped, spaces collapsed, everything lower-case;
//   - cardinal numbers become digits ("one hundred and five" -> 105, "twenty two point five" -> 22.5);
//   - an hour followed by minutes becomes a clock time ("six forty five" -> 6:45, "seven oh five" -> 7:05);
//   - a lone "one" stays a word unless a unit follows ("the one in the kitchen", but "one minute" -> 1 minute).
// Values stay spans of what was said (the Needle convention): only the spelling of numbers changes.

export interface NormalizeOptions {
  /** "digits" (default) or "words" (leave numbers as Vosk wrote them). */
  numbers?: "digits" | "words";
}

const UNITS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
};
const TEENS: Record<string, number> = {
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20, thirty: 30, forty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};
const SCALES: Record<string, number> = { thousand: 1000, million: 1_000_000 };

/** Words after which a lone "one" is a quantity. */
const UNIT_WORDS = new Set([
  "second", "seconds", "minute", "minutes", "hour", "hours", "day", "days", "week", "weeks", "month", "months",
  "year", "years", "percent", "degree", "degrees", "am", "pm", "a.m.", "p.m.", "o'clock", "point", "hundred",
  "thousand", "mile", "miles", "kilometer", "kilometers", "kilometre", "kilometres", "meter", "meters",
]);

const isNumberWord = (w: string | undefined) =>
  w !== undefined && (w in UNITS || w in TEENS || w in TENS || w === "hundred" || w in SCALES);

type Kind = "none" | "unit" | "teen" | "tens" | "tensunit" | "hundred" | "scale" | "and";

interface Parsed {
  value: number;
  /** Index after the last word used. */
  end: number;
  /** Words used. */
  count: number;
  /** The kind of the first word, and whether the whole number is a single word. */
  single: boolean;
  last: Kind;
}

/** A cardinal number starting at words[i] (English grammar: "two hundred and thirty one thousand ..."). */
function parseCardinal(words: string[], i: number): Parsed | undefined {
  let total = 0;
  let group = 0;
  let last: Kind = "none";
  let j = i;
  // "a hundred", "a thousand"
  if (words[j] === "a" && (words[j + 1] === "hundred" || words[j + 1] === "thousand")) {
    group = 1;
    last = "unit";
    j++;
  }
  for (; j < words.length; j++) {
    const w = words[j]!;
    if (w === "zero") {
      if (last !== "none") break;
      group = 0;
      last = "unit";
      j++;
      break; // "zero" stands alone
    }
    if (w in UNITS) {
      if (!["none", "tens", "hundred", "scale", "and"].includes(last)) break;
      group += UNITS[w]!;
      last = last === "tens" ? "tensunit" : "unit";
    } else if (w in TEENS) {
      if (!["none", "hundred", "scale", "and"].includes(last)) break;
      group += TEENS[w]!;
      last = "teen";
    } else if (w in TENS) {
      if (!["none", "hundred", "scale", "and"].includes(last)) break;
      group += TENS[w]!;
      last = "tens";
    } else if (w === "hundred") {
      if (!["unit", "teen"].includes(last) || group >= 100) break;
      group *= 100;
      last = "hundred";
    } else if (w in SCALES) {
      if (["none", "and", "scale"].includes(last) || total % (SCALES[w]! * 1000) !== 0 && total !== 0) break;
      total += group * SCALES[w]!;
      group = 0;
      last = "scale";
    } else if (w === "and") {
      const next = words[j + 1];
      if (!["hundred", "scale"].includes(last) || !(next && (next in UNITS || next in TEENS || next in TENS))) break;
      last = "and";
    } else {
      break;
    }
  }
  if (last === "none") return undefined;
  if (last === "and") j--; // never end on "and"
  const count = j - i;
  return { value: total + group, end: j, count, single: count === 1, last };
}

/** Minutes after an hour: "oh five" (5), "fifteen", "forty five"; 1..59. */
function parseMinutes(words: string[], i: number): { value: number; end: number } | undefined {
  const w = words[i];
  if (w === undefined) return undefined;
  if ((w === "oh" || w === "o") && words[i + 1] !== undefined && words[i + 1]! in UNITS && UNITS[words[i + 1]!]! > 0) {
    return { value: UNITS[words[i + 1]!]!, end: i + 2 };
  }
  if (w in TEENS) return { value: TEENS[w]!, end: i + 1 };
  if (w in TENS && TENS[w]! < 60) {
    const n = words[i + 1];
    if (n !== undefined && n in UNITS && UNITS[n]! > 0) return { value: TENS[w]! + UNITS[n]!, end: i + 2 };
    return { value: TENS[w]!, end: i + 1 };
  }
  return undefined;
}

/** Digits after "point": "point five", "point two five", "point oh five". */
function parseDecimals(words: string[], i: number): { digits: string; end: number } | undefined {
  if (words[i] !== "point") return undefined;
  let digits = "";
  let j = i + 1;
  for (; j < words.length; j++) {
    const w = words[j]!;
    if (w in UNITS) digits += String(UNITS[w]);
    else if (w === "oh") digits += "0";
    else break;
  }
  return digits ? { digits, end: j } : undefined;
}

function numbersToDigits(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; ) {
    const w = words[i]!;
    const startsNumber = isNumberWord(w) || (w === "a" && (words[i + 1] === "hundred" || words[i + 1] === "thousand"));
    const n = startsNumber ? parseCardinal(words, i) : undefined;
    if (!n) {
      out.push(w);
      i++;
      continue;
    }
    // A clock time: an hour word (1..12) followed by minutes.
    if (n.single && (n.last === "unit" || n.last === "teen") && n.value >= 1 && n.value <= 12) {
      const m = parseMinutes(words, n.end);
      if (m && m.value >= 1 && m.value <= 59 && (m.value >= 10 || words[n.end] === "oh" || words[n.end] === "o")) {
        out.push(`${n.value}:${String(m.value).padStart(2, "0")}`);
        i = m.end;
        continue;
      }
    }
    const dec = parseDecimals(words, n.end);
    if (dec) {
      out.push(`${n.value}.${dec.digits}`);
      i = dec.end;
      continue;
    }
    if (w === "one" && n.single && !UNIT_WORDS.has(words[n.end] ?? "")) {
      out.push(w);
      i++;
      continue;
    }
    out.push(String(n.value));
    i = n.end;
  }
  return out;
}

/** The words of a transcript: lower-case, "[unk]" dropped, hyphens between number words split. */
export function transcriptWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/\[unk\]|<unk>/g, " ")
    .split(/\s+/)
    .flatMap((w) => (/^[a-z]+(-[a-z]+)+$/.test(w) && w.split("-").every(isNumberWord) ? w.split("-") : [w]))
    .filter((w) => w.length > 0);
}

/** Recognised text as the model should see it (see the top of this file). */
export function normalizeTranscript(text: string, opts: NormalizeOptions = {}): string {
  const words = transcriptWords(text);
  return (opts.numbers === "words" ? words : numbersToDigits(words)).join(" ");
}
