// Byte-level behaviour of the compiled grammar: what it accepts and rejects, feature by feature.
import { describe, expect, it } from "vitest";
import { ToolGrammar } from "../src/engine/grammar/index.js";
import { accepts, acceptsPrefix, argsGrammar, enc, valueGrammar } from "./grammar-helpers.js";

const dec = new TextDecoder();

const TIMERS = [
  {
    name: "set_timer",
    schema: {
      type: "object",
      properties: { duration: { type: "string" }, name: { type: "string" } },
      required: ["duration"],
    },
  },
  { name: "set_light", schema: { type: "object", properties: { brightness: { type: "integer", minimum: 0, maximum: 100 } } } },
  { name: "stop_navigation", schema: { type: "object", properties: {}, required: [] } },
];

function forced(g: ToolGrammar, prefix: string): string {
  const s = g.advanceBytes(g.startState(), enc.encode(prefix));
  expect(s, `prefix ${prefix}`).not.toBeNull();
  return dec.decode(g.forcedBytes(s!));
}

describe("grammar: the answer envelope", () => {
  const g = ToolGrammar.compile(TIMERS);

  it("accepts no call, with or without the dummy-prefix space", () => {
    expect(accepts(g, "[]")).toBe(true);
    expect(accepts(g, " []")).toBe(true);
    expect(accepts(g, "  []")).toBe(false);
    expect(accepts(g, "[] ")).toBe(false);
    expect(accepts(g, "")).toBe(false);
    expect(accepts(g, "[")).toBe(false);
  });

  it("accepts calls of declared tools only, name first, compact", () => {
    expect(accepts(g, '[{"name":"set_timer","arguments":{"duration":"5 minutes"}}]')).toBe(true);
    expect(accepts(g, '[{"name":"set_timers","arguments":{"duration":"5"}}]')).toBe(false);
    expect(accepts(g, '[{"name":"set","arguments":{}}]')).toBe(false);
    expect(accepts(g, '[{"arguments":{"duration":"5"},"name":"set_timer"}]')).toBe(false);
    expect(accepts(g, '[{"name": "set_timer","arguments":{"duration":"5"}}]')).toBe(false);
    expect(accepts(g, '[{"name":"set_timer","arguments":{"duration":"5"},"extra":1}]')).toBe(false);
  });

  it("allows at most maxCalls calls (default 4)", () => {
    const call = '{"name":"stop_navigation","arguments":{}}';
    expect(accepts(g, `[${Array(4).fill(call).join(",")}]`)).toBe(true);
    expect(acceptsPrefix(g, `[${Array(4).fill(call).join(",")},`)).toBe(false);
    const one = ToolGrammar.compile(TIMERS, { maxCalls: 1 });
    expect(accepts(one, `[${call}]`)).toBe(true);
    expect(acceptsPrefix(one, `[${call},`)).toBe(false);
  });

  it("with no tools only [] is possible", () => {
    const none = ToolGrammar.compile([]);
    expect(accepts(none, "[]")).toBe(true);
    expect(acceptsPrefix(none, "[{")).toBe(false);
  });

  it("eos is allowed exactly when the answer is complete", () => {
    const s = g.advanceBytes(g.startState(), enc.encode('[{"name":"stop_navigation","arguments":{}}'))!;
    expect(g.canEnd(s)).toBe(false);
    expect(g.canEnd(g.stepByte(s, 0x5d)!)).toBe(true);
    expect(g.stepByte(g.stepByte(s, 0x5d)!, 0x20)).toBeNull();
  });

  it("a tool without a declared properties list takes no arguments unless additionalProperties opens it", () => {
    const g2 = ToolGrammar.compile([{ name: "a" }, { name: "b", schema: { type: "object", additionalProperties: true } }]);
    expect(accepts(g2, '[{"name":"a","arguments":{}}]')).toBe(true);
    expect(accepts(g2, '[{"name":"a","arguments":{"x":1}}]')).toBe(false);
    expect(accepts(g2, '[{"name":"b","arguments":{"x":1,"y":[true]}}]')).toBe(true);
  });
});

