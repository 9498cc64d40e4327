// Tool declarations: validation, snake_case names, and one canonical JSON Schema per tool for the grammar and
// the argument validator.
//
// Accepted `parameters` forms:
//   - JSON Schema object: {"type": "object", "properties": {...}, "required": [...]} (type may be missing);
//   - Needle v1 flat map: {"<arg>": {"type", "description", "required": true|false}, ...};
//   - missing, null or {}: no arguments.
// Canonical form: {"type": "object", "properties": {...}, "required": [...]} with, recursively:
//   - BFCL/Python type names mapped: dict -> object, float/double -> number, tuple/list -> array,
//     int -> integer, str -> string, bool -> boolean, any -> no type (any value); names are case-insensitive;
//   - a property schema with `"required": true|false` (flat style inside JSON Schema) moves into the parent's
//     `required` list; `required` entries that name no property, or are not strings, are dropped;
//   - an `enum` containing null adds "null" to the type; a `default` that does not fit the type is dropped;
//   - a schema with `properties` but no `type` gets type "object";
//   - numbers read losslessly from a file become JS numbers;
//   - local references ("$ref": "#/$defs/colour", any JSON pointer into the parameters) are replaced by the
//     schema they point at (sibling keywords win); the parameters' $defs / definitions are then dropped. A
//     reference back into a schema it is already inside (a recursive type) becomes "any value" at that point,
//     because a grammar needs a finite shape. A $ref that is not local ("other.json#/x") or points nowhere is
//     a BAD_TOOLS error;
//   - keywords the engine does not know are kept as they are and ignored (validators must not be strict).
// Anything else malformed (unknown type name, non-object schemas, `properties` not an object, ...) is an
// EngineError BAD_TOOLS naming the tool and the place.
import {
  isPlainObject,
  parseJsonPreservingNumbers,
  pythonJsonDumps,
  PythonJsonError,
  toPlainJson,
} from "./python-json.js";
import { EngineError, type JsonSchema, type ToolDeclaration } from "./types.js";

export const TOOL_LIMITS = {
  /** Most tools one request may declare. */
  maxTools: 256,
  /** Most bytes the declarations may take as compact JSON (the prompt's serialisation). */
  maxBytes: 1_000_000,
  /** Deepest schema nesting accepted. */
  maxDepth: 32,
} as const;

export interface ToolLimits {
  maxTools?: number;
  maxBytes?: number;
}

/** The canonical parameters schema of a tool. */
export interface ObjectSchema extends JsonSchema {
  type: "object";
  properties: Record<string, JsonSchema>;
  required: string[];
}

export interface NormalizedTool {
  /** The name as declared (what the dispatcher and handlers use). */
  name: string;
  /** The snake_case name the model sees and writes. */
  modelName: string;
  description?: string;
  /** Canonical JSON Schema of the arguments. */
  parameters: ObjectSchema;
  /** How `parameters` was declared. */
  form: "json-schema" | "flat" | "none";
  /**
   * The tool as the prompt shows it: Python's compact `json.dumps` of {"name": snake_case name,
   * "description", "parameters"} in that order, description and parameters as declared (numbers keep their
   * spelling; a missing description or parameters stays missing); other fields (examples, handler) are left out.
   */
  promptJson: string;
}

/**
 * Needle's snake_case: non-alphanumerics (ASCII) -> "_", split acronym runs and camelCase
 * (`getHTTPResponse` -> `get_http_response`, `HTML2Text` -> `html2_text`), collapse "_", lower-case, trim "_".
 */
export function snakeCase(name: string): string {
  return name
    .replace(/[^0-9A-Za-z]/g, "_")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/_+/g, "_")
    .toLowerCase()
    .replace(/^_+|_+$/g, "");
}

const TYPE_ALIASES: Record<string, string | null> = {
  string: "string",
  str: "string",
  number: "number",
  float: "number",
  double: "number",
  integer: "integer",
  int: "integer",
  boolean: "boolean",
  bool: "boolean",
  array: "array",
  list: "array",
  tuple: "array",
  object: "object",
  dict: "object",
  null: "null",
  any: null,
};

