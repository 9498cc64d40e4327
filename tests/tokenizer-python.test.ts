// Live comparison with Python sentencepiece on random strings (seeded, so a failure is reproducible).
// Needs /usr/bin/python3 with sentencepiece and protobuf (Debian: python3-sentencepiece python3-protobuf);
// skipped where they are missing.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { SentencePieceTokenizer } from "../src/engine/sentencepiece.js";

const DIR = join(import.meta.dirname, "fixtures", "tokenizer");
const PYTHON = "/usr/bin/python3";
const MODELS = [
  "needle-8k.model",
  "bpe-1k.model",
  "bpe-1k-nobyte.model",
  "bpe-1k-verbatim.model",
  "bpe-1k-noescape.model",
  "bpe-1k-keepspaces.model",
  "bpe-1k-unused.model",
];

const hasSentencepiece =
  spawnSync(PYTHON, ["-c", "import sentencepiece\nfrom sentencepiece import sentencepiece_model_pb2"], { stdio: "ignore" }).status === 0;

// For each model: encode every text, decode those ids, encode with the fragment settings, decode id lists.
const ORACLE = String.raw`
import json, sys
import sentencepiece as spm
from sentencepiece import sentencepiece_model_pb2 as pb
req = json.load(sys.stdin)
out = {"version": spm.__version__, "models": {}}
for path in req["models"]:
    data = open(path, "rb").read()
    sp = spm.SentencePieceProcessor(model_proto=data)
    m = pb.ModelProto(); m.ParseFromString(data)
    m.normalizer_spec.add_dummy_prefix = False
    m.normalizer_spec.remove_extra_whitespaces = False
    frag = spm.SentencePieceProcessor(model_proto=m.SerializeToString())
    ids = [sp.encode(t) for t in req["texts"]]
    out["models"][path] = {
        "ids": ids,
        "decoded": [sp.decode(x) for x in ids],
        "fragment": [frag.encode(t) for t in req["texts"]],
        "decode": [sp.decode([i % sp.get_piece_size() for i in x]) for x in req["idLists"]],
    }
json.dump(out, sys.stdout)
`;

/** Mulberry32: a small seeded PRNG, so that a failing string can be regenerated. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  " ", " ", " ", "  ", "   ", "\t", "\n", "<tools>", "<tool_call>", "<tool", "tools>", "▁", "<0x41>", "<s>", "</s>",
  "{\"name\":\"", "\",\"arguments\":{", "}}]", "\\u00e9", "\\\"", "1e-05", "100000.0", "set_timer", "getHTTPResponse",
  "timer", "lights", "Kitchen", "TURN", "ON", "é", "ß", "ü", "東京", "Москва", "🙂", "👩‍💻", "🇩🇪", "👍🏽", "\u200b",
  "\u00a0", "\ufffd", "\u0000", "\u2028", "½", "ﬁ", "Ａ", "ا", "ש", "\u0301",
];
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"()[]{}<>-_/\\@#$%^&*+=~`|";

function randomText(rand: () => number): string {
  const pieces: string[] = [];
  const n = Math.floor(rand() * 40);
  for (let i = 0; i < n; i++) {
    const x = rand();
    if (x < 0.45) pieces.push(ALPHABET[Math.floor(rand() * ALPHABET.length)]!);
    else if (x < 0.8) pieces.push(FRAGMENTS[Math.floor(rand() * FRAGMENTS.length)]!);
    else if (x < 0.9) pieces.push(String.fromCodePoint(0x20 + Math.floor(rand() * 0x2fe0))); // BMP below CJK ext.
    else pieces.push(String.fromCodePoint(0x1f300 + Math.floor(rand() * 0x300))); // emoji block
  }
  return pieces.join("");
}

describe.skipIf(!hasSentencepiece)("live against /usr/bin/python3 sentencepiece", () => {
  test("random strings: encode, decode, encodeNoDummyPrefix and decode of random ids agree on every model", () => {
    const rand = prng(0x5eed);
    const texts = Array.from({ length: 600 }, () => randomText(rand));
    const idLists = Array.from({ length: 300 }, () =>
      Array.from({ length: 1 + Math.floor(rand() * 20) }, () => Math.floor(rand() * 8192)),
    );
    const paths = MODELS.map((m) => join(DIR, m));
    const run = spawnSync(PYTHON, ["-c", ORACLE], {
      input: JSON.stringify({ models: paths, texts, idLists }),
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const oracle = JSON.parse(run.stdout) as {
      version: string;
      models: Record<string, { ids: number[][]; decoded: string[]; fragment: number[][]; decode: string[] }>;
    };
    let compared = 0;
    for (const path of paths) {
      const tok = SentencePieceTokenizer.fromBytes(readFileSync(path), path);
      const want = oracle.models[path]!;
      texts.forEach((text, i) => {
        const where = `${path} text #${i} ${JSON.stringify(text)}`;
        expect(tok.encode(text), where).toEqual(want.ids[i]);
        expect(tok.decode(want.ids[i]!), where).toBe(want.decoded[i]);
        expect(tok.encodeNoDummyPrefix(text), where).toEqual(want.fragment[i]);
        compared++;
      });
      idLists.forEach((ids, i) => {
        expect(tok.decode(ids.map((id) => id % tok.vocabSize)), `${path} ids #${i}`).toBe(want.decode[i]);
      });
    }
    expect(compared).toBe(texts.length * MODELS.length);
  });
});