describe("grammar: strings", () => {
  const v = valueGrammar({ type: "string" });

  it("accepts JSON escapes and UTF-8, rejects raw control characters", () => {
    expect(v.ok('"a\\n\\t\\"\\\\\\/b"')).toBe(true);
    expect(v.ok('"caf\\u00e9 café 日本 😀"')).toBe(true);
    expect(v.ok('"\\ud83d\\ude00"')).toBe(true);
    expect(v.ok('"a\nb"')).toBe(false);
    expect(v.ok('"\\x"')).toBe(false);
    expect(v.ok('"\\u12"')).toBe(false);
  });

  it("rejects lone surrogate escapes as early as they are certain", () => {
    expect(v.prefix('"\\udc')).toBe(false);
    expect(v.prefix('"\\ud8')).toBe(true);
    expect(v.prefix('"\\ud83d"')).toBe(false);
    expect(v.prefix('"\\ud83d\\u00')).toBe(false);
  });

  it("keeps UTF-8 valid across tokens: byte by byte, no overlongs, no surrogates, no truncation", () => {
    const a = argsGrammar({ type: "object", properties: { v: { type: "string" } } });
    const wrap = (bytes: number[]): Uint8Array =>
      Uint8Array.from([...enc.encode('[{"name":"t","arguments":{"v":"'), ...bytes, ...enc.encode('"}}]')]);
    expect(accepts(a.g, wrap([0xf0, 0x9f, 0x98, 0x80]))).toBe(true);
    expect(accepts(a.g, wrap([0xc3, 0xa9]))).toBe(true);
    expect(accepts(a.g, wrap([0xc0, 0x80]))).toBe(false); // overlong
    expect(accepts(a.g, wrap([0xed, 0xa0, 0x80]))).toBe(false); // surrogate
    expect(accepts(a.g, wrap([0xf0, 0x9f, 0x98]))).toBe(false); // truncated before the quote
    expect(accepts(a.g, wrap([0x80]))).toBe(false); // stray continuation
    expect(accepts(a.g, wrap([0xf5, 0x80, 0x80, 0x80]))).toBe(false);
  });

  it("counts minLength/maxLength in code points (an escape or an emoji is one)", () => {
    const s = valueGrammar({ type: "string", minLength: 2, maxLength: 3 });
    expect(s.ok('"a"')).toBe(false);
    expect(s.ok('"ab"')).toBe(true);
    expect(s.ok('"abc"')).toBe(true);
    expect(s.prefix('"abcd')).toBe(false);
    expect(s.ok('"😀\\n\\ud83d\\ude00"')).toBe(true);
    expect(s.ok('"日本語"')).toBe(true);
    expect(s.prefix('"日本語日')).toBe(false);
    const empty = valueGrammar({ type: "string", maxLength: 0 });
    expect(empty.ok('""')).toBe(true);
    expect(empty.prefix('"a')).toBe(false);
  });
});

