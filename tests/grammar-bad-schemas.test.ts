// Bad and odd schemas: each compiles (documented fallback) or fails with a clear EngineError BAD_TOOLS that
// names the tool and the place. Never a crash, never a hang.
import { describe, expect, it } from "vitest";
import { EngineError } from "../src/engine/types.js";
import { ToolGrammar } from "../src/engine/grammar/index.js";
import { normalizeParameters } from "../src/engine/tool-schema.js";
import { accepts, argsGrammar, valueGrammar } from "./grammar-helpers.js";

function compileError(tools: unknown, options = {}): EngineError {
  try {
    ToolGrammar.compile(tools as never, options);
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe("BAD_TOOLS");
    return e as EngineError;
  }
  throw new Error("expected a compile error");
}

const tool = (schema: unknown): { name: string; schema: unknown }[] => [{ name: "t", schema }];

describe("grammar: odd schemas that compile", () => {
  it("ignores unknown keywords (and the ones it does not honour)", () => {
    const a = argsGrammar({
      type: "object",
      properties: { s: { type: "string", format: "email", pattern: "^x", "x-ui": { w: 1 } } },
      "x-anything": [1, 2],
      $comment: "hi",
    });
    expect(a.ok('{"s":"not an email"}')).toBe(true);
  });

  it("local $refs constrain like the schema they point at (resolved by tool-schema.ts)", () => {
    const { schema } = normalizeParameters({
      type: "object",
      $defs: { colour: { type: "string", enum: ["red", "blue"] }, pct: { type: "integer", minimum: 0, maximum: 100 } },
      properties: { colour: { $ref: "#/$defs/colour" }, brightness: { $ref: "#/$defs/pct" } },
      required: ["colour"],
    }, "t");
    const a = argsGrammar(schema);
    expect(a.ok('{"colour":"red","brightness":40}')).toBe(true);
    expect(a.ok('{"colour":"green"}')).toBe(false);
    expect(a.ok('{"colour":"blue","brightness":140}')).toBe(false);
    expect(a.ok('{"brightness":40}')).toBe(false);
  });

  it("a missing type means any value (with the per-type keywords still applied)", () => {
    const v = valueGrammar({ description: "The training data for the model." });
    expect(v.ok('{"rows":[[1,2],[3,4]]}')).toBe(true);
    expect(v.ok('"csv"')).toBe(true);
  });

  it("required keys not in properties are declared with any value", () => {
    const a = argsGrammar({ type: "object", properties: {}, required: ["query"] });
    expect(a.ok("{}")).toBe(false);
    expect(a.ok('{"query":"x"}')).toBe(true);
    const typed = argsGrammar({ type: "object", properties: {}, required: ["n"], additionalProperties: { type: "integer" } });
    expect(typed.ok('{"n":3}')).toBe(true);
    expect(typed.ok('{"n":"x"}')).toBe(false);
    // with additionalProperties: false no object can have the key: no call of this tool could be valid
    expect(compileError(tool({ type: "object", properties: {}, required: ["q"], additionalProperties: false })).message)
      .toMatch(/required property "q" admits no value/);
  });

  it("enums mixing types, with duplicates and nulls", () => {
    const v = valueGrammar({ enum: ["a", 1, null, "a", 1.0, false, { x: [null] }] });
    for (const ok of ['"a"', "1", "null", "false", '{"x":[null]}']) expect(v.ok(ok), ok).toBe(true);
    // an enum value that the declared type excludes is dropped (as ajv would reject it)
    const typed = valueGrammar({ type: "string", enum: ["celsius", null] });
    expect(typed.ok('"celsius"')).toBe(true);
    expect(typed.ok("null")).toBe(false);
  });

  it("an optional property that admits no value is left out; the others stay", () => {
    const a = argsGrammar({
      type: "object",
      properties: { bad: { type: "string", minLength: 5, maxLength: 2 }, ok: { type: "integer" }, none: false },
    });
    expect(a.ok('{"ok":1}')).toBe(true);
    expect(a.prefix('{"b')).toBe(false);
    expect(a.prefix('{"n')).toBe(false);
  });

  it("huge but sane schemas compile: 600 properties, enums of 3000 values", () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 600; i++) properties[`p${i}`] = { type: i % 2 ? "string" : "integer" };
    properties.big = { enum: Array.from({ length: 3000 }, (_, i) => `value_${i}`) };
    const a = argsGrammar({ type: "object", properties, required: ["p599", "big"] });
    expect(a.ok('{"big":"value_2999","p599":"x"}')).toBe(true);
    expect(a.ok('{"big":"value_3000","p599":"x"}')).toBe(false);
    expect(a.prefix('{"p599":"x","p599"')).toBe(false);
  });

  it("cyclic JS objects (from a plugin) stop at the depth limit with a clear error", () => {
    const s: Record<string, unknown> = { type: "object", properties: {} };
    (s.properties as Record<string, unknown>).self = s;
    const err = compileError(tool(s));
    expect(err.message).toMatch(/tool "t".*nested deeper than 32 levels/);
    const merged = { allOf: [s, s] };
    expect(compileError(tool({ type: "object", properties: { m: merged } })).message).toMatch(/tool "t".*nested deeper than/);
    const bigint = { type: "object", properties: { e: { enum: [1n] } } };
    expect(compileError(tool(bigint)).message).toMatch(/tool "t": schema at \/: cannot be compiled: TypeError/);
  });
});