/** Keywords that mark a type-less object as a JSON Schema rather than a flat argument map. */
const SCHEMA_KEYWORDS = new Set([
  "type", "properties", "required", "additionalProperties", "description", "title", "$schema", "$id",
  "definitions", "$defs", "patternProperties", "minProperties", "maxProperties", "dependencies", "default",
]);

function kindOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

class SchemaContext {
  /** The whole parameters object, for resolving local $refs. */
  root: unknown = undefined;
  /** The $refs being expanded right now (a recursive type comes back to one of them). */
  readonly expanding: string[] = [];

  constructor(readonly tool: string) {}

  /** `path` is where in the parameters the problem is: "" for parameters itself, "a.b[]" for nested ones. */
  fail(path: string, problem: string): never {
    const where = path === "" ? "parameters" : `parameter "${path}"`;
    throw new EngineError(`tool "${this.tool}": ${where} ${problem}`, "BAD_TOOLS");
  }
}

const join = (path: string, name: string): string => (path === "" ? name : `${path}.${name}`);

function fitsType(value: unknown, type: string): boolean {
  switch (type) {
    case "string": return typeof value === "string";
    case "integer": return typeof value === "number" && Number.isInteger(value);
    case "number": return typeof value === "number" && Number.isFinite(value);
    case "boolean": return typeof value === "boolean";
    case "array": return Array.isArray(value);
    case "object": return isPlainObject(value);
    case "null": return value === null;
    default: return true;
  }
}

function normalizeType(raw: unknown, ctx: SchemaContext, where: string): string | string[] | undefined {
  const one = (t: unknown): string | null => {
    if (typeof t !== "string") ctx.fail(where, `has a "type" that is ${kindOf(t)}, not a type name`);
    const mapped = TYPE_ALIASES[t.toLowerCase()];
    if (mapped === undefined) ctx.fail(where, `has unknown type "${t}"`);
    return mapped;
  };
  if (Array.isArray(raw)) {
    const types = raw.map(one);
    if (types.includes(null) || types.length === 0) return undefined; // "any" anywhere: any value
    const unique = [...new Set(types as string[])];
    return unique.length === 1 ? unique[0] : unique;
  }
  return one(raw) ?? undefined;
}

const NUMERIC_KEYWORDS = ["minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems", "multipleOf"];

/** The value a local JSON pointer ("#/$defs/a~1b") names inside `root`, or undefined. */
function resolvePointer(root: unknown, ref: string): unknown {
  if (ref === "#") return root;
  if (!ref.startsWith("#/")) return undefined;
  let node = root;
  for (const raw of ref.slice(2).split("/")) {
    const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (isPlainObject(node) && Object.hasOwn(node, key)) node = node[key];
    else return undefined;
  }
  return node;
}

