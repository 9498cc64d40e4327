// Tool declarations: form detection, canonical JSON Schema, BFCL oddities, and clear BAD_TOOLS errors.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { describe, expect, test } from "vitest";
import {
  normalizeParameters,
  normalizeTools,
  parametersForm,
  parseToolsJson,
  snakeCase,
  TOOL_LIMITS,
} from "../src/engine/tool-schema.js";
import { EngineError } from "../src/engine/types.js";

const ROOT = join(import.meta.dirname, "..");

function badTools(fn: () => unknown, message: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, "expected an EngineError").toBeInstanceOf(EngineError);
  expect((caught as EngineError).code).toBe("BAD_TOOLS");
  expect((caught as EngineError).message).toMatch(message);
}

const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
const compile = (schema: object) => ajv.compile(schema);

describe("the two parameter forms", () => {
  test("Needle v1 flat parameters become a JSON Schema object with a required list", () => {
    const { schema, form } = normalizeParameters(
      {
        city: { type: "string", description: "City name", required: true },
        days: { type: "integer", description: "How many days", required: false },
        units: { type: "string", enum: ["metric", "imperial"] },
      },
      "get_forecast",
    );
    expect(form).toBe("flat");
    expect(schema).toEqual({
      type: "object",
      properties: {
        city: { type: "string", description: "City name" },
        days: { type: "integer", description: "How many days" },
        units: { type: "string", enum: ["metric", "imperial"] },
      },
      required: ["city"],
    });
  });

  test("JSON Schema parameters keep their keywords; required names that are not properties are dropped", () => {
    const { schema, form } = normalizeParameters(
      {
        type: "object",
        properties: { q: { type: "string", format: "uri", "x-vendor": 1 }, n: { type: "integer", minimum: 1 } },
        required: ["q", "ghost"],
        additionalProperties: false,
      },
      "search",
    );
    expect(form).toBe("json-schema");
    expect(schema).toEqual({
      type: "object",
      properties: { q: { type: "string", format: "uri", "x-vendor": 1 }, n: { type: "integer", minimum: 1 } },
      required: ["q"],
      additionalProperties: false,
    });
  });

  test("missing, null and empty parameters mean no arguments", () => {
    for (const p of [undefined, null, {}]) {
      expect(normalizeParameters(p, "stop")).toEqual({
        schema: { type: "object", properties: {}, required: [] },
        form: "none",
      });
    }
  });

  test("form detection: arguments named like schema keywords stay a flat map", () => {
    const flat = {
      type: { type: "string", description: "Kind of event", required: true },
      properties: { type: "object", description: "Extra fields" },
    };
    expect(parametersForm(flat)).toBe("flat");
    const { schema } = normalizeParameters(flat, "log_event");
    expect(Object.keys(schema.properties)).toEqual(["type", "properties"]);
    expect(schema.required).toEqual(["type"]);
  });

  test("form detection: a JSON Schema without type, and one with unknown keywords, are still JSON Schema", () => {
    expect(parametersForm({ properties: { a: { type: "string" } }, required: ["a"] })).toBe("json-schema");
    expect(parametersForm({ properties: { a: { type: "string" } }, "x-note": "kept" })).toBe("json-schema");
    const { schema } = normalizeParameters({ properties: { a: { type: "string" } }, "x-note": "kept" }, "t");
    expect(schema).toEqual({ type: "object", properties: { a: { type: "string" } }, required: [], "x-note": "kept" });
  });

  test("a flat map may list its required arguments in a `required` array", () => {
    const { schema, form } = normalizeParameters({ a: { type: "string" }, b: { type: "number" }, required: ["b"] }, "t");
    expect(form).toBe("flat");
    expect(schema.required).toEqual(["b"]);
    expect(Object.keys(schema.properties)).toEqual(["a", "b"]);
  });

  test("`required: true` inside a JSON Schema property is moved to the parent's list", () => {
    const { schema } = normalizeParameters(
      { type: "object", properties: { a: { type: "string", required: true }, b: { type: "string" } } },
      "t",
    );
    expect(schema.required).toEqual(["a"]);
    expect(schema.properties.a).toEqual({ type: "string" });
  });
});