describe("grammar: numbers", () => {
  it("follows JSON number syntax; integers have no fraction or exponent", () => {
    const n = valueGrammar({ type: "number" });
    for (const ok of ["0", "12", "-3.25", "1e5", "1.5E-3", "2e+10", "0.001"]) expect(n.ok(ok), ok).toBe(true);
    for (const bad of ["-0", "-0.0", "01", "1.", ".5", "-", "1e", "+1", "1.2.3", "--1", "1e+"]) expect(n.ok(bad), bad).toBe(false);
    const i = valueGrammar({ type: "integer" });
    expect(i.ok("42")).toBe(true);
    expect(i.ok("-7")).toBe(true);
    expect(i.prefix("4.")).toBe(false);
    expect(i.prefix("4e")).toBe(false);
    expect(i.prefix("-0")).toBe(false); // it could only end as negative zero
    expect(n.prefix("-0.")).toBe(true);
    expect(n.prefix("-0e")).toBe(false);
  });

  it("allows a digit only when some completion lands in range, and ends only in range", () => {
    const n = valueGrammar({ type: "integer", minimum: 10, maximum: 20 });
    expect(n.prefix("3")).toBe(false);
    expect(n.prefix("-")).toBe(false);
    expect(n.prefix("1")).toBe(true);
    expect(n.ok("1")).toBe(false);
    expect(n.ok("15")).toBe(true);
    expect(n.ok("20")).toBe(true);
    expect(n.prefix("21")).toBe(false);
    expect(n.prefix("100")).toBe(false);
    const b = valueGrammar({ type: "integer", minimum: 0, maximum: 100 });
    expect(b.ok("100")).toBe(true);
    expect(b.prefix("1000")).toBe(false);
    expect(b.prefix("-")).toBe(false); // "-0" would be in range, but negative zero is never written
    expect(b.ok("0")).toBe(true);
  });

  it("handles exclusive bounds (draft 6+ numbers and draft 4 booleans) and fractional bounds", () => {
    const n = valueGrammar({ type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 });
    expect(n.ok("0")).toBe(false);
    expect(n.prefix("0")).toBe(true);
    expect(n.ok("0.5")).toBe(true);
    expect(n.ok("0.0")).toBe(false);
    expect(n.ok("0.0001")).toBe(true);
    expect(n.prefix("1")).toBe(false);
    const d4 = valueGrammar({ type: "number", minimum: 0, exclusiveMinimum: true, maximum: 2, exclusiveMaximum: false });
    expect(d4.ok("0")).toBe(false);
    expect(d4.ok("2")).toBe(true);
    const i = valueGrammar({ type: "integer", minimum: 0.5, maximum: 2.5 });
    expect(i.ok("0")).toBe(false);
    expect(i.ok("1")).toBe(true);
    expect(i.ok("2")).toBe(true);
    expect(i.prefix("3")).toBe(false);
    const t = valueGrammar({ type: "number", minimum: -1.25, maximum: -1.2 });
    expect(t.ok("-1.2")).toBe(true);
    expect(t.ok("-1.25")).toBe(true);
    expect(t.ok("-1.3")).toBe(false);
    expect(t.prefix("-1.3")).toBe(false);
    expect(t.prefix("1")).toBe(false);
    expect(t.ok("-1.225")).toBe(true);
  });

  it("decides at the decimal the author wrote (0.1 is not < 0.1) and caps bounded numbers at 15 digits", () => {
    const n = valueGrammar({ type: "number", exclusiveMaximum: 0.1, minimum: 0 });
    expect(n.ok("0.1")).toBe(false);
    expect(n.ok("0.09")).toBe(true);
    expect(n.ok("0.0" + "9".repeat(15))).toBe(true);
    expect(n.prefix("0.0" + "9".repeat(16))).toBe(false); // a 16th significant digit
    const big = valueGrammar({ type: "integer", minimum: 0 });
    expect(big.ok("123456789012345")).toBe(true);
    expect(big.prefix("1234567890123456")).toBe(false);
    const free = valueGrammar({ type: "integer" });
    expect(free.ok("1234567890123456789")).toBe(true);
  });

  it("a range with no number in it makes the property unavailable", () => {
    const a = argsGrammar({ type: "object", properties: { n: { type: "integer", minimum: 0.2, maximum: 0.8 }, s: { type: "string" } } });
    expect(a.ok('{"s":"x"}')).toBe(true);
    expect(a.prefix('{"n"')).toBe(false);
  });
});

describe("grammar: enum and const", () => {
  it("accepts exactly the listed values, of any JSON type", () => {
    const e = valueGrammar({ enum: ["a", 1, null, true, [1, 2], { k: "v" }, "café"] });
    for (const ok of ['"a"', "1", "null", "true", "[1,2]", '{"k":"v"}', '"café"', '"caf\\u00e9"']) {
      expect(e.ok(ok), ok).toBe(true);
    }
    for (const bad of ['"b"', "2", "false", "[1]", '{"k":"w"}', '"A"', "1.0"]) expect(e.ok(bad), bad).toBe(false);
  });

  it("handles one value being a prefix of another", () => {
    const e = valueGrammar({ enum: [1, 12, 123] });
    expect(e.ok("1")).toBe(true);
    expect(e.ok("12")).toBe(true);
    expect(e.ok("123")).toBe(true);
    expect(e.prefix("1234")).toBe(false);
  });

  it("filters enum values by the schema's other keywords (type, ranges, lengths)", () => {
    const e = valueGrammar({ type: "string", enum: ["a", "bbbb", 3, null], maxLength: 3 });
    expect(e.ok('"a"')).toBe(true);
    expect(e.ok('"bbbb"')).toBe(false);
    expect(e.ok("3")).toBe(false);
    expect(e.ok("null")).toBe(false);
    const c = valueGrammar({ const: "fixed" });
    expect(c.ok('"fixed"')).toBe(true);
    expect(c.ok('"other"')).toBe(false);
  });
});