describe("grammar: schemas that fail with a clear error", () => {
  it("unknown type names (BFCL's dict/float are tool-schema.ts's job)", () => {
    const err = compileError(tool({ type: "object", properties: { d: { type: "dict" } } }));
    expect(err.message).toBe(
      'tool "t": schema at /properties/d/type: unknown type "dict" (expected one of null, boolean, integer, number, string, array, object)',
    );
  });

  it("malformed keyword values name the keyword", () => {
    expect(compileError(tool({ type: "object", properties: { n: { type: "integer", minimum: "5" } } })).message).toMatch(
      /\/properties\/n\/minimum: must be a finite number \(got "5"\)/,
    );
    expect(compileError(tool({ type: "object", properties: { s: { type: "string", maxLength: -1 } } })).message).toMatch(
      /maxLength: must be a non-negative integer/,
    );
    expect(compileError(tool({ type: "object", required: "a" })).message).toMatch(/\/required: must be an array of strings/);
    expect(compileError(tool({ type: "object", properties: [] })).message).toMatch(/\/properties: must be an object/);
    expect(compileError(tool({ type: "object", properties: { e: { enum: "a" } } })).message).toMatch(/\/enum: must be an array/);
    expect(compileError(tool({ type: "object", properties: { a: { anyOf: [] } } })).message).toMatch(/anyOf: must be a non-empty array/);
    expect(compileError(tool({ type: "object", properties: { a: 5 } })).message).toMatch(/\/properties\/a: must be an object or a boolean/);
    expect(compileError(tool("object")).message).toMatch(/must be an object/);
  });

  it("arguments that admit no object say why", () => {
    expect(compileError(tool({ type: "string" })).message).toMatch(/admits no object/);
    const err = compileError(tool({
      type: "object",
      properties: { inner: { type: "object", properties: { n: { type: "integer", minimum: 0.2, maximum: 0.8 } }, required: ["n"] } },
      required: ["inner"],
    }));
    expect(err.message).toMatch(/required property "inner" admits no value; \/properties\/inner: required property "n" admits no value; \/properties\/inner\/properties\/n: no integer/);
    expect(compileError(tool({ type: "object", properties: { e: { type: "integer", enum: ["x"] } }, required: ["e"] })).message)
      .toMatch(/no enum\/const value satisfies/);
  });

  it("schemas nested too deeply", () => {
    let s: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 40; i++) s = { type: "array", items: s };
    expect(compileError(tool({ type: "object", properties: { deep: s } })).message).toMatch(/nested deeper than 32 levels/);
    let a: Record<string, unknown> = { type: "integer" };
    for (let i = 0; i < 40; i++) a = { allOf: [a, { minimum: 0 }] };
    expect(compileError(tool({ type: "object", properties: { deep: a } })).message).toMatch(/nested deeper than 32 levels/);
  });

  it("schemas too large for the limits", () => {
    const properties: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) properties[`p${i}`] = { type: "string" };
    expect(compileError(tool({ type: "object", properties }), { limits: { maxSpecs: 100 } }).message).toMatch(/too large \(more than 100 sub-schemas\)/);
    const big = { type: "object", properties: { e: { enum: Array.from({ length: 1000 }, (_, i) => "x".repeat(50) + i) } } };
    expect(compileError(tool(big), { limits: { maxLiteralBytes: 10_000 } }).message).toMatch(/bytes of enum values and keys/);
    const alts = { type: "object", properties: { a: { anyOf: Array.from({ length: 10 }, () => ({ type: "string" })), oneOf: Array.from({ length: 10 }, () => ({ type: "string" })) } } };
    expect(compileError(tool(alts)).message).toMatch(/too many anyOf\/oneOf alternatives \(100 > 64\)/);
  });

  it("bad tool lists: names, duplicates, options", () => {
    expect(compileError([{ schema: {} }]).message).toMatch(/tool #0 has no name/);
    expect(compileError([{ name: "" }]).message).toMatch(/has no name/);
    expect(compileError([{ name: "a" }, { name: "a" }]).message).toMatch(/tool "a" is declared twice/);
    expect(compileError("tools").message).toMatch(/tools must be an array/);
    expect(compileError([{ name: "a" }], { maxCalls: -1 }).message).toMatch(/maxCalls must be a non-negative integer/);
  });

  it("a compile error leaves other grammars usable (no shared state is corrupted)", () => {
    compileError(tool({ type: "object", properties: { d: { type: "dict" } } }));
    const g = ToolGrammar.compile(tool({ type: "object", properties: { d: { type: "string" } } }));
    expect(accepts(g, '[{"name":"t","arguments":{"d":"x"}}]')).toBe(true);
  });
});
