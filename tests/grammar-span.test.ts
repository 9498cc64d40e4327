// Span values: with a span text, every string value the grammar allows is a span of it (case-insensitive);
// enum/const values, keys and numbers are unaffected. Pure grammar, no model.
import { describe, expect, it } from "vitest";
import { compileGrammar, decodeConstrained, ToolGrammar } from "../src/engine/grammar/index.js";
import { closingBias, enc, greedyTokenizer, makeAjv, randomLogits, rng, syntheticVocabulary, validateAnswer } from "./grammar-helpers.js";

const TOOLS = [
  {
    name: "navigate",
    schema: {
      type: "object",
      properties: { destination: { type: "string" }, mode: { type: "string", enum: ["driving", "walking"] } },
      required: ["destination"],
    },
  },
  {
    name: "note",
    schema: {
      type: "object",
      properties: { text: { type: "string", maxLength: 3 }, tags: { type: "array", items: { type: "string" } }, n: { type: "integer" } },
    },
  },
];

const call = (name: string, args: string) => `[{"name":"${name}","arguments":${args}}]`;

/** `value` occurs in `text` (case-insensitive) with no letter or digit joined to either end. */
function wholeWords(text: string, value: string): boolean {
  const t = text.toLowerCase();
  const v = value.toLowerCase();
  const word = /[\p{L}\p{N}]/u;
  for (let i = t.indexOf(v); i >= 0; i = t.indexOf(v, i + 1)) {
    const j = i + v.length;
    const startOk = i === 0 || !(word.test(t[i - 1]!) && word.test(t[i]!));
    const endOk = j === t.length || !(word.test(t[j - 1]!) && word.test(t[j]!));
    if (startOk && endOk) return true;
  }
  return false;
}

/** `answer` is a whole answer of `g` when the decode's span text is `span` (undefined: free strings). */
function completes(g: ToolGrammar, span: string | undefined, answer: string): boolean {
  const s = g.advanceBytes(g.startState(span), enc.encode(answer));
  return s !== null && g.canEnd(s);
}

