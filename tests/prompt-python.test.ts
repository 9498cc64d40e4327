// Live comparison with Python 3 (the training side serialises with json.dumps itself): float repr, compact
// json.dumps of random structures, number spellings read losslessly, and snake_case. Seeded, so reproducible.
// Needs /usr/bin/python3 with sentencepiece and protobuf (as tests/tokenizer-python.test.ts); skipped without.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { prepareTools, snakeCase } from "../src/engine/prompt.js";
import { parseJsonPreservingNumbers, pythonFloatRepr, pythonJsonDumps } from "../src/engine/python-json.js";
import { parseToolsJson } from "../src/engine/tool-schema.js";

const PYTHON = "/usr/bin/python3";
const DIR = join(import.meta.dirname, "fixtures", "tokenizer");
const ROOT = join(import.meta.dirname, "..");
const TRAINING_PROMPT = join(ROOT, "training", "needle_prompt.py");
// The snake_case reference lives in make_fixtures.py, which imports sentencepiece.
const hasPython =
  spawnSync(PYTHON, ["-c", "import sys; sys.path.insert(0, sys.argv[1]); import make_fixtures", DIR], { stdio: "ignore" })
    .status === 0;

const ORACLE = String.raw`
import json, sys
sys.path.insert(0, sys.argv[1])
from make_fixtures import snake_case
req = json.load(sys.stdin)
print(json.dumps({
    "floats": [repr(float.fromhex(h)) for h in req["floats"]],
    "values": [json.dumps(v, separators=(",", ":")) for v in req["values"]],
    "texts": [json.dumps(json.loads(t), separators=(",", ":")) for t in req["texts"]],
    "names": [snake_case(n) for n in req["names"]],
}))
`;

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

/** The exact value of a double as a Python float.fromhex string. */
function hexOf(x: number): string {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x);
  const hi = b.getUint32(0);
  const lo = b.getUint32(4);
  const sign = hi >>> 31 ? "-" : "";
  const e = (hi >>> 20) & 0x7ff;
  const m = ((BigInt(hi & 0xfffff) << 32n) | BigInt(lo)).toString(16).padStart(13, "0");
  return e === 0 ? `${sign}0x0.${m}p-1022` : `${sign}0x1.${m}p${e - 1023}`;
}

