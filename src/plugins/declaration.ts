// Load-time checks of a plugin's declaration. A plugin that fails any of them is reported with every
// reason found and skipped; nothing of it is registered.
import { Ajv, type ValidateFunction } from "ajv";
import { normalizeParameters } from "../engine/tool-schema.js";
import { EngineError } from "../engine/types.js";
import type { PluginDefinition, ToolDefinition } from "./api.js";

export const TOOL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
export const PLUGIN_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export interface CheckedTool {
  def: ToolDefinition;
  /** Validates (and fills defaults into) a copy of the arguments. */
  validate: ValidateFunction;
}

export interface CheckedPlugin {
  def: PluginDefinition;
  tools: CheckedTool[];
}

export class DeclarationError extends Error {
  override name = "DeclarationError";
  constructor(readonly problems: string[]) {
    super(problems.join("; "));
  }
}

/** One ajv instance for all argument schemas: lenient about unknown keywords (examples, x-...). */
export function argumentAjv(): Ajv {
  return new Ajv({ allErrors: true, strict: false, useDefaults: true, logger: false });
}

/** Checks shape, names and schemas; throws DeclarationError listing every problem. */
export function checkPlugin(value: unknown, ajv: Ajv = argumentAjv()): CheckedPlugin {
  const problems: string[] = [];
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DeclarationError([
      `the default export must be a plugin object (export default definePlugin({...})), got ${describe(value)}`,
    ]);
  }
  const p = value as Record<string, unknown>;
  if (typeof p.name !== "string" || !PLUGIN_NAME.test(p.name)) {
    problems.push(`name must be a string matching ${PLUGIN_NAME} (got ${describe(p.name)})`);
  }
  for (const hook of ["start", "stop"] as const) {
    if (p[hook] !== undefined && typeof p[hook] !== "function") problems.push(`${hook} must be a function`);
  }
  const tools: CheckedTool[] = [];
  if (!Array.isArray(p.tools)) {
    problems.push(`tools must be an array (got ${describe(p.tools)})`);
  } else {
    const seen = new Set<string>();
    p.tools.forEach((t, i) => {
      const checked = checkTool(t, i, ajv, problems);
      if (!checked) return;
      if (seen.has(checked.def.name)) {
        problems.push(`tool "${checked.def.name}" is declared twice`);
        return;
      }
      seen.add(checked.def.name);
      tools.push(checked);
    });
  }
  if (problems.length > 0) throw new DeclarationError(problems);
  return { def: value as PluginDefinition, tools };
}

function checkTool(value: unknown, index: number, ajv: Ajv, problems: string[]): CheckedTool | undefined {
  const before = problems.length;
  if (typeof value !== "object" || value === null) {
    problems.push(`tools[${index}] must be an object`);
    return undefined;
  }
  const t = value as Record<string, unknown>;
  const label = typeof t.name === "string" ? `tool "${t.name}"` : `tools[${index}]`;
  if (typeof t.name !== "string" || !TOOL_NAME.test(t.name)) {
    problems.push(`${label}: name must match ${TOOL_NAME} (got ${describe(t.name)})`);
  }
  if (typeof t.description !== "string" || t.description.trim() === "") {
    problems.push(`${label}: description must be a non-empty string`);
  }
  if (typeof t.handler !== "function") problems.push(`${label}: handler must be a function (got ${describe(t.handler)})`);
  if (t.sensitive !== undefined && typeof t.sensitive !== "boolean" && typeof t.sensitive !== "function") {
    problems.push(`${label}: sensitive must be a boolean or a function of the arguments`);
  }
  if (t.describe !== undefined && typeof t.describe !== "function") problems.push(`${label}: describe must be a function`);
  if (t.timeoutMs !== undefined && !(typeof t.timeoutMs === "number" && t.timeoutMs > 0 && Number.isFinite(t.timeoutMs))) {
    problems.push(`${label}: timeoutMs must be a positive number of milliseconds`);
  }
  if (t.examples !== undefined && !(Array.isArray(t.examples) && t.examples.every((e) => typeof e === "string"))) {
    problems.push(`${label}: examples must be a list of strings`);
  }
  let validate: ValidateFunction | undefined;
  const params = t.parameters;
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    problems.push(`${label}: parameters must be a JSON Schema object ({"type": "object", "properties": {...}})`);
  } else if ((params as { type?: unknown }).type !== "object") {
    problems.push(`${label}: parameters.type must be "object" (got ${describe((params as { type?: unknown }).type)})`);
  } else {
    try {
      validate = ajv.compile(params);
    } catch (err) {
      problems.push(`${label}: parameters is not a valid JSON Schema: ${(err as Error).message}`);
    }
    // The engine reads every declaration on each request: what it cannot take must stop this plugin here,
    // not every prediction later.
    try {
      normalizeParameters(params, typeof t.name === "string" ? t.name : `tools[${index}]`);
    } catch (err) {
      if (!(err instanceof EngineError)) throw err;
      if (validate) problems.push(`${label}: ${err.message.replace(/^tool "[^"]*": /, "")}`);
    }
  }
  if (problems.length > before || !validate) return undefined;
  return { def: value as ToolDefinition, validate };
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v);
  return typeof v;
}