describe("span values (byte level)", () => {
  const g = ToolGrammar.compile(TOOLS);
  const ok = (span: string, answer: string) => completes(g, span, answer);
  const said = "Walk me to the Train Station please";

  it("a span of the text, in any case, is accepted; anything else is not", () => {
    expect(ok(said, call("navigate", '{"destination":"the train station"}'))).toBe(true);
    expect(ok(said, call("navigate", '{"destination":"Train Station"}'))).toBe(true);
    expect(ok(said, call("navigate", '{"destination":"TRAIN STATION PLEASE"}'))).toBe(true);
    expect(ok(said, call("navigate", '{"destination":"the bus station"}'))).toBe(false);
    expect(ok(said, call("navigate", '{"destination":"station the"}'))).toBe(false);
    // free strings without a span text
    expect(completes(g, undefined, call("navigate", '{"destination":"the bus station"}'))).toBe(true);
  });

  it("no empty value, no leading space; enum values, numbers and keys are not spans", () => {
    expect(ok(said, call("navigate", '{"destination":""}'))).toBe(false);
    expect(ok(said, call("navigate", '{"destination":" train"}'))).toBe(false);
    expect(ok(said, call("navigate", '{"destination":"train station","mode":"driving"}'))).toBe(true);
    expect(ok(said, call("note", '{"n":42}'))).toBe(true);
    expect(ok(said, call("note", '{"tags":["walk","station"]}'))).toBe(true);
    expect(ok(said, call("note", '{"tags":["bus"]}'))).toBe(false);
  });

  it("maxLength counts characters; a value never ends inside a UTF-8 character; no escapes", () => {
    expect(ok(said, call("note", '{"text":"the"}'))).toBe(true);
    expect(ok(said, call("note", '{"text":"trai"}'))).toBe(false);
    const french = "allume la lumière du salon";
    expect(ok(french, call("navigate", '{"destination":"lumière"}'))).toBe(true);
    expect(ok(french, call("note", '{"text":"du"}'))).toBe(true);
    expect(ok(french, call("note", '{"text":"ère"}'))).toBe(false); // inside a word
    const cut = [...enc.encode(call("navigate", '{"destination":"lumi')), 0xc3, 0x22];
    expect(g.advanceBytes(g.startState(french), Uint8Array.from(cut))).toBeNull();
    expect(ok('say "hi" now', call("navigate", '{"destination":"say \\"hi"}'))).toBe(false);
  });

  it("strings in a machine form (format, pattern) or marked x-needled-span: false stay free", () => {
    const free = ToolGrammar.compile([{
      name: "book",
      schema: {
        type: "object",
        properties: {
          day: { type: "string", format: "date" },
          code: { type: "string", pattern: "^[A-Z]{3}$" },
          lang: { type: "string", "x-needled-span": false },
          city: { type: "string" },
        },
      },
    }]);
    const accepts = (answer: string) => completes(free, "fly me to paris in french on may first", answer);
    expect(accepts(call("book", '{"day":"2026-05-01","code":"CDG","lang":"fr","city":"paris"}'))).toBe(true);
    expect(accepts(call("book", '{"city":"lyon"}'))).toBe(false);
  });

  it("whole words only: a value starts and ends at word boundaries (punctuation and curly apostrophes split words)", () => {
    const typed = "Set Overhead Light to red, in Emma’s room (2nd floor)";
    expect(ok(typed, call("navigate", '{"destination":"overhead light"}'))).toBe(true);
    expect(ok(typed, call("navigate", '{"destination":"Light"}'))).toBe(true);
    expect(ok(typed, call("navigate", '{"destination":"emma"}'))).toBe(true);
    expect(ok(typed, call("navigate", '{"destination":"2nd floor)"}'))).toBe(true);
    expect(ok(typed, call("navigate", '{"destination":"red,"}'))).toBe(true);
    // scripts without spaces: any run of characters ("打开客厅的灯": "客厅", the living room)
    expect(ok("打开客厅的灯", call("navigate", '{"destination":"客厅"}'))).toBe(true);
    expect(ok("打开客厅的灯", call("navigate", '{"destination":"卧室"}'))).toBe(false);
    for (const part of ["verhead", "GH", "overhead l", "ligh", "emma’", "nd floor"]) {
      expect(ok(typed, call("navigate", `{"destination":"${part}"}`)), part).toBe(part === "emma’");
    }
  });

  it("jump-forward copies: where the text allows one continuation, it is forced", () => {
    const s = g.advanceBytes(g.startState("go to zanzibar"), enc.encode('[{"name":"navigate","arguments":{"destination":"zan'));
    expect(new TextDecoder().decode(g.forcedBytes(s!))).toBe("");
    // "zan" continues only as "zibar" (it cannot end inside the word; it may change case)
    expect(s!.candidates()!.sort()).toEqual([0x5a, 0x7a].sort());
    const whole = g.advanceBytes(s!, enc.encode("zibar"));
    expect(whole!.candidates()).toContain(0x22);
  });
});

describe("span values (token level, random logits)", () => {
  const { vocab, pieces } = syntheticVocabulary();
  const encode = greedyTokenizer(pieces);
  const ajv = makeAjv();
  const grammar = compileGrammar(TOOLS, vocab);

  it("every answer validates and each non-enum string value is a span of the text (300 cases)", async () => {
    const texts = ["set the kitchen lights", "walk to the café at 10", "Time: 12 minutes, items a b c", "x"];
    let strings = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(7_000 + seed);
      const text = texts[seed % texts.length]!;
      const bias = closingBias(r, pieces, 1 + 3 * r());
      const res = await decodeConstrained(grammar, randomLogits(r, bias), () => randomLogits(r, bias), {
        usedPositions: 2,
        maxPositions: 512,
        encode,
        spanText: text,
      });
      if (res.status !== "eos") {
        expect(res.calls).toEqual([]);
        continue;
      }
      const err = validateAnswer(ajv, TOOLS, res.text);
      if (err) throw new Error(`seed ${seed}: ${err}`);
      for (const c of res.calls) {
        const a = c.arguments as { destination?: string; text?: string; tags?: string[] };
        for (const v of [a.destination, a.text, ...(a.tags ?? [])]) {
          if (v === undefined) continue;
          strings++;
          expect(v.length).toBeGreaterThan(0);
          expect(text.toLowerCase()).toContain(v.toLowerCase());
          expect(wholeWords(text, v), `${JSON.stringify(v)} is whole words of ${JSON.stringify(text)}`).toBe(true);
        }
      }
    }
    expect(strings).toBeGreaterThan(50);
  });
});
