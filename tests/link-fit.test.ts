// Fitting reply text to a wearable's screen (src/channels/link/fit.ts): examples and properties.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { clampUtf8, fitText } from "../src/channels/link/fit.js";

const seg = new Intl.Segmenter(undefined, { granularity: "grapheme" });
const width = (s: string) => [...seg.segment(s)].length;

describe("fitText", () => {
  it("wraps at word boundaries", () => {
    expect(fitText("Timer set for 5 minutes.", { lines: 4, columns: 16 })).toEqual({ lines: ["Timer set for 5", "minutes."], truncated: false });
  });

  it("ends the last line with the ellipsis when text is left over", () => {
    const r = fitText("Sorry, my language model is not available right now.", { lines: 2, columns: 16, ellipsis: "..." });
    expect(r).toEqual({ lines: ["Sorry, my", "language..."], truncated: true });
    expect(r.lines.every((l) => width(l) <= 16)).toBe(true);
    expect(r.lines[1]!.endsWith("...")).toBe(true);
  });

  it("cuts at a space to make room for the ellipsis when it can", () => {
    expect(fitText("aaaa bbbb cccc dddd", { lines: 1, columns: 10 })).toEqual({ lines: ["aaaa bbbb…"], truncated: true });
    expect(fitText("aaaa bbbbb cccc", { lines: 1, columns: 10 })).toEqual({ lines: ["aaaa…"], truncated: true });
  });

  it("splits a word longer than a line", () => {
    expect(fitText("abcdefghijkl", { lines: 3, columns: 5 }).lines).toEqual(["abcde", "fghij", "kl"]);
  });

  it("counts user-perceived characters: accents, emoji and flags are one each", () => {
    const r = fitText("café 🇩🇪 👍🏽 ok", { lines: 1, columns: 11 });
    expect(r).toEqual({ lines: ["café 🇩🇪 👍🏽 ok"], truncated: false });
    expect(fitText("e\u0301e\u0301e\u0301", { lines: 1, columns: 3 }).lines).toEqual(["e\u0301e\u0301e\u0301"]);
  });

  it("collapses whitespace, honours newlines and drops blank lines", () => {
    expect(fitText("  a   b\t\tc \n\n\n d  ", { lines: 4, columns: 10 }).lines).toEqual(["a b c", "d"]);
    expect(fitText("", { lines: 2, columns: 10 })).toEqual({ lines: [], truncated: false });
    expect(fitText(" \n ", { lines: 2, columns: 10 })).toEqual({ lines: [], truncated: false });
  });

  it("refuses a screen without room", () => {
    expect(() => fitText("x", { lines: 0, columns: 10 })).toThrow(/lines/);
    expect(() => fitText("x", { lines: 1, columns: 0 })).toThrow(/columns/);
  });

  const text = fc.array(fc.oneof(fc.string({ unit: "grapheme", maxLength: 14 }), fc.constantFrom(" ", "  ", "\n", "\t")), { maxLength: 40 }).map((a) => a.join(""));
  const screen = fc.record({ lines: fc.integer({ min: 1, max: 8 }), columns: fc.integer({ min: 4, max: 40 }), ellipsis: fc.constantFrom("…", "...", ">") });

  it("property: never more lines or wider lines than the screen", () => {
    fc.assert(
      fc.property(text, screen, (t, s) => {
        const r = fitText(t, s);
        expect(r.lines.length).toBeLessThanOrEqual(s.lines);
        for (const l of r.lines) expect(width(l)).toBeLessThanOrEqual(s.columns);
        if (r.truncated) expect(r.lines[r.lines.length - 1]!.endsWith(s.ellipsis)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it("property: when nothing is cut, no character is lost or added (besides whitespace)", () => {
    fc.assert(
      fc.property(text, screen, (t, s) => {
        const r = fitText(t, s);
        if (r.truncated) return;
        expect(r.lines.join("").replace(/\s+/g, "")).toBe(t.replace(/\s+/g, ""));
      }),
      { numRuns: 3000 },
    );
  });

  it("property: text that fits in one line is left as it is", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z]{1,8}( [a-z]{1,8}){0,2}$/), (t) => {
        expect(fitText(t, { lines: 1, columns: 40 })).toEqual({ lines: [t], truncated: false });
      }),
    );
  });
});

describe("clampUtf8", () => {
  it("never splits a character and never exceeds the byte limit", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 100 }), fc.integer({ min: 0, max: 300 }), (s, n) => {
        const c = clampUtf8(s, n);
        expect(Buffer.byteLength(c)).toBeLessThanOrEqual(n);
        expect(s.startsWith(c)).toBe(true);
      }),
    );
    expect(clampUtf8("€€€", 7)).toBe("€€");
  });
});
