// Needle's prompt: tools serialised exactly as Python's json.dumps (fixture produced by Python), the encoder
// input built exactly as the Python reference builds it with the same tokenizer, and answer parsing.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { buildEncoderInput, parseAnswer, prepareTools, snakeCase } from "../src/engine/prompt.js";
import {
  parseJsonPreservingNumbers,
  pythonFloatRepr,
  pythonJsonDumps,
  pythonJsonString,
  pythonNumberFromJsonText,
} from "../src/engine/python-json.js";
import { SentencePieceTokenizer } from "../src/engine/sentencepiece.js";
import { parseToolsJson } from "../src/engine/tool-schema.js";
import { EngineError } from "../src/engine/types.js";
import { buildModel, SPECIALS } from "./fixtures/tokenizer/build-model.js";

const ROOT = join(import.meta.dirname, "..");
const DIR = join(import.meta.dirname, "fixtures", "tokenizer");
const expected = JSON.parse(readFileSync(join(DIR, "prompt-expected.json"), "utf8")) as {
  tools_json: string;
  name_map: Record<string, string>;
  inputs: { query: string; maxLen: number; ids: number[]; truncated: { query: boolean; tools: boolean } }[];
  snake_case: Record<string, string>;
};
const tok = SentencePieceTokenizer.fromBytes(readFileSync(join(DIR, "needle-8k.model")), "needle-8k.model");
const fixtureTools = () => parseToolsJson(readFileSync(join(DIR, "prompt-tools.json"), "utf8"), "prompt-tools.json");

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

describe("snake_case", () => {
  test("matches the Python reference on every fixture name", () => {
    expect(Object.keys(expected.snake_case).length).toBeGreaterThan(15);
    for (const [name, snake] of Object.entries(expected.snake_case)) expect(snakeCase(name), name).toBe(snake);
  });

  test("the examples of the contract", () => {
    expect(snakeCase("getHTTPResponse")).toBe("get_http_response");
    expect(snakeCase("math.factorial")).toBe("math_factorial");
    expect(snakeCase("__double__under__")).toBe("double_under");
    expect(snakeCase("set-light  color!!")).toBe("set_light_color");
  });
});

