// Spoken-number reading shared by the duration and clock-time parsers.
// Pure: strings in, numbers out.

const SMALL: Record<string, number> = {
  zero: 0, oh: 0, o: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16, seventeen: 17,
  eighteen: 18, nineteen: 19,
};
const TENS: Record<string, number> = {
  twenty: 20, thirty: 30, forty: 40, fourty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
};

/** Lower-cases, splits "1h30m"/"8min", turns hyphens and punctuation into spaces, and returns the words. */
export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/½/g, " and a half ")
    .replace(/\b(\d+)\s*([ap])\.?\s*m\b\.?/g, "$1 $2m") // 7pm, 7 p.m.
    .replace(/\b([ap])\.\s*m\./g, "$1m")
    .replace(/(\d)([a-z])/g, "$1 $2")
    .replace(/([a-z])(\d)/g, "$1 $2")
    .replace(/o'clock|o clock/g, "oclock")
    .replace(/[^a-z0-9.:' ]+/g, " ")
    .replace(/'s\b/g, "")
    .replace(/'/g, "")
    .replace(/(^|\s)\.+|\.+(\s|$)/g, " ")
    .split(/\s+/)
    .filter((t) => t.length > 0);
}

export interface NumberRead {
  value: number;
  /** Index of the first token after the number. */
  next: number;
}

export function isDigits(token: string | undefined): boolean {
  return token !== undefined && /^\d+(\.\d+)?$/.test(token);
}

/**
 * Reads a cardinal number at tokens[i]: digits ("90", "1.5"), words ("twenty five", "a hundred and twenty").
 * "a"/"an" are not read here (their meaning depends on what follows).
 */
export function readNumber(tokens: string[], i: number): NumberRead | undefined {
  const t = tokens[i];
  if (t === undefined) return undefined;
  if (isDigits(t)) return { value: Number(t), next: i + 1 };
  let total = 0;
  let current = 0;
  let j = i;
  let any = false;
  while (j < tokens.length) {
    const w = tokens[j]!;
    if (w in SMALL && w !== "o" && w !== "oh") {
      if (any && current % 10 !== 0) break; // "five six" is two numbers
      if (any && current >= 20 && SMALL[w]! >= 10) break;
      if (any && current > 0 && current < 20) break;
      current += SMALL[w]!;
      any = true;
      j++;
    } else if (w in TENS) {
      if (any && current % 100 !== 0) break;
      current += TENS[w]!;
      any = true;
      j++;
    } else if (w === "hundred" && any) {
      current = (current === 0 ? 1 : current) * 100;
      j++;
      if (tokens[j] === "and" && (tokens[j + 1]! in SMALL || tokens[j + 1]! in TENS)) j++;
    } else if (w === "thousand" && any) {
      total += (current === 0 ? 1 : current) * 1000;
      current = 0;
      j++;
    } else {
      break;
    }
  }
  if (!any) return undefined;
  return { value: total + current, next: j };
}

/** Reads a small number written as a word or digits, allowing "a"/"an" as one before a noun. */
export function readCount(tokens: string[], i: number): NumberRead | undefined {
  const t = tokens[i];
  if (t === "a" || t === "an") return { value: 1, next: i + 1 };
  return readNumber(tokens, i);
}
