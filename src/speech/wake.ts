// The wake phrase ("hey needle"): does a transcript (partial or final) begin with it? Recognisers mishear
// a made-up word ("hey noodle", "a needle"), so a phrase matches within a small edit distance.
import { distance } from "fastest-levenshtein";
import { transcriptWords } from "./normalize.js";

export type WakeMatch =
  /** Too few words yet to tell (a partial result). */
  | { kind: "undecided" }
  | { kind: "no" }
  /** Matched: `rest` is what follows the phrase (the command, possibly empty). */
  | { kind: "yes"; phrase: string; rest: string };

export class WakePhrases {
  private readonly phrases: string[][];

  constructor(phrases: string[]) {
    this.phrases = phrases.map((p) => transcriptWords(p.replace(/[^\p{L}\p{N}'\s-]/gu, " "))).filter((p) => p.length > 0);
    if (this.phrases.length === 0) throw new Error("voice.wake_phrase: at least one non-empty phrase is needed");
  }

  /** The words the recogniser should know (for grammar mode). */
  get words(): string[] {
    return [...new Set(this.phrases.flat())];
  }

  get list(): string[] {
    return this.phrases.map((p) => p.join(" "));
  }

  /** `final`: the transcript is complete (a short one cannot become a match later). */
  match(text: string, final: boolean): WakeMatch {
    const words = transcriptWords(text);
    let undecided = false;
    let best: { d: number; phrase: string; n: number } | undefined;
    for (const phrase of this.phrases) {
      const want = phrase.join(" ");
      // Also one word more or fewer ("hey need all" for "hey needle"); the closest reading wins.
      for (const n of [phrase.length, phrase.length + 1, phrase.length - 1]) {
        if (n < 1) continue;
        if (words.length < n) {
          if (!final) undecided = true;
          continue;
        }
        // Compared without spaces: a recogniser splits an unknown word anywhere ("need all").
        const d = distance(words.slice(0, n).join(""), phrase.join(""));
        if (d <= tolerance(want) && (!best || d < best.d || (d === best.d && n > best.n))) best = { d, phrase: want, n };
      }
    }
    if (best) return { kind: "yes", phrase: best.phrase, rest: words.slice(best.n).join(" ") };
    return undecided ? { kind: "undecided" } : { kind: "no" };
  }
}

/** Edits allowed: 30% of the phrase's characters ("hey needle": 3), at least 1. */
function tolerance(phrase: string): number {
  return Math.max(1, Math.round(phrase.length * 0.3));
}