describe("grammar: objects", () => {
  const a = argsGrammar({
    type: "object",
    properties: { a: { type: "string" }, b: { type: "integer" }, c: { type: "boolean" } },
    required: ["a", "b"],
  });

  it("requires the required keys before }, in any order, each key at most once", () => {
    expect(a.ok('{"a":"x","b":1}')).toBe(true);
    expect(a.ok('{"b":1,"a":"x"}')).toBe(true);
    expect(a.ok('{"c":true,"b":1,"a":"x"}')).toBe(true);
    expect(a.ok('{"a":"x"}')).toBe(false);
    expect(a.prefix('{"a":"x","a"')).toBe(false);
    expect(a.prefix('{"a":"x","d"')).toBe(false);
    expect(a.prefix('{"a":"x","b":1,"c":true,')).toBe(false); // no key left to add
  });

  it("additionalProperties: a schema or true opens the object to other keys, once each", () => {
    const o = argsGrammar({ type: "object", properties: { a: { type: "string" } }, additionalProperties: { type: "integer" } });
    expect(o.ok('{"a":"x","n":1,"m":2}')).toBe(true);
    expect(o.ok('{"n":"x"}')).toBe(false);
    expect(o.ok('{"a":1}')).toBe(false); // a declared key keeps its own schema
    expect(o.prefix('{"n":1,"n"')).toBe(false);
    expect(o.prefix('{"n":1,"\\u006e"')).toBe(false); // the same key spelled with an escape
    expect(o.ok('{"\\u0061b":3}')).toBe(true);
  });

  it("an object with no properties is free unless additionalProperties is false", () => {
    const v = valueGrammar({ type: "object" });
    expect(v.ok('{"x":[1,{"y":null}],"z":"w"}')).toBe(true);
    const closed = valueGrammar({ type: "object", additionalProperties: false });
    expect(closed.ok("{}")).toBe(true);
    expect(closed.prefix('{"')).toBe(false);
  });

  it("declares required keys missing from properties (any value) instead of making the object impossible", () => {
    const o = argsGrammar({ type: "object", properties: { a: { type: "string" } }, required: ["a", "zz"] });
    expect(o.ok('{"a":"x"}')).toBe(false);
    expect(o.ok('{"a":"x","zz":[1]}')).toBe(true);
  });

  it("nests objects and arrays", () => {
    const o = argsGrammar({
      type: "object",
      properties: {
        loc: { type: "object", properties: { lat: { type: "number" }, lon: { type: "number" } }, required: ["lat", "lon"] },
        tags: { type: "array", items: { type: "string", enum: ["x", "y"] }, minItems: 1, maxItems: 2 },
      },
      required: ["loc"],
    });
    expect(o.ok('{"loc":{"lat":1.5,"lon":-2}}')).toBe(true);
    expect(o.ok('{"loc":{"lat":1.5}}')).toBe(false);
    expect(o.ok('{"loc":{"lat":1,"lon":2},"tags":["x","y"]}')).toBe(true);
    expect(o.ok('{"loc":{"lat":1,"lon":2},"tags":[]}')).toBe(false);
    expect(o.prefix('{"loc":{"lat":1,"lon":2},"tags":["x","y",')).toBe(false);
  });
});

describe("grammar: arrays", () => {
  it("minItems/maxItems and tuples", () => {
    const v = valueGrammar({ type: "array", items: { type: "integer" }, minItems: 2, maxItems: 3 });
    expect(v.ok("[1]")).toBe(false);
    expect(v.ok("[1,2]")).toBe(true);
    expect(v.ok("[1,2,3]")).toBe(true);
    expect(v.prefix("[1,2,3,")).toBe(false);
    const t = valueGrammar({ type: "array", items: [{ type: "string" }, { type: "integer" }], additionalItems: false });
    expect(t.ok('["a",1]')).toBe(true);
    expect(t.ok('["a"]')).toBe(true);
    expect(t.ok('[1,"a"]')).toBe(false);
    expect(t.prefix('["a",1,')).toBe(false);
    const p = valueGrammar({ type: "array", prefixItems: [{ type: "boolean" }], items: { type: "null" } });
    expect(p.ok("[true,null,null]")).toBe(true);
    expect(p.ok("[true,true]")).toBe(false);
  });
});