/** Canonical form of one schema (plain JSON values in, plain JSON values out). */
function normalizeSchema(raw: unknown, ctx: SchemaContext, where: string, depth: number): JsonSchema {
  // `where` is the path of this schema inside the tool's parameters (see SchemaContext.fail).
  if (!isPlainObject(raw)) ctx.fail(where, `must be a schema object, not ${kindOf(raw)}`);
  if (depth > TOOL_LIMITS.maxDepth) ctx.fail(where, `is nested deeper than ${TOOL_LIMITS.maxDepth} levels`);
  if (typeof raw.$ref === "string") {
    const ref = raw.$ref;
    const { $ref: _ref, ...siblings } = raw;
    if (ctx.expanding.includes(ref)) return normalizeSchema(siblings, ctx, where, depth + 1); // recursive: any value
    if (!ref.startsWith("#")) ctx.fail(where, `has "$ref": "${ref}", which is not local (only "#/..." references are resolved)`);
    const target = resolvePointer(ctx.root, ref);
    if (!isPlainObject(target)) ctx.fail(where, `has "$ref": "${ref}", which points to no schema in the parameters`);
    ctx.expanding.push(ref);
    try {
      return normalizeSchema({ ...target, ...siblings }, ctx, where, depth + 1);
    } finally {
      ctx.expanding.pop();
    }
  }
  const out: JsonSchema = {};
  for (const key of Object.keys(raw)) {
    if (key === "__proto__") continue;
    out[key] = raw[key];
  }
  if ("type" in raw) {
    const type = normalizeType(raw.type, ctx, where);
    if (type === undefined) delete out.type;
    else out.type = type;
  }
  if (out.description !== undefined && typeof out.description !== "string") {
    ctx.fail(where, `has a description that is ${kindOf(out.description)}, not a string`);
  }
  for (const k of NUMERIC_KEYWORDS) {
    if (out[k] !== undefined && typeof out[k] !== "number") ctx.fail(where, `has "${k}" that is ${kindOf(out[k])}, not a number`);
  }
  if (out.properties !== undefined) {
    const { properties, required } = normalizeProperties(out.properties, out.required, ctx, where, depth);
    out.properties = properties;
    out.required = required;
    if (out.type === undefined) out.type = "object";
  } else if (out.required !== undefined) {
    // `required` without properties: JSON Schema would require keys nobody declared; keep only a clean list.
    out.required = Array.isArray(out.required) ? out.required.filter((r): r is string => typeof r === "string") : [];
    if (out.required.length === 0) delete out.required;
  }
  if (out.items !== undefined) {
    if (Array.isArray(out.items)) out.items = out.items.map((s, i) => normalizeSchema(s, ctx, `${where}[${i}]`, depth + 1));
    else out.items = normalizeSchema(out.items, ctx, `${where}[]`, depth + 1);
  }
  if (out.additionalProperties !== undefined && typeof out.additionalProperties !== "boolean") {
    out.additionalProperties = normalizeSchema(out.additionalProperties, ctx, join(where, "*"), depth + 1);
  }
  for (const k of ["anyOf", "oneOf", "allOf"] as const) {
    const list = out[k];
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.length === 0) ctx.fail(where, `has "${k}" that is not a non-empty array of schemas`);
    out[k] = list.map((s, i) => normalizeSchema(s, ctx, `${where}<${k}[${i}]>`, depth + 1));
  }
  if (out.enum !== undefined) {
    if (!Array.isArray(out.enum) || out.enum.length === 0) ctx.fail(where, `has an "enum" that is not a non-empty array`);
    if (out.enum.includes(null) && out.type !== undefined) {
      const types = Array.isArray(out.type) ? out.type : [out.type];
      if (!types.includes("null")) out.type = [...types, "null"];
    }
  }
  if ("default" in out && out.type !== undefined) {
    const types = Array.isArray(out.type) ? out.type : [out.type];
    if (!types.some((t) => fitsType(out.default, t))) delete out.default;
  }
  return out;
}

function normalizeProperties(
  rawProps: unknown,
  rawRequired: unknown,
  ctx: SchemaContext,
  where: string,
  depth: number,
): { properties: Record<string, JsonSchema>; required: string[] } {
  if (!isPlainObject(rawProps)) ctx.fail(where, `has "properties" that is ${kindOf(rawProps)}, not an object`);
  const properties: Record<string, JsonSchema> = {};
  const required = new Set<string>();
  if (Array.isArray(rawRequired)) {
    for (const r of rawRequired) if (typeof r === "string" && Object.hasOwn(rawProps, r)) required.add(r);
  }
  for (const name of Object.keys(rawProps)) {
    const label = join(where, name);
    const raw = rawProps[name];
    let flagged: boolean | undefined;
    let schemaIn = raw;
    if (isPlainObject(raw) && typeof raw.required === "boolean") {
      flagged = raw.required;
      const { required: _flag, ...rest } = raw;
      schemaIn = rest;
    }
    const schema = normalizeSchema(schemaIn, ctx, label, depth + 1);
    Object.defineProperty(properties, name, { value: schema, enumerable: true, writable: true, configurable: true });
    if (flagged === true) required.add(name);
    if (flagged === false) required.delete(name);
  }
  return { properties, required: Object.keys(properties).filter((k) => required.has(k)) };
}