describe.skipIf(!hasPython)("live against /usr/bin/python3", () => {
  test("float repr, json.dumps, lossless number spellings and snake_case agree with Python", () => {
    const rand = prng(0xf10a7);
    const bits = new DataView(new ArrayBuffer(8));
    const floats: number[] = [];
    while (floats.length < 6000) {
      bits.setUint32(0, Math.floor(rand() * 2 ** 32));
      bits.setUint32(4, Math.floor(rand() * 2 ** 32));
      const x = bits.getFloat64(0);
      if (Number.isFinite(x)) floats.push(x);
      floats.push(Math.round(rand() * 1e6) / 10 ** Math.floor(rand() * 22), rand() * 10 ** Math.floor(rand() * 40 - 20));
    }

    const char = (): string => {
      const x = rand();
      if (x < 0.6) return String.fromCharCode(0x20 + Math.floor(rand() * 0x5f));
      if (x < 0.7) return String.fromCharCode(Math.floor(rand() * 0x20));
      if (x < 0.8) return String.fromCharCode(0x7f + Math.floor(rand() * 0x100));
      if (x < 0.9) return String.fromCodePoint(0x100 + Math.floor(rand() * 0xd000));
      if (x < 0.97) return String.fromCodePoint(0x10000 + Math.floor(rand() * 0x100000));
      return String.fromCharCode(0xd800 + Math.floor(rand() * 0x800)); // lone surrogate
    };
    const str = (): string => Array.from({ length: Math.floor(rand() * 12) }, char).join("");
    const value = (depth: number): unknown => {
      const x = rand();
      if (depth > 3 || x < 0.15) return str();
      if (x < 0.25) return Math.floor(rand() * 2e6) - 1e6;
      if (x < 0.35) return (rand() - 0.5) * 10 ** Math.floor(rand() * 30 - 10);
      if (x < 0.4) return rand() < 0.5;
      if (x < 0.45) return null;
      if (x < 0.7) return Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1));
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rand() * 4); i > 0; i--) o[`k${str()}`] = value(depth + 1);
      return o;
    };
    // Integral JS numbers are sent to Python as ints, others as floats: JSON.stringify keeps that apart.
    const values = Array.from({ length: 400 }, () => value(0)).map((v) => JSON.parse(JSON.stringify(v)) as unknown);

    const spell = (): string => {
      const digits = Array.from({ length: 1 + Math.floor(rand() * 25) }, () => Math.floor(rand() * 10)).join("");
      const int = digits.replace(/^0+(?=.)/, "");
      const forms = [int, `-${int}`, `${int}.0`, `${int}.${Math.floor(rand() * 1000)}`, `${int}e${Math.floor(rand() * 40 - 20)}`,
        `${int}E+${Math.floor(rand() * 20)}`, `0.${"0".repeat(Math.floor(rand() * 8))}${int}`, "-0", "-0.0", "0e0", "1.50"];
      return forms[Math.floor(rand() * forms.length)]!;
    };
    const texts = Array.from({ length: 300 }, () => `[${Array.from({ length: 4 }, spell).join(", ")}]`);

    const parts = ["get", "HTTP", "Response", "url", "ID", "v2", "_", "-", ".", " ", "X", "json", "To", "XML", "3", "É", "a", "B"];
    const names = Array.from({ length: 400 }, () =>
      Array.from({ length: 1 + Math.floor(rand() * 6) }, () => parts[Math.floor(rand() * parts.length)]!).join(""),
    );

    const run = spawnSync(PYTHON, ["-c", ORACLE, DIR], {
      input: JSON.stringify({ floats: floats.map(hexOf), values, texts, names }),
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const py = JSON.parse(run.stdout) as { floats: string[]; values: string[]; texts: string[]; names: string[] };

    floats.forEach((x, i) => expect(pythonFloatRepr(x), `float ${hexOf(x)}`).toBe(py.floats[i]));
    values.forEach((v, i) => expect(pythonJsonDumps(v), `value #${i}`).toBe(py.values[i]));
    texts.forEach((t, i) => expect(pythonJsonDumps(parseJsonPreservingNumbers(t)), t).toBe(py.texts[i]));
    names.forEach((n, i) => expect(snakeCase(n), n).toBe(py.names[i]));
  });

  // The training side (training/needle_prompt.py, another owner's file) must write the same prompt text.
  test.skipIf(!existsSync(TRAINING_PROMPT))("training/needle_prompt.py writes the same tools JSON and snake_case", () => {
    const catalogue = ["timers", "navigation", "smarthome"].flatMap((p) =>
      parseToolsJson(readFileSync(join(ROOT, "tools", p, "tools.json"), "utf8")),
    );
    const sets = [
      readFileSync(join(DIR, "prompt-tools.json"), "utf8"),
      pythonJsonDumps(catalogue.map(({ name, description, parameters }) => ({ name, description, parameters }))),
    ];
    const names = Object.keys(JSON.parse(readFileSync(join(DIR, "prompt-expected.json"), "utf8")).snake_case as object);
    const script = String.raw`
import json, sys
sys.path.insert(0, sys.argv[1])
from needle_prompt import snake_case, tools_text
req = json.load(sys.stdin)
print(json.dumps({"tools": [tools_text(json.loads(t)) for t in req["sets"]], "names": [snake_case(n) for n in req["names"]]}))
`;
    const run = spawnSync(PYTHON, ["-c", script, join(ROOT, "training")], {
      input: JSON.stringify({ sets, names }),
      encoding: "utf8",
    });
    expect(run.stderr).toBe("");
    const py = JSON.parse(run.stdout) as { tools: string[]; names: string[] };
    sets.forEach((text, i) => expect(prepareTools(parseToolsJson(text)).json).toBe(py.tools[i]));
    names.forEach((n, i) => expect(snakeCase(n), n).toBe(py.names[i]));
  });
});