describe("tools serialised as Python's json.dumps(tools, separators=(',', ':'))", () => {
  test("the tricky declarations file gives byte-for-byte Python's text", () => {
    const prepared = prepareTools(fixtureTools());
    expect(prepared.json).toBe(expected.tools_json);
    expect([...prepared.nameMap]).toEqual(Object.entries(expected.name_map));
  });

  test("the fixture really holds the tricky cases", () => {
    const json = expected.tools_json;
    for (const piece of ["0.0", "1e-05", "100000.0", "1e+16", "1000000000000000.0", "-0.0", "12345678901234567890",
      "1.5", "1e-07", "2500.0", "\\u2014", "\\ud83c\\udfac", "\\u6771", "\\u0001", "\\u007f", "\\ud800", "\\n", "\\t",
      '\\"', "\\\\", "123456789012345678901234567890", "1.7976931348623157e+308", "5e-324", '"default":"2020"', "null"]) {
      expect(json, piece).toContain(piece);
    }
    expect(json).toMatch(/^\[\{"name":"get_http_response"/);
  });

  test("plain JavaScript numbers (plugins) print as ints when integral, as Python floats otherwise", () => {
    expect(pythonJsonDumps({ a: 0, b: 100, c: 0.5, d: -0, e: 1e21, f: 1e-7, g: 2 ** 53 + 2, h: 12.0 })).toBe(
      '{"a":0,"b":100,"c":0.5,"d":0,"e":1000000000000000000000,"f":1e-07,"g":9007199254740994,"h":12}',
    );
    expect(pythonJsonDumps([10n ** 30n, true, false, null, "x"])).toBe('[1000000000000000000000000000000,true,false,null,"x"]');
  });

  test("lossless numbers keep their int or float nature", () => {
    const v = parseJsonPreservingNumbers("[0.0, 0, -0, -0.0, 1E5, 1e5, 2.50, 1e-7, 123456789012345678901234567890, 1e16, 1.0e15]");
    expect(pythonJsonDumps(v)).toBe(
      "[0.0,0,0,-0.0,100000.0,100000.0,2.5,1e-07,123456789012345678901234567890,1e+16,1000000000000000.0]",
    );
    expect(pythonNumberFromJsonText("-12")).toBe("-12");
    expect(() => pythonNumberFromJsonText("1e400")).toThrow(/not a finite number.*Infinity/);
  });

  test("float repr boundaries", () => {
    expect([1e-5, 1e-4, 0.1, 1e15, 1e16, 123.456, -2.5e-8, 1.5, 5e-324].map(pythonFloatRepr)).toEqual([
      "1e-05", "0.0001", "0.1", "1000000000000000.0", "1e+16", "123.456", "-2.5e-08", "1.5", "5e-324",
    ]);
    expect(() => pythonFloatRepr(Infinity)).toThrow(/Infinity, which is not JSON/);
    expect(() => pythonFloatRepr(NaN)).toThrow(/NaN/);
  });

  test("strings: ASCII escapes as Python writes them", () => {
    expect(pythonJsonString('a"b\\c\n\r\t\b\f\u0000\u001f\u007f~ é東🙂\u2028')).toBe(
      '"a\\"b\\\\c\\n\\r\\t\\b\\f\\u0000\\u001f\\u007f~ \\u00e9\\u6771\\ud83d\\ude42\\u2028"',
    );
    expect(pythonJsonString("\ud800 lone")).toBe('"\\ud800 lone"');
  });

  test("name, description, parameters in that order; keys inside parameters as declared; undefined left out", () => {
    const prepared = prepareTools([
      { parameters: { b: { type: "string" }, a: { type: "string", description: undefined } }, name: "zed", description: undefined },
      { parameters: { type: "object", required: [], properties: {} }, description: "d", examples: ["x"], name: "Two" },
    ]);
    expect(prepared.json).toBe(
      '[{"name":"zed","parameters":{"b":{"type":"string"},"a":{"type":"string"}}},' +
        '{"name":"two","description":"d","parameters":{"type":"object","required":[],"properties":{}}}]',
    );
  });

  test("unserialisable values are BAD_TOOLS naming the tool", () => {
    engineError(() => prepareTools([{ name: "t", parameters: { a: { type: "number", maximum: NaN } } }]), "BAD_TOOLS", /tool "t"/);
    engineError(() => prepareTools([{ name: "t", parameters: { a: { type: "string", pattern: /x/ } } }]), "BAD_TOOLS", /RegExp is not JSON/);
  });
});

describe("encoder input", () => {
  test("ids equal the Python reference (sp.encode(query)[:max-2] + [<tools>] + sp.encode(tools)[:rest])", () => {
    const prepared = prepareTools(fixtureTools());
    expect(expected.inputs.length).toBeGreaterThan(8);
    for (const c of expected.inputs) {
      const input = buildEncoderInput(tok, c.query, prepared, { maxLen: c.maxLen });
      const where = `${JSON.stringify(c.query.slice(0, 40))} maxLen ${c.maxLen}`;
      expect(input.ids, where).toEqual(c.ids);
      expect(input.truncated, where).toEqual(c.truncated);
      expect(input.ids[input.queryLength], where).toBe(5);
      expect(input.ids.length).toBeLessThanOrEqual(c.maxLen);
    }
    expect(expected.inputs.some((c) => c.truncated.query)).toBe(true);
    expect(expected.inputs.some((c) => c.truncated.tools && !c.truncated.query)).toBe(true);
  });

  test("raw declarations work as well as prepared ones, and the name map goes back to declared names", () => {
    const input = buildEncoderInput(tok, "set a timer", fixtureTools());
    expect(input.ids).toEqual(buildEncoderInput(tok, "set a timer", prepareTools(fixtureTools())).ids);
    expect(input.nameMap.get("get_http_response")).toBe("getHTTPResponse");
    expect(input.nameMap.get("math_factorial")).toBe("math.factorial");
  });

  test("a 100 kB query is cut to 1022 tokens and the tools get the one place left", () => {
    const input = buildEncoderInput(tok, "turn on the kitchen lights ".repeat(4000), fixtureTools());
    expect(input.ids).toHaveLength(1024);
    expect(input.queryLength).toBe(1022);
    expect(input.ids[1022]).toBe(5);
    expect(input.truncated).toEqual({ query: true, tools: true });
  });

  test("an empty query gives <tools> + tools (documented fallback)", () => {
    const input = buildEncoderInput(tok, "", []);
    expect(input.ids).toEqual([5, ...tok.encode("[]")]);
    expect(input.queryLength).toBe(0);
  });

  test("a plugin's tools fit with the query; decoding the tool tokens gives the serialised JSON back", () => {
    const timers = parseToolsJson(readFileSync(join(ROOT, "tools", "timers", "tools.json"), "utf8"));
    const input = buildEncoderInput(tok, "set a pasta timer for 8 minutes", timers);
    expect(input.truncated).toEqual({ query: false, tools: false });
    expect(tok.decode(input.ids.slice(input.queryLength + 1))).toBe(prepareTools(timers).json);
  });

  test("bad input: non-string query, bad maxLen, bad tools, tokenizer without <tools>", () => {
    engineError(() => buildEncoderInput(tok, 5 as unknown as string, []), "BAD_INPUT", /string/);
    engineError(() => buildEncoderInput(tok, "q", [], { maxLen: 1 }), "BAD_INPUT", /maxLen/);
    engineError(() => buildEncoderInput(tok, "q", [], { maxLen: 10.5 }), "BAD_INPUT", /maxLen/);
    engineError(() => buildEncoderInput(tok, "q", [{ nom: "x" }]), "BAD_TOOLS", /no name/);
    const plain = SentencePieceTokenizer.fromBytes(buildModel({ pieces: [...SPECIALS, { piece: "a" }] }));
    engineError(() => buildEncoderInput(plain, "q", []), "MODEL_INVALID", /<tools>/);
  });
});

describe("parseAnswer", () => {
  const names = new Map([["get_http_response", "getHTTPResponse"], ["set_timer", "set_timer"]]);

  test("decoded answers become calls with declared names", () => {
    expect(parseAnswer('[{"name":"get_http_response","arguments":{"url":"https://x","timeout":2.5}}]', names)).toEqual([
      { name: "getHTTPResponse", arguments: { url: "https://x", timeout: 2.5 } },
    ]);
    expect(parseAnswer(' [{"name":"set_timer","arguments":{"duration":"5 minutes"}}]', names)).toEqual([
      { name: "set_timer", arguments: { duration: "5 minutes" } },
    ]);
    expect(parseAnswer('<tool_call>[{"name":"set_timer","arguments":{}}]\n', names)).toEqual([{ name: "set_timer", arguments: {} }]);
    expect(parseAnswer("[]", names)).toEqual([]);
    expect(parseAnswer('[{"name":"set_timer"}]', names)).toEqual([{ name: "set_timer", arguments: {} }]);
    expect(parseAnswer('[{"name":"unknown_tool","arguments":{"a":1}}]', names)).toEqual([{ name: "unknown_tool", arguments: { a: 1 } }]);
  });

  test("a decoded model answer round-trips through the tokenizer", () => {
    const answer = '[{"name":"get_http_response","arguments":{"url":"https://example.com/caf\\u00e9","retries":3}}]';
    const ids = [4, ...tok.encodeNoDummyPrefix(answer)];
    expect(parseAnswer(tok.decode(ids), names)).toEqual([
      { name: "getHTTPResponse", arguments: { url: "https://example.com/café", retries: 3 } },
    ]);
  });

  test("anything else is null", () => {
    for (const text of ["", "   ", "[", '[{"name":"set_timer","arguments":{}}', "{}", '{"name":"set_timer"}', "[1]",
      '[{"arguments":{}}]', '[{"name":5}]', '[{"name":"set_timer","arguments":[]}]', '[{"name":"set_timer","arguments":"x"}]',
      '[] trailing', "null"]) {
      expect(parseAnswer(text, names), text).toBeNull();
    }
    expect(parseAnswer(undefined as unknown as string, names)).toBeNull();
  });
});