/** Which form a `parameters` value is in (see the file header). */
export function parametersForm(parameters: unknown): "json-schema" | "flat" | "none" | "invalid" {
  if (parameters === undefined || parameters === null) return "none";
  if (!isPlainObject(parameters)) return "invalid";
  const keys = Object.keys(parameters);
  if (keys.length === 0) return "none";
  const { type, properties, required } = parameters;
  if (typeof type === "string" || Array.isArray(type)) return "json-schema";
  const schemaLike =
    isPlainObject(properties) &&
    Object.values(properties).every(isPlainObject) &&
    (required === undefined || Array.isArray(required));
  // A flat map's entries are all schemas ("required" may list the required ones).
  const flatLike = keys.every((k) => isPlainObject(parameters[k]) || (k === "required" && Array.isArray(required)));
  if (schemaLike && (!flatLike || keys.every((k) => SCHEMA_KEYWORDS.has(k)))) return "json-schema";
  if (flatLike) return "flat";
  return "invalid";
}

/** The canonical object schema of a tool's `parameters` (any accepted form). Throws EngineError BAD_TOOLS. */
export function normalizeParameters(parameters: unknown, toolName: string): { schema: ObjectSchema; form: NormalizedTool["form"] } {
  const ctx: SchemaContext = new SchemaContext(toolName);
  let plain: unknown;
  try {
    plain = toPlainJson(parameters);
  } catch (err) {
    if (!(err instanceof PythonJsonError)) throw err;
    ctx.fail("", `cannot be read as JSON: ${err.message.replace(/^\$/, "parameters")}`);
  }
  const form = parametersForm(plain);
  if (form === "none") return { schema: { type: "object", properties: {}, required: [] }, form };
  if (!isPlainObject(plain)) {
    ctx.fail("", `must be an object (a JSON Schema or a flat map of argument schemas), not ${kindOf(plain)}`);
  }
  if (form === "invalid") {
    const bad = Object.keys(plain).find((k) => !isPlainObject(plain[k])) ?? "";
    ctx.fail("", `are neither a JSON Schema object nor a flat map of argument schemas (entry "${bad}" is ${kindOf(plain[bad])})`);
  }
  ctx.root = plain; // what local $refs point into, in either form
  if (form === "flat") {
    const list = Array.isArray(plain.required) ? plain.required : undefined;
    const rawProps: Record<string, unknown> = {};
    for (const k of Object.keys(plain)) {
      if (k === "required" && list) continue;
      Object.defineProperty(rawProps, k, { value: plain[k], enumerable: true, writable: true, configurable: true });
    }
    const { properties, required } = normalizeProperties(rawProps, list, ctx, "", 0);
    return { schema: { type: "object", properties, required }, form };
  }
  const schema = normalizeSchema(plain, ctx, "", 0);
  delete schema.$defs; // every $ref is resolved by now
  delete schema.definitions;
  if (schema.type !== undefined && schema.type !== "object") {
    ctx.fail("", `must describe an object, not type ${JSON.stringify(schema.type)}`);
  }
  return {
    schema: { ...schema, type: "object", properties: schema.properties ?? {}, required: schema.required ?? [] },
    form,
  };
}

/** The fields of a declaration the prompt shows, in the order it shows them (as training/datagen writes them). */
const PROMPT_KEYS = ["name", "description", "parameters"] as const;

/**
 * Validates tool declarations and normalises each (see the file header). `tools` comes from a plugin, an HTTP
 * client or a file (numbers may be LosslessNumbers). Throws EngineError BAD_TOOLS with the tool and the problem.
 */
