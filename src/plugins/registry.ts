// The tools of every loaded plugin, by name. Tool names are unique across plugins: a plugin that would
// shadow another's tool is refused as a whole.
import type { ToolDeclaration } from "../engine/types.js";
import type { JsonSchema, PluginDefinition, ToolDefinition } from "./api.js";
import { DeclarationError, type CheckedPlugin } from "./declaration.js";
import type { ValidateFunction } from "ajv";

export interface RegisteredTool {
  name: string;
  plugin: string;
  def: ToolDefinition;
  validate: ValidateFunction;
}

export interface RegisteredPlugin {
  def: PluginDefinition;
  /** Where it was loaded from (a file path, or "(inline)"). */
  source: string;
  builtin: boolean;
  tools: string[];
}

/** What `GET /v1/tools` and `needled tools` show. */
export interface ToolInfo {
  name: string;
  description: string;
  parameters: JsonSchema;
  plugin: string;
  /** true, false, or "depends" when a function decides per call. */
  sensitive: boolean | "depends";
  examples?: string[];
}

export class Registry {
  private readonly tools = new Map<string, RegisteredTool>();
  private readonly plugins = new Map<string, RegisteredPlugin>();
  private declCache: ToolDeclaration[] | undefined;

  add(checked: CheckedPlugin, source: string, builtin = false): RegisteredPlugin {
    const name = checked.def.name;
    const other = this.plugins.get(name);
    if (other) throw new DeclarationError([`a plugin named "${name}" is already loaded (from ${other.source})`]);
    const clashes = checked.tools
      .filter((t) => this.tools.has(t.def.name))
      .map((t) => `tool "${t.def.name}" is already provided by plugin "${this.tools.get(t.def.name)!.plugin}"`);
    if (clashes.length > 0) throw new DeclarationError(clashes);
    for (const t of checked.tools) {
      this.tools.set(t.def.name, { name: t.def.name, plugin: name, def: t.def, validate: t.validate });
    }
    const entry: RegisteredPlugin = { def: checked.def, source, builtin, tools: checked.tools.map((t) => t.def.name) };
    this.plugins.set(name, entry);
    this.declCache = undefined;
    return entry;
  }

  /** Takes a plugin's tools away (its start() failed). */
  remove(pluginName: string): void {
    const p = this.plugins.get(pluginName);
    if (!p) return;
    for (const t of p.tools) this.tools.delete(t);
    this.plugins.delete(pluginName);
    this.declCache = undefined;
  }

  get(toolName: string): RegisteredTool | undefined {
    return this.tools.get(toolName);
  }

  plugin(name: string): RegisteredPlugin | undefined {
    return this.plugins.get(name);
  }

  pluginList(): RegisteredPlugin[] {
    return [...this.plugins.values()];
  }

  get size(): number {
    return this.tools.size;
  }

  /** What the engine is given: name, description, parameters (a stable array until the registry changes). */
  declarations(): ToolDeclaration[] {
    this.declCache ??= [...this.tools.values()].map((t) => ({
      name: t.name,
      description: t.def.description,
      parameters: t.def.parameters,
    }));
    return this.declCache;
  }

  list(): ToolInfo[] {
    return [...this.tools.values()].map((t) => ({
      name: t.name,
      description: t.def.description,
      parameters: t.def.parameters,
      plugin: t.plugin,
      sensitive: typeof t.def.sensitive === "function" ? "depends" : t.def.sensitive === true,
      ...(t.def.examples ? { examples: t.def.examples } : {}),
    }));
  }
}