describe("BFCL oddities", () => {
  test("dict / float / tuple / any / Python names / capitalised names map to JSON Schema types", () => {
    const { schema } = normalizeParameters(
      {
        type: "dict",
        properties: {
          a: { type: "float" },
          b: { type: "tuple", items: { type: "int" } },
          c: { type: "any", description: "whatever" },
          d: { type: "String" },
          e: { type: "bool" },
          f: { type: "list", items: { type: "str" } },
          g: { type: ["integer", "any"] },
          h: { description: "no type" },
        },
        required: [],
      },
      "odd",
    );
    expect(schema.properties).toEqual({
      a: { type: "number" },
      b: { type: "array", items: { type: "integer" } },
      c: { description: "whatever" },
      d: { type: "string" },
      e: { type: "boolean" },
      f: { type: "array", items: { type: "string" } },
      g: {},
      h: { description: "no type" },
    });
  });

  test("an enum with null admits null; defaults of the wrong type are dropped, right ones kept", () => {
    const { schema } = normalizeParameters(
      {
        type: "object",
        properties: {
          genre: { type: "string", enum: ["Comedy", null] },
          date: { type: "string", default: null },
          year: { type: "integer", default: "2020" },
          limit: { type: "integer", default: 10 },
          ratio: { type: "number", default: 2 },
          flag: { type: "boolean", default: "true" },
          opts: { type: "object", default: {} },
        },
      },
      "movies",
    );
    const p = schema.properties;
    expect(p.genre).toEqual({ type: ["string", "null"], enum: ["Comedy", null] });
    expect(p.date).toEqual({ type: "string" });
    expect(p.year).toEqual({ type: "integer" });
    expect(p.limit).toEqual({ type: "integer", default: 10 });
    expect(p.ratio).toEqual({ type: "number", default: 2 });
    expect(p.flag).toEqual({ type: "boolean" });
    expect(p.opts).toEqual({ type: "object", default: {} });
    // Ajv accepts null for genre now, and rejects what is outside the enum.
    const validate = compile(schema);
    expect(validate({ genre: null })).toBe(true);
    expect(validate({ genre: "Drama" })).toBe(false);
  });

  test("nested objects and arrays are normalised too, and a schema with properties but no type is an object", () => {
    const { schema } = normalizeParameters(
      {
        type: "object",
        properties: {
          filter: { properties: { tags: { type: "tuple", items: { type: "float" } } }, required: ["tags", "nope"] },
        },
      },
      "t",
    );
    expect(schema.properties.filter).toEqual({
      type: "object",
      properties: { tags: { type: "array", items: { type: "number" } } },
      required: ["tags"],
    });
  });

  const generic = join(ROOT, "..", "shared", "eval", "generic-dev.jsonl");
  const genericAlt = "/work/shared/eval/generic-dev.jsonl";
  const genericPath = existsSync(generic) ? generic : genericAlt;
  test.skipIf(!existsSync(genericPath))(
    "every tool set of shared/eval/generic-dev.jsonl is accepted, and its canonical schemas compile with Ajv",
    () => {
      const lines = readFileSync(genericPath, "utf8").split("\n").filter(Boolean);
      expect(lines.length).toBeGreaterThan(200);
      let tools = 0;
      for (const line of lines) {
        const item = parseToolsJson(`[${line}]`)[0] as unknown as { tools: unknown[] };
        for (const t of normalizeTools(item.tools)) {
          compile(t.parameters);
          tools++;
        }
      }
      expect(tools).toBeGreaterThan(300);
    },
  );
});

