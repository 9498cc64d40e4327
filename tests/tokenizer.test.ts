// The SentencePiece tokenizer against ids that Python sentencepiece 0.1.97 produced for the same models
// (tests/fixtures/tokenizer/expected.json, written by make_fixtures.py), plus hand-built models for the
// algorithm's corner cases and for broken model files.
import { readFileSync } from "node:fs";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { SentencePieceTokenizer } from "../src/engine/sentencepiece.js";
import { EngineError } from "../src/engine/types.js";
import { buildModel, SPECIALS } from "./fixtures/tokenizer/build-model.js";

const DIR = join(import.meta.dirname, "fixtures", "tokenizer");

interface ModelExpectation {
  vocab_size: number;
  pieces: string[] | null;
  ids: number[][];
  decoded: string[];
  fragment_ids?: number[][];
  decode: { ids: number[]; text: string }[];
}
const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as {
  sentencepiece: string;
  corpus: string[];
  models: Record<string, ModelExpectation>;
};

const tokenizers = new Map<string, SentencePieceTokenizer>();
function tokenizer(name: string): SentencePieceTokenizer {
  let t = tokenizers.get(name);
  if (!t) {
    t = SentencePieceTokenizer.fromBytes(readFileSync(join(DIR, name)), name);
    tokenizers.set(name, t);
  }
  return t;
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

function engineError(fn: () => unknown, code: EngineError["code"], message?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(EngineError);
  expect((caught as EngineError).code).toBe(code);
  if (message) expect((caught as EngineError).message).toMatch(message);
}

describe("against Python sentencepiece 0.1.97 (committed expectations)", () => {
  test("the fixture was made by sentencepiece 0.1.97 and covers the required kinds of text", () => {
    expect(expected.sentencepiece).toBe("0.1.97");
    const c = expected.corpus;
    expect(c.length).toBeGreaterThan(150);
    expect(c.some((s) => s.includes("<tools>") && s.length > 10)).toBe(true);
    expect(c.some((s) => /\s{3,}/.test(s))).toBe(true);
    expect(c.some((s) => s.startsWith(" ") && s.endsWith(" "))).toBe(true);
    expect(c.some((s) => /\p{Extended_Pictographic}/u.test(s))).toBe(true);
    expect(c.some((s) => s.startsWith("[{\"name\"") && s.includes("\\u"))).toBe(true);
    expect(c.some((s) => s.length >= 4000 && s.startsWith("[{"))).toBe(true);
  });

  for (const [name, exp] of Object.entries(expected.models)) {
    describe(name, () => {
      test("vocabulary size", () => {
        expect(tokenizer(name).vocabSize).toBe(exp.vocab_size);
      });

      test("encode gives exactly sentencepiece's ids on every corpus text", () => {
        const tok = tokenizer(name);
        const mismatches = expected.corpus
          .map((text, i) => ({ text, got: tok.encode(text), want: exp.ids[i] }))
          .filter((m) => JSON.stringify(m.got) !== JSON.stringify(m.want));
        expect(mismatches).toEqual([]);
      });

      test("decode gives exactly sentencepiece's text for the corpus ids", () => {
        const tok = tokenizer(name);
        expected.corpus.forEach((_, i) => expect(tok.decode(exp.ids[i]!)).toBe(exp.decoded[i]));
      });

      test("decode of random id sequences (byte pieces, specials, ▁-pieces) matches sentencepiece", () => {
        const tok = tokenizer(name);
        expect(exp.decode.length).toBeGreaterThan(100);
        for (const c of exp.decode) expect(tok.decode(c.ids)).toBe(c.text);
      });

      if (exp.fragment_ids) {
        test("encodeNoDummyPrefix equals sentencepiece with add_dummy_prefix and remove_extra_whitespaces off", () => {
          const tok = tokenizer(name);
          expected.corpus.forEach((text, i) => expect(tok.encodeNoDummyPrefix(text)).toEqual(exp.fragment_ids![i]));
        });
      }
    });
  }

  test("needle-8k: the piece of every id equals sentencepiece's id_to_piece", () => {
    const tok = tokenizer("needle-8k.model");
    const pieces = expected.models["needle-8k.model"]!.pieces!;
    expect(pieces).toHaveLength(8192);
    pieces.forEach((p, id) => {
      expect(tok.idToPiece(id)).toBe(p);
      expect(tok.pieceToId(p)).toBe(id);
    });
  });
});

describe("Needle's vocabulary layout and the grammar helpers", () => {
  const tok = tokenizer("needle-8k.model");

  test("special ids and user symbols are where Needle has them", () => {
    expect(tok.vocabSize).toBe(8192);
    expect([tok.padId, tok.eosId, tok.bosId, tok.unkId]).toEqual([0, 1, 2, 3]);
    expect(tok.pieceToId("<tool_call>")).toBe(4);
    expect(tok.pieceToId("<tools>")).toBe(5);
    expect(tok.pieceKind(4)).toBe("user_defined");
    expect(tok.pieceKind(1)).toBe("control");
    expect(tok.pieceKind(3)).toBe("unknown");
    expect(tok.pieceKind(tok.pieceToId("<0x41>")!)).toBe("byte");
    expect(tok.byteFallback).toBe(true);
    expect(tok.normalizationName).toBe("identity");
    expect(tok.normalizerOptions).toEqual({ addDummyPrefix: true, removeExtraWhitespaces: true, escapeWhitespaces: true });
    expect(tok.pieceToId("no such piece")).toBeUndefined();
  });

  test("user-defined symbols are matched first, even inside words", () => {
    const ids = tok.encode("find<tools>x <tool_call>");
    expect(ids).toContain(5);
    expect(ids).toContain(4);
    expect(tok.decode(ids)).toBe("find<tools>x <tool_call>");
  });

  test("pieceBytes: ▁ is a space, byte pieces are one byte, control and unk pieces are empty", () => {
    const space = tok.pieceToId("▁")!;
    expect([...tok.pieceBytes(space)]).toEqual([0x20]);
    expect([...tok.pieceBytes(tok.pieceToId("<0xF0>")!)]).toEqual([0xf0]);
    expect(tok.pieceBytes(tok.eosId)).toHaveLength(0);
    expect(tok.pieceBytes(tok.unkId)).toHaveLength(0);
    expect(new TextDecoder().decode(tok.pieceBytes(4))).toBe("<tool_call>");
    const word = tok.encodeNoDummyPrefix("München")[0]!;
    expect(new TextDecoder().decode(tok.pieceBytes(word))).toBe(tok.idToPiece(word).replaceAll("▁", " "));
  });

  // A literal U+2581 in the text is indistinguishable from a space once tokenized (as in sentencepiece).
  const plain = expected.corpus.filter((t) => !t.includes("\u2581"));

  test("the pieceBytes of encodeNoDummyPrefix(text) concatenate to text's UTF-8 for every corpus text", () => {
    expect(plain.length).toBeGreaterThan(150);
    for (const text of plain) {
      const bytes = concatBytes(tok.encodeNoDummyPrefix(text).map((id) => tok.pieceBytes(id)));
      expect(Buffer.from(bytes).toString("utf8")).toBe(text);
    }
  });

  test("the pieceBytes of encode(text) are a space plus what decode gives", () => {
    for (const text of plain) {
      const ids = tok.encode(text);
      if (ids.length === 0) continue;
      const bytes = Buffer.from(concatBytes(ids.map((id) => tok.pieceBytes(id))));
      expect(bytes.toString("utf8")).toBe(" " + tok.decode(ids));
    }
  });

  test("an emoji outside the vocabulary falls back to its UTF-8 bytes and decodes back", () => {
    const ids = tok.encode("🦩");
    const pieces = ids.map((id) => tok.idToPiece(id));
    expect(pieces).toEqual(["▁", "<0xF0>", "<0x9F>", "<0xA6>", "<0xA9>"]);
    expect(tok.decode(ids)).toBe("🦩");
  });

  test("a 4 kB tool JSON round-trips through encode/decode", () => {
    const json = expected.corpus.find((s) => s.length >= 4000 && s.startsWith("[{"))!;
    const ids = tok.encode(json);
    expect(ids.length).toBeLessThan(json.length / 2);
    expect(tok.decode(ids)).toBe(json);
  });
});

describe("the BPE algorithm on hand-built models", () => {
  test("equal scores merge the leftmost pair first: 'aaa' -> 'aa' 'a'", () => {
    const tok = SentencePieceTokenizer.fromBytes(
      buildModel({
        pieces: [...SPECIALS, { piece: "aa", score: -1 }, { piece: "a", score: -2 }, { piece: "▁", score: -3 }],
        normalizer: { addDummyPrefix: false },
      }),
    );
    expect(tok.encode("aaa").map((id) => tok.idToPiece(id))).toEqual(["aa", "a"]);
    expect(tok.encode("aaaaa").map((id) => tok.idToPiece(id))).toEqual(["aa", "aa", "a"]);
  });

  test("the highest-scoring merge wins over an earlier one", () => {
    const tok = SentencePieceTokenizer.fromBytes(
      buildModel({
        pieces: [
          ...SPECIALS,
          { piece: "bc", score: -1 },
          { piece: "ab", score: -2 },
          { piece: "a", score: -3 },
          { piece: "b", score: -4 },
          { piece: "c", score: -5 },
        ],
        normalizer: { addDummyPrefix: false },
      }),
    );
    expect(tok.encode("abc").map((id) => tok.idToPiece(id))).toEqual(["a", "bc"]);
  });

  test("without byte fallback a run of unknown characters is one <unk>, decoded as ' ⁇ '", () => {
    const tok = SentencePieceTokenizer.fromBytes(
      buildModel({ pieces: [...SPECIALS, { piece: "a", score: -1 }, { piece: "▁", score: -2 }] }),
    );
    // <unk> 0, <s> 1, </s> 2, a 3, ▁ 4: "▁a▁xyz▁a" -> ▁ a ▁ <unk> ▁ a
    expect(tok.encode("a xyz a")).toEqual([4, 3, 4, 0, 4, 3]);
    expect(tok.decode([4, 3, 4, 0, 4, 3])).toBe("a  \u2047  a");
  });
});

describe("bad input and broken models", () => {
  const tok = tokenizer("needle-8k.model");

  test("empty and all-space text encode to no tokens", () => {
    expect(tok.encode("")).toEqual([]);
    expect(tok.encode("    ")).toEqual([]);
    expect(tok.decode([])).toBe("");
  });

  test("a 100 kB text encodes (and decodes back to its normalised form)", () => {
    const text = ("Turn on the kitchen lights at 7:30, please! Ünïcödé 🙂  ".repeat(2000)).slice(0, 100_000);
    const ids = tok.encode(text);
    expect(ids.length).toBeGreaterThan(10_000);
    expect(tok.decode(ids)).toBe(text.replace(/ +/g, " ").trim());
  });

  test("lone surrogates are encoded as U+FFFD, as sentencepiece does with malformed UTF-8", () => {
    expect(tok.encode("a\uD800b")).toEqual(tok.encode("a\uFFFDb"));
  });

  test("non-string text and out-of-range ids are BAD_INPUT errors", () => {
    engineError(() => tok.encode(42 as unknown as string), "BAD_INPUT", /string/);
    engineError(() => tok.decode([1, 8192]), "BAD_INPUT", /8192/);
    engineError(() => tok.decode([-1]), "BAD_INPUT");
    engineError(() => tok.decode([1.5]), "BAD_INPUT");
    engineError(() => tok.idToPiece(99999), "BAD_INPUT");
    engineError(() => tok.pieceBytes(-3), "BAD_INPUT");
  });

  test("garbage and truncated files are MODEL_INVALID; a missing file is MODEL_MISSING", async () => {
    engineError(() => SentencePieceTokenizer.fromBytes(new Uint8Array([0xff, 0xff, 0xff])), "MODEL_INVALID", /not a SentencePiece model/);
    engineError(() => SentencePieceTokenizer.fromBytes(new Uint8Array(0)), "MODEL_INVALID", /no pieces/);
    const good = readFileSync(join(DIR, "bpe-1k.model"));
    engineError(() => SentencePieceTokenizer.fromBytes(good.subarray(0, good.length - 7)), "MODEL_INVALID");
    engineError(() => SentencePieceTokenizer.fromBytes(new TextEncoder().encode("{\"not\": \"a model\"}")), "MODEL_INVALID");
    await expect(SentencePieceTokenizer.load(join(DIR, "missing.model"))).rejects.toMatchObject({ code: "MODEL_MISSING" });
    const dir = mkdtempSync(join(tmpdir(), "needled-tok-"));
    writeFileSync(join(dir, "bad.model"), "hello");
    await expect(SentencePieceTokenizer.load(join(dir, "bad.model"))).rejects.toMatchObject({ code: "MODEL_INVALID" });
    await expect(SentencePieceTokenizer.load(join(DIR, "bpe-1k.model"))).resolves.toBeInstanceOf(SentencePieceTokenizer);
  });

  test("models the tokenizer cannot reproduce exactly are refused with the reason", () => {
    const base = [...SPECIALS, { piece: "a", score: -1 }];
    engineError(() => SentencePieceTokenizer.fromBytes(buildModel({ pieces: base, modelType: 1 })), "MODEL_INVALID", /not BPE/);
    engineError(
      () => SentencePieceTokenizer.fromBytes(buildModel({ pieces: base, normalizer: { name: "nmt_nfkc", charsmap: new Uint8Array([1, 2, 3, 4, 5]) } })),
      "MODEL_INVALID",
      /nmt_nfkc.*identity/,
    );
    engineError(() => SentencePieceTokenizer.fromBytes(buildModel({ pieces: base.slice(1) })), "MODEL_INVALID", /no <unk>/);
    engineError(() => SentencePieceTokenizer.fromBytes(buildModel({ pieces: [...base, { piece: "a" }] })), "MODEL_INVALID", /twice/);
    engineError(() => SentencePieceTokenizer.fromBytes(buildModel({ pieces: [...base, { piece: "" }] })), "MODEL_INVALID", /empty/);
    engineError(
      () => SentencePieceTokenizer.fromBytes(buildModel({ pieces: [...base, { piece: "<0x41>", type: 6 }], byteFallback: true })),
      "MODEL_INVALID",
      /256 byte pieces/,
    );
    engineError(
      () => SentencePieceTokenizer.fromBytes(buildModel({ pieces: [...base, { piece: "<0x41>", type: 6 }] })),
      "MODEL_INVALID",
      /byte_fallback is off/,
    );
  });
});
