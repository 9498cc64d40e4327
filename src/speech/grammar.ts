// Grammar mode: a Vosk grammar (a JSON list of phrases) that limits recognition to what the hub can act
// on. Smaller search, fewer misheard words on a Pi. Built from
//   - the tools' examples (every plugin's `examples`, numbers spelled out as a speaker says them),
//   - the tools' vocabulary (names, descriptions, parameter names, enum values, split into words),
//   - number words, confirmation words, the wake phrase(s), and phrases from the config (room and device
//     names: `voice.grammar_phrases`),
//   - "[unk]", so that speech outside the grammar comes back as unknown instead of a forced match.
// Vosk ignores (with a warning) words its model does not know, so over-including is harmless.
import type { JsonSchema } from "../plugins/api.js";

export interface GrammarTool {
  name: string;
  description?: string;
  parameters?: JsonSchema;
  examples?: string[];
}

const NUMBER_WORDS = [
  "zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
  "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty", "thirty", "forty",
  "fifty", "sixty", "seventy", "eighty", "ninety", "hundred", "thousand", "point", "and", "a", "half", "quarter",
  "percent", "degrees", "am", "pm", "o'clock",
];
const CONFIRM_WORDS = ["yes", "no", "confirm", "cancel", "do it", "stop", "never mind"];

const SMALL = NUMBER_WORDS.slice(2, 22); // one .. nineteen
const TENS_WORDS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];

/** 0 <= n < 1e6 in words ("two hundred and five"). */
export function numberToWords(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n >= 1_000_000) return String(n);
  if (n === 0) return "zero";
  const parts: string[] = [];
  if (n >= 1000) {
    parts.push(numberToWords(Math.floor(n / 1000)), "thousand");
    n %= 1000;
    if (n > 0 && n < 100) parts.push("and");
  }
  if (n >= 100) {
    parts.push(SMALL[Math.floor(n / 100) - 1]!, "hundred");
    n %= 100;
    if (n > 0) parts.push("and");
  }
  if (n >= 20) {
    parts.push(TENS_WORDS[Math.floor(n / 10)]!);
    n %= 10;
  }
  if (n > 0) parts.push(SMALL[n - 1]!);
  return parts.join(" ");
}

/** A typed phrase as spoken words: "6:45" -> "six forty five", "8" -> "eight", "50%" -> "fifty percent". */
export function spokenForm(text: string): string {
  return text
    .toLowerCase()
    .replace(/(\d{1,2}):(\d{2})/g, (_m, h: string, m: string) =>
      Number(m) === 0 ? `${numberToWords(Number(h))} o'clock` : `${numberToWords(Number(h))} ${Number(m) < 10 ? "oh " : ""}${numberToWords(Number(m))}`,
    )
    .replace(/(\d+)\.(\d+)/g, (_m, a: string, b: string) => `${numberToWords(Number(a))} point ${[...b].map((d) => numberToWords(Number(d))).join(" ")}`)
    .replace(/%/g, " percent")
    .replace(/\d+/g, (d) => numberToWords(Number(d)))
    .replace(/[^a-z'\s]/g, " ")
    .replace(/\s+/g, " ")
    .trim();
}

function schemaWords(schema: unknown, into: Set<string>): void {
  if (!schema || typeof schema !== "object") return;
  const s = schema as Record<string, unknown>;
  for (const v of [...(Array.isArray(s.enum) ? s.enum : []), ...(s.const !== undefined ? [s.const] : [])]) {
    if (typeof v === "string") into.add(spokenForm(v.replace(/_/g, " ")));
  }
  if (s.properties && typeof s.properties === "object") {
    for (const [k, v] of Object.entries(s.properties as Record<string, unknown>)) {
      into.add(spokenForm(k.replace(/_/g, " ")));
      schemaWords(v, into);
    }
  }
  if (s.items) schemaWords(s.items, into);
}

export interface GrammarInput {
  tools: GrammarTool[];
  wakeWords?: string[];
  /** More phrases (room names, device names, scenes). */
  phrases?: string[];
}

/** The grammar: phrases first, then every single word of them, then "[unk]"; no duplicates, no empties. */
export function buildGrammar(input: GrammarInput): string[] {
  const phrases = new Set<string>();
  for (const t of input.tools) {
    for (const e of t.examples ?? []) phrases.add(spokenForm(e));
  }
  for (const p of input.phrases ?? []) phrases.add(spokenForm(p));
  for (const p of CONFIRM_WORDS) phrases.add(p);
  if (input.wakeWords?.length) phrases.add(input.wakeWords.join(" "));

  const vocabulary = new Set<string>();
  for (const t of input.tools) {
    vocabulary.add(spokenForm(t.name.replace(/_/g, " ")));
    if (t.description) vocabulary.add(spokenForm(t.description));
    schemaWords(t.parameters, vocabulary);
  }
  const words = new Set<string>(NUMBER_WORDS);
  for (const p of [...phrases, ...vocabulary]) for (const w of p.split(" ")) if (w) words.add(w);
  for (const w of input.wakeWords ?? []) words.add(w);

  const out = [...phrases].filter((p) => p.includes(" "));
  const seen = new Set(out);
  for (const w of words) {
    if (w && !seen.has(w)) {
      out.push(w);
      seen.add(w);
    }
  }
  out.push("[unk]");
  return out;
}