describe("normalizeTools", () => {
  test("the built-in catalogue (tools/*/tools.json) normalises; names are already snake_case", () => {
    let count = 0;
    for (const plugin of ["timers", "navigation", "smarthome"]) {
      const file = join(ROOT, "tools", plugin, "tools.json");
      const tools = normalizeTools(parseToolsJson(readFileSync(file, "utf8"), file));
      for (const t of tools) {
        expect(t.modelName).toBe(t.name);
        expect(t.form).toBe("json-schema");
        compile(t.parameters);
        expect(t.promptJson).not.toContain("examples");
        count++;
      }
    }
    expect(count).toBe(18);
  });

  test("names: declared and snake_case kept side by side", () => {
    const [t] = normalizeTools([{ name: "getHTTPResponse", description: "d", parameters: { url: { type: "string" } } }]);
    expect(t!.name).toBe("getHTTPResponse");
    expect(t!.modelName).toBe("get_http_response");
    expect(t!.description).toBe("d");
    expect(snakeCase("Movies_3_FindMovies")).toBe("movies_3_find_movies");
  });

  test("bad declarations are BAD_TOOLS errors that name the tool and the problem", () => {
    badTools(() => normalizeTools({ name: "x" }), /must be an array/);
    badTools(() => normalizeTools([{ description: "no name" }]), /tool #1 has no name/);
    badTools(() => normalizeTools([{ name: "ok" }, "set_timer"]), /tool #2 is a string/);
    badTools(() => normalizeTools([{ name: 42 }]), /tool #1: name is a number/);
    badTools(() => normalizeTools([{ name: "日本" }]), /"日本".*no ASCII letters/);
    badTools(() => normalizeTools([{ name: "getWeather" }, { name: "get_weather" }]), /"getWeather" and "get_weather".*"get_weather"/);
    badTools(() => normalizeTools([{ name: "a" }, { name: "a" }]), /"a" is declared twice/);
    badTools(() => normalizeTools([{ name: "t", description: 5 }]), /tool "t": description is a number/);
    badTools(() => normalizeTools([{ name: "t", parameters: [] }]), /tool "t": parameters must be an object.*an array/);
    badTools(() => normalizeTools([{ name: "t", parameters: "none" }]), /tool "t": parameters must be an object/);
    badTools(() => normalizeTools([{ name: "t", parameters: { a: { type: "string" }, b: "string" } }]), /neither a JSON Schema.*entry "b" is a string/);
    badTools(() => normalizeTools([{ name: "t", parameters: { type: "string" } }]), /must describe an object/);
    badTools(() => normalizeTools([{ name: "t", parameters: { type: "object", properties: [] } }]), /"properties" that is an array/);
    badTools(() => normalizeTools([{ name: "t", parameters: { type: "object", properties: { a: "string" } } }]), /parameter "a" must be a schema object/);
    badTools(() => normalizeTools([{ name: "t", parameters: { a: { type: "datetime" } } }]), /parameter "a" has unknown type "datetime"/);
    badTools(() => normalizeTools([{ name: "t", parameters: { a: { type: "object", properties: { b: { type: 7 } } } } }]), /parameter "a.b" has a "type" that is a number/);
    badTools(() => normalizeTools([{ name: "t", parameters: { a: { type: "string", enum: "x" } } }]), /"enum" that is not a non-empty array/);
    badTools(() => normalizeTools([{ name: "t", parameters: { a: { type: "integer", minimum: "0" } } }]), /"minimum" that is a string/);
    badTools(() => normalizeTools([{ name: "t", parameters: { a: { type: "number", default: Infinity } } }]), /tool "t":.*not a finite number/);
    badTools(() => normalizeTools([{ name: "t", parameters: { a: { type: "string", description: () => "x" } } }]), /tool "t"/);
    const cyclic: Record<string, unknown> = { type: "object" };
    cyclic.properties = { self: cyclic };
    badTools(() => normalizeTools([{ name: "t", parameters: cyclic }]), /tool "t": parameters cannot be read as JSON: .*circular/);
  });

  test("limits: too many tools, too large, too deep", () => {
    const many = Array.from({ length: TOOL_LIMITS.maxTools + 1 }, (_, i) => ({ name: `tool_${i}` }));
    badTools(() => normalizeTools(many), /too many tools: 257 declared, at most 256/);
    expect(normalizeTools(many.slice(0, 256))).toHaveLength(256);
    const huge = Array.from({ length: 20 }, (_, i) => ({ name: `t${i}`, description: "x".repeat(60_000) }));
    badTools(() => normalizeTools(huge), /too large/);
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 40; i++) deep = { type: "object", properties: { x: deep } };
    badTools(() => normalizeTools([{ name: "t", parameters: deep }]), /deeper than/);
  });

  test("the plugin shape (examples, sensitive, handler) is accepted; only name, description, parameters reach the prompt", () => {
    const [t] = normalizeTools([
      {
        description: "Start a countdown timer",
        name: "set_timer",
        parameters: { type: "object", properties: { duration: { type: "string" } }, required: ["duration"] },
        examples: ["set a timer for 5 minutes"],
        sensitive: false,
        async handler() {
          return { say: "ok" };
        },
      },
    ]);
    expect(t!.promptJson).toBe(
      '{"name":"set_timer","description":"Start a countdown timer","parameters":{"type":"object","properties":{"duration":{"type":"string"}},"required":["duration"]}}',
    );
  });
});

describe("parseToolsJson", () => {
  test("reads an array or {tools: [...]}, keeping number spellings", () => {
    const tools = parseToolsJson('{"tools": [{"name": "t", "parameters": {"x": {"type": "number", "default": 0.0}}}]}');
    expect(normalizeTools(tools)[0]!.promptJson).toBe('{"name":"t","parameters":{"x":{"type":"number","default":0.0}}}');
  });

  test("malformed JSON, non-arrays and non-text are BAD_TOOLS with the source named", () => {
    badTools(() => parseToolsJson('[{"name": "t",]', "my-tools.json"), /my-tools.json is not valid JSON/);
    badTools(() => parseToolsJson('{"name": "t"}', "my-tools.json"), /my-tools.json: expected an array/);
    badTools(() => parseToolsJson('[{"a": 1, "a": 2}]'), /Duplicate key/);
    badTools(() => parseToolsJson(undefined as unknown as string), /expected JSON text/);
    badTools(() => parseToolsJson(`[${" ".repeat(TOOL_LIMITS.maxBytes * 4)}]`), /too large/);
  });
});

describe("local $ref", () => {
  const colour = { type: "string", enum: ["red", "green", "blue"] };

  test("a $ref into $defs is replaced by its schema, sibling keywords win, $defs is dropped", () => {
    const { schema } = normalizeParameters(
      {
        type: "object",
        $defs: { colour, room: { type: "string", description: "a room" } },
        properties: {
          colour: { $ref: "#/$defs/colour" },
          room: { $ref: "#/$defs/room", description: "where" },
          rooms: { type: "array", items: { $ref: "#/$defs/room" } },
        },
        required: ["colour"],
      },
      "paint",
    );
    expect(schema.properties.colour).toEqual(colour);
    expect(schema.properties.room).toEqual({ type: "string", description: "where" });
    expect(schema.properties.rooms).toEqual({ type: "array", items: { type: "string", description: "a room" } });
    expect(schema.$defs).toBeUndefined();
    const validate = compile(schema);
    expect(validate({ colour: "red", rooms: ["hall"] })).toBe(true);
    expect(validate({ colour: "purple" })).toBe(false);
  });

  test("definitions (draft 7), escaped pointers and refs in the flat form resolve too", () => {
    const { schema } = normalizeParameters(
      { properties: { a: { $ref: "#/definitions/x~1y" } }, definitions: { "x/y": { type: "integer", minimum: 1 } } },
      "t",
    );
    expect(schema.properties.a).toEqual({ type: "integer", minimum: 1 });
    const flat = normalizeParameters({ n: { $ref: "#/m" }, m: { type: "number" } }, "t").schema;
    expect(flat.properties.n).toEqual({ type: "number" });
  });

  test("a recursive type becomes any value where it comes back to itself", () => {
    const { schema } = normalizeParameters(
      {
        type: "object",
        $defs: { node: { type: "object", properties: { name: { type: "string" }, child: { $ref: "#/$defs/node" } } } },
        properties: { tree: { $ref: "#/$defs/node" } },
      },
      "tree",
    );
    const tree = schema.properties.tree as { type: string; properties: Record<string, object> };
    expect(tree.type).toBe("object");
    expect(tree.properties.name).toEqual({ type: "string" });
    expect(tree.properties.child).toEqual({});
  });

  test("a $ref that is not local or points nowhere is a clear BAD_TOOLS error", () => {
    badTools(() => normalizeParameters({ type: "object", properties: { a: { $ref: "other.json#/x" } } }, "t"),
      /tool "t": parameter "a" has "\$ref": "other.json#\/x", which is not local/);
    badTools(() => normalizeParameters({ type: "object", properties: { a: { $ref: "#/$defs/nope" } } }, "t"),
      /parameter "a" has "\$ref": "#\/\$defs\/nope", which points to no schema/);
  });
});