describe("grammar: alternatives and types", () => {
  it("type arrays, nullable, anyOf, oneOf", () => {
    expect(valueGrammar({ type: ["string", "null"] }).ok("null")).toBe(true);
    expect(valueGrammar({ type: ["string", "null"] }).ok("1")).toBe(false);
    expect(valueGrammar({ type: "integer", nullable: true }).ok("null")).toBe(true);
    const any = valueGrammar({ anyOf: [{ type: "string", maxLength: 2 }, { type: "string", minLength: 4 }] });
    expect(any.ok('"ab"')).toBe(true);
    expect(any.ok('"abc"')).toBe(false);
    expect(any.ok('"abcd"')).toBe(true);
    const one = valueGrammar({ oneOf: [{ type: "integer", minimum: 5 }, { type: "boolean" }] });
    expect(one.ok("7")).toBe(true);
    expect(one.ok("3")).toBe(false);
    expect(one.ok("false")).toBe(true);
  });

  it("anyOf merges with the keywords beside it; allOf intersects", () => {
    const s = valueGrammar({ type: "object", properties: { a: { type: "integer" } }, anyOf: [{ required: ["a"] }, { properties: { b: { type: "string" } }, required: ["b"] }] });
    expect(s.ok('{"a":1}')).toBe(true);
    expect(s.ok('{"b":"x"}')).toBe(true);
    expect(s.ok("{}")).toBe(false);
    const all = valueGrammar({ allOf: [{ type: "integer", minimum: 0 }, { maximum: 5 }, { type: ["integer", "string"] }] });
    expect(all.ok("5")).toBe(true);
    expect(all.prefix("6")).toBe(false);
    expect(all.ok('"x"')).toBe(false);
  });

  it("a schema without type accepts any JSON value", () => {
    const v = valueGrammar({ description: "anything" });
    for (const ok of ["1", '"s"', "null", "true", "[1,[2,{}]]", '{"a":{"b":[null]}}', "-1.5e3"]) expect(v.ok(ok), ok).toBe(true);
    expect(v.ok("{,}")).toBe(false);
    expect(valueGrammar(true).ok("[]")).toBe(true);
  });

  it("a schema without type still applies its per-type keywords", () => {
    const v = valueGrammar({ maxLength: 1, maximum: 3 });
    expect(v.ok('"a"')).toBe(true);
    expect(v.ok('"ab"')).toBe(false);
    expect(v.ok("3")).toBe(true);
    expect(v.prefix("4")).toBe(false);
    expect(v.ok("[]")).toBe(true);
  });
});

describe("grammar: forced bytes (jump-forward)", () => {
  const g = ToolGrammar.compile(TIMERS);

  it("forces the call head and a unique tool-name completion", () => {
    expect(forced(g, "")).toBe("");
    expect(forced(g, "[")).toBe("");
    expect(forced(g, "[{")).toBe('"name":"s'); // every tool name starts with s
    expect(forced(g, '[{"name":"s')).toBe("");
    expect(forced(g, '[{"name":"set_t')).toBe('imer","arguments":{"');
    // a tool whose arguments declare no properties takes none: the whole call is forced
    expect(forced(g, '[{"name":"st')).toBe('op_navigation","arguments":{}}');
    expect(forced(g, '[{"name":"stop_navigation","arguments":{}}')).toBe("");
  });

  it("forces the only remaining required key, a const value, and closing at maxLength", () => {
    const a = ToolGrammar.compile([
      {
        name: "t",
        schema: {
          type: "object",
          properties: { k: { const: "fixed" }, s: { type: "string", maxLength: 1 } },
          required: ["k", "s"],
        },
      },
    ]);
    expect(forced(a, '[{"name":"t","arguments":{"s":"x')).toBe('","k":"fixed"}}');
    expect(forced(a, '[{"name":"t","arguments":{"k":')).toBe('"fixed","s":"');
  });

  it("every forced byte sequence is accepted", () => {
    for (const p of ["[{", '[{"name":"set_t', '[{"name":"set_timer","arguments":{"d']) {
      const s = g.advanceBytes(g.startState(), enc.encode(p))!;
      expect(g.advanceBytes(s, g.forcedBytes(s))).not.toBeNull();
    }
  });
});