export function normalizeTools(tools: unknown, limits: ToolLimits = {}): NormalizedTool[] {
  const maxTools = limits.maxTools ?? TOOL_LIMITS.maxTools;
  const maxBytes = limits.maxBytes ?? TOOL_LIMITS.maxBytes;
  if (!Array.isArray(tools)) {
    throw new EngineError(`tools must be an array of tool declarations, not ${kindOf(tools)}`, "BAD_TOOLS");
  }
  if (tools.length > maxTools) {
    throw new EngineError(`too many tools: ${tools.length} declared, at most ${maxTools}`, "BAD_TOOLS");
  }
  const out: NormalizedTool[] = [];
  const byModelName = new Map<string, string>();
  let bytes = 2;
  tools.forEach((tool: unknown, index) => {
    const label = `tool #${index + 1}`;
    if (typeof tool !== "object" || tool === null || Array.isArray(tool)) {
      throw new EngineError(`${label} is ${kindOf(tool)}, not a tool declaration object`, "BAD_TOOLS");
    }
    const decl = tool as Record<string, unknown>;
    if (decl.name === undefined || decl.name === null || decl.name === "") {
      throw new EngineError(`${label} has no name`, "BAD_TOOLS");
    }
    if (typeof decl.name !== "string") throw new EngineError(`${label}: name is ${kindOf(decl.name)}, not a string`, "BAD_TOOLS");
    const name = decl.name;
    const modelName = snakeCase(name);
    if (modelName === "") {
      throw new EngineError(`tool "${name}": the name has no ASCII letters or digits (the model writes snake_case ASCII names)`, "BAD_TOOLS");
    }
    const clash = byModelName.get(modelName);
    if (clash !== undefined) {
      throw new EngineError(
        clash === name
          ? `tool "${name}" is declared twice`
          : `tools "${clash}" and "${name}" have the same name in snake_case ("${modelName}")`,
        "BAD_TOOLS",
      );
    }
    byModelName.set(modelName, name);
    if (decl.description !== undefined && typeof decl.description !== "string") {
      throw new EngineError(`tool "${name}": description is ${kindOf(decl.description)}, not a string`, "BAD_TOOLS");
    }
    const { schema, form } = normalizeParameters(decl.parameters, name);
    const shown: Record<string, unknown> = { name: modelName };
    for (const key of PROMPT_KEYS) if (key !== "name" && decl[key] !== undefined) shown[key] = decl[key];
    let promptJson: string;
    try {
      promptJson = pythonJsonDumps(shown);
    } catch (err) {
      if (!(err instanceof PythonJsonError)) throw err;
      throw new EngineError(`tool "${name}": ${err.message.replace(/^\$\./, "")}`, "BAD_TOOLS");
    }
    bytes += promptJson.length + 1;
    if (bytes > maxBytes) {
      throw new EngineError(`tool declarations are too large: over ${maxBytes} bytes as compact JSON (at "${name}")`, "BAD_TOOLS");
    }
    out.push({
      name,
      modelName,
      ...(typeof decl.description === "string" ? { description: decl.description } : {}),
      parameters: schema,
      form,
      promptJson,
    });
  });
  return out;
}

/**
 * Reads tool declarations from JSON text (a `--tools` file, an HTTP body) keeping each number's spelling, so
 * that the prompt shows `0.0` where the file says `0.0`. Accepts an array, or an object with a `tools` array.
 * Throws EngineError BAD_TOOLS on malformed JSON (with the position), or on text longer than 4 x maxBytes
 * characters (a pretty-printed file is larger than the compact form that maxBytes limits).
 */
export function parseToolsJson(text: string, source = "tools", limits: ToolLimits = {}): ToolDeclaration[] {
  const maxBytes = limits.maxBytes ?? TOOL_LIMITS.maxBytes;
  if (typeof text !== "string") throw new EngineError(`${source}: expected JSON text`, "BAD_TOOLS");
  if (text.length > maxBytes * 4) {
    throw new EngineError(`${source}: ${text.length} characters is too large for tool declarations`, "BAD_TOOLS");
  }
  let value: unknown;
  try {
    value = parseJsonPreservingNumbers(text);
  } catch (err) {
    throw new EngineError(`${source} is not valid JSON: ${(err as Error).message}`, "BAD_TOOLS");
  }
  if (isPlainObject(value) && Array.isArray(value.tools)) value = value.tools;
  if (!Array.isArray(value)) {
    throw new EngineError(`${source}: expected an array of tool declarations (or {"tools": [...]}), got ${kindOf(value)}`, "BAD_TOOLS");
  }
  return value as ToolDeclaration[];
}
