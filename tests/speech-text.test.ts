// Recognised text for the model: normalisation, the wake phrase, the grammar built from the tools.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildGrammar, numberToWords, spokenForm, type GrammarTool } from "../src/speech/grammar.js";
import { normalizeTranscript } from "../src/speech/normalize.js";
import { WakePhrases } from "../src/speech/wake.js";
import { ROOT } from "./speech-helpers.js";

describe("normalizeTranscript", () => {
  it.each([
    ["set a timer for five minutes", "set a timer for 5 minutes"],
    ["set the living room to twenty one degrees", "set the living room to 21 degrees"],
    ["dim the bedroom to thirty percent", "dim the bedroom to 30 percent"],
    ["wake me up at six forty five tomorrow", "wake me up at 6:45 tomorrow"],
    ["set an alarm for seven oh five", "set an alarm for 7:05"],
    ["set an alarm for seven thirty on weekdays", "set an alarm for 7:30 on weekdays"],
    ["set it to twenty two point five degrees", "set it to 22.5 degrees"],
    ["a timer for one hundred and five seconds", "a timer for 105 seconds"],
    ["two thousand three hundred steps", "2300 steps"],
    ["a hundred meters", "100 meters"],
    ["five and a half minutes", "5 and a half minutes"],
    ["an hour and a half", "an hour and a half"],
    ["turn on the one in the kitchen", "turn on the one in the kitchen"],
    ["set a timer for one minute", "set a timer for 1 minute"],
    ["remind me at one pm", "remind me at 1 pm"],
    ["call one two three", "call one 2 3"],
    ["twenty-one degrees", "21 degrees"],
  ])("%s -> %s", (spoken, typed) => {
    expect(normalizeTranscript(spoken)).toBe(typed);
  });

  it("drops [unk], collapses spaces and lower-cases", () => {
    expect(normalizeTranscript("  [unk] Turn ON  the [unk] lights <unk> ")).toBe("turn on the lights");
    expect(normalizeTranscript("[unk]")).toBe("");
  });

  it("leaves numbers as words when asked", () => {
    expect(normalizeTranscript("set a timer for five minutes [unk]", { numbers: "words" })).toBe("set a timer for five minutes");
  });
});

describe("WakePhrases", () => {
  const wake = new WakePhrases(["hey needle"]);

  it("matches the phrase at the start and returns the command after it", () => {
    expect(wake.match("hey needle set a timer for five minutes", true)).toEqual({ kind: "yes", phrase: "hey needle", rest: "set a timer for five minutes" });
    expect(wake.match("hey needle", true)).toEqual({ kind: "yes", phrase: "hey needle", rest: "" });
  });

  it("forgives a misheard made-up word, but not another sentence", () => {
    expect(wake.match("hey noodle turn on the lights", true)).toMatchObject({ kind: "yes", rest: "turn on the lights" });
    expect(wake.match("a needle turn on the lights", true)).toMatchObject({ kind: "yes", rest: "turn on the lights" });
    expect(wake.match("hey need all turn on the lights", true)).toMatchObject({ kind: "yes", rest: "turn on the lights" });
    expect(wake.match("turn on the lights", true)).toEqual({ kind: "no" });
    expect(wake.match("hello there", true)).toEqual({ kind: "no" });
  });

  it("waits on a partial result too short to tell, and rejects one that cannot become the phrase", () => {
    expect(wake.match("hey", false)).toEqual({ kind: "undecided" });
    expect(wake.match("", false)).toEqual({ kind: "undecided" });
    expect(wake.match("set a timer", false)).toEqual({ kind: "no" });
    expect(wake.match("hey", true)).toEqual({ kind: "no" });
  });

  it("takes several configured phrases and refuses an empty list", () => {
    const w = new WakePhrases(["hey needle", "computer"]);
    expect(w.match("computer lights off", true)).toMatchObject({ kind: "yes", phrase: "computer", rest: "lights off" });
    expect(() => new WakePhrases(["  ", "!"])).toThrow(/at least one non-empty phrase/);
  });
});

describe("grammar mode", () => {
  const tools: GrammarTool[] = ["timers", "navigation", "smarthome"].flatMap(
    (p) => JSON.parse(readFileSync(join(ROOT, "tools", p, "tools.json"), "utf8")) as GrammarTool[],
  );

  it("spells numbers, clock times and percentages as spoken", () => {
    expect(numberToWords(105)).toBe("one hundred and five");
    expect(numberToWords(2300)).toBe("two thousand three hundred");
    expect(spokenForm("wake me up at 6:45 tomorrow")).toBe("wake me up at six forty five tomorrow");
    expect(spokenForm("alarm at 7:05")).toBe("alarm at seven oh five");
    expect(spokenForm("at 7:00")).toBe("at seven o'clock");
    expect(spokenForm("dim to 50%")).toBe("dim to fifty percent");
    expect(spokenForm("set it to 20.5")).toBe("set it to twenty point five");
  });

  it("is built from the built-in tools' examples and vocabulary, the wake phrase and config phrases", () => {
    const wake = new WakePhrases(["hey needle"]);
    const g = buildGrammar({ tools, wakeWords: wake.words, phrases: ["Movie Night", "the garden shed"] });
    // Examples in spoken form.
    expect(g).toContain("set a timer for five minutes");
    expect(g).toContain("wake me up at six forty five tomorrow");
    // Config phrases, the wake phrase, confirmations.
    expect(g).toContain("movie night");
    expect(g).toContain("the garden shed");
    expect(g).toContain("hey needle");
    expect(g).toContain("do it");
    // Single words: enum values (navigation modes), argument names, number words.
    for (const w of ["walking", "cycling", "transit", "brightness", "temperature", "forty", "hundred", "needle"]) expect(g).toContain(w);
    // Nothing Vosk cannot take: no digits, no punctuation, no duplicates, "[unk]" last.
    expect(g.filter((p) => /[0-9%:._]/.test(p))).toEqual([]);
    expect(new Set(g).size).toBe(g.length);
    expect(g.at(-1)).toBe("[unk]");
  });
});
