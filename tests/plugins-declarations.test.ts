// Load-time checks: a broken plugin is reported with the reason and skipped; good ones register.
import { describe, it, expect, beforeAll } from "vitest";
import { join } from "node:path";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { checkPlugin, DeclarationError } from "../src/plugins/declaration.js";
import { discoverPlugins, importPlugin, type PluginSource } from "../src/plugins/loader.js";
import { argumentAjv } from "../src/plugins/declaration.js";
import { Registry } from "../src/plugins/registry.js";
import { definePlugin } from "../src/plugins/api.js";
import { FIXTURE_PLUGINS } from "./helpers/daemon.js";

const tool = (over: Record<string, unknown> = {}) => ({
  name: "do_thing",
  description: "Does a thing",
  parameters: { type: "object", properties: { x: { type: "string" } }, required: ["x"] },
  handler: () => ({ say: "ok" }),
  ...over,
});
const plugin = (over: Record<string, unknown> = {}) => ({ name: "p", tools: [tool()], ...over });

function problems(value: unknown): string[] {
  try {
    checkPlugin(value);
  } catch (err) {
    expect(err).toBeInstanceOf(DeclarationError);
    return (err as DeclarationError).problems;
  }
  throw new Error("expected a DeclarationError");
}

describe("checkPlugin", () => {
  it("accepts a definePlugin object and compiles its schemas", () => {
    const checked = checkPlugin(definePlugin(plugin() as never));
    expect(checked.tools.map((t) => t.def.name)).toEqual(["do_thing"]);
    expect(checked.tools[0]!.validate({ x: "a" })).toBe(true);
    expect(checked.tools[0]!.validate({})).toBe(false);
  });

  it.each([
    ["not an object", 42, /default export must be a plugin object .* got number/],
    ["null", null, /got null/],
    ["bad plugin name", plugin({ name: "has space" }), /name must be a string matching/],
    ["tools missing", { name: "p" }, /tools must be an array \(got nothing\)/],
    ["bad tool name", plugin({ tools: [tool({ name: "do-thing" })] }), /tool "do-thing": name must match/],
    ["tool name with a digit first", plugin({ tools: [tool({ name: "1abc" })] }), /name must match/],
    ["no description", plugin({ tools: [tool({ description: "" })] }), /description must be a non-empty string/],
    ["handler not a function", plugin({ tools: [tool({ handler: "nope" })] }), /handler must be a function \(got "nope"\)/],
    ["schema does not compile", plugin({ tools: [tool({ parameters: { type: "object", properties: { x: { type: "strung" } } } })] }), /parameters is not a valid JSON Schema/],
    ["parameters not an object schema", plugin({ tools: [tool({ parameters: { type: "string" } })] }), /parameters.type must be "object"/],
    ["no parameters", plugin({ tools: [tool({ parameters: undefined })] }), /parameters must be a JSON Schema object/],
    ["duplicate tool", plugin({ tools: [tool(), tool()] }), /tool "do_thing" is declared twice/],
    ["bad sensitive", plugin({ tools: [tool({ sensitive: "yes" })] }), /sensitive must be a boolean or a function/],
    ["bad timeout", plugin({ tools: [tool({ timeoutMs: -5 })] }), /timeoutMs must be a positive number/],
    ["start not a function", plugin({ start: 1 }), /start must be a function/],
  ])("rejects %s", (_label, value, reason) => {
    expect(problems(value).join("\n")).toMatch(reason);
  });

  it("rejects a schema ajv takes but the engine cannot (it would fail every prediction otherwise)", () => {
    let deep: Record<string, unknown> = { type: "string" };
    for (let i = 0; i < 40; i++) deep = { type: "object", properties: { x: deep } };
    expect(() => argumentAjv().compile(deep)).not.toThrow();
    const p = problems(plugin({ tools: [tool({ parameters: deep })] }));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatch(/^tool "do_thing": parameters cannot be read as JSON: parameters(\.properties\.x)+: nested deeper than 64 levels$/);
  });

  it("accepts local $refs (the engine resolves them; ajv validates with them)", () => {
    const checked = checkPlugin(plugin({
      tools: [tool({
        parameters: {
          type: "object", $defs: { mode: { type: "string", enum: ["eco", "boost"] } },
          properties: { mode: { $ref: "#/$defs/mode" } }, required: ["mode"],
        },
      })],
    }));
    expect(checked.tools[0]!.validate({ mode: "eco" })).toBe(true);
    expect(checked.tools[0]!.validate({ mode: "turbo" })).toBe(false);
  });

  it("lists every problem of a plugin at once", () => {
    const p = problems(plugin({ name: "", tools: [tool({ name: "a-b" }), tool({ name: "ok", handler: null })] }));
    expect(p).toHaveLength(3);
  });
});

describe("discovery and import of plugin directories", () => {
  let found: Awaited<ReturnType<typeof discoverPlugins>>;
  beforeAll(async () => {
    found = await discoverPlugins({ builtin: false, dirs: [FIXTURE_PLUGINS, join(FIXTURE_PLUGINS, "..", "no-such-dir")] });
  });

  it("finds index.js, index.mjs and package.json main entries; skips non-plugin files", () => {
    const entries = found.sources.map((s) => s.entry.slice(FIXTURE_PLUGINS.length + 1));
    expect(entries).toEqual([
      "broken-decl/index.js",
      "echo/index.js",
      "jobs/index.js",
      "no-default/index.js",
      "start-fails/main.js",
      "throws-on-import/index.js",
      "zz-duplicate/index.mjs",
    ]);
    expect(found.failures).toEqual([{ source: join(FIXTURE_PLUGINS, "..", "no-such-dir"), reason: "plugin directory does not exist" }]);
  });

  it("a directory that is itself a plugin is loaded as one", async () => {
    const one = await discoverPlugins({ builtin: false, dirs: [join(FIXTURE_PLUGINS, "echo")] });
    expect(one.sources.map((s) => s.entry)).toEqual([join(FIXTURE_PLUGINS, "echo", "index.js")]);
  });

  it("imports good plugins and gives a reason for each broken one", async () => {
    const ajv = argumentAjv();
    const by = (dir: string) => found.sources.find((s) => s.dir.endsWith(`/${dir}`)) as PluginSource;
    expect((await importPlugin(by("echo"), ajv)).def.name).toBe("fx-echo");
    expect((await importPlugin(by("jobs"), ajv)).def.name).toBe("fx-jobs");
    await expect(importPlugin(by("broken-decl"), ajv)).rejects.toThrow(/tool "bad-name": name must match.*tool "bad_schema": parameters is not a valid JSON Schema.*tool "no_handler": handler must be a function/);
    await expect(importPlugin(by("no-default"), ajv)).rejects.toThrow(/no default export/);
    await expect(importPlugin(by("throws-on-import"), ajv)).rejects.toThrow(/this plugin cannot even load/);
  });

  it("reports a built-in plugin that is not there", async () => {
    const r = await discoverPlugins({ builtin: ["no-such-builtin"], builtinDir: FIXTURE_PLUGINS, dirs: [] });
    expect(r.failures[0]!.reason).toMatch(/no built-in plugin "no-such-builtin"/);
  });

  it("reports a package.json that is broken or points nowhere", async () => {
    const dir = await mkdtemp(join(tmpdir(), "needled-plugdir-"));
    try {
      await mkdir(join(dir, "a"));
      await writeFile(join(dir, "a", "package.json"), '{"main": "gone.js"}');
      await mkdir(join(dir, "b"));
      await writeFile(join(dir, "b", "package.json"), "{nope");
      await mkdir(join(dir, "c")); // not a plugin: ignored
      const r = await discoverPlugins({ builtin: false, dirs: [dir] });
      expect(r.sources).toEqual([]);
      expect(r.failures.map((f) => [f.source.slice(dir.length + 1), f.reason.split(" (")[0]])).toEqual([
        ["a", 'package.json "main" points to a missing file: gone.js'],
        ["b", "package.json is not valid JSON"],
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("Registry", () => {
  it("refuses a plugin whose tool another plugin already provides, and keeps the first", () => {
    const r = new Registry();
    r.add(checkPlugin(plugin({ name: "a" })), "a.js");
    expect(() => r.add(checkPlugin(plugin({ name: "b" })), "b.js")).toThrow(/tool "do_thing" is already provided by plugin "a"/);
    expect(() => r.add(checkPlugin(plugin({ name: "a", tools: [tool({ name: "other" })] })), "a2.js")).toThrow(/a plugin named "a" is already loaded \(from a.js\)/);
    expect(r.get("do_thing")!.plugin).toBe("a");
    expect(r.size).toBe(1);
  });

  it("gives the engine name/description/parameters and lists sensitivity", () => {
    const r = new Registry();
    r.add(
      checkPlugin(
        plugin({
          tools: [tool(), tool({ name: "unlock", sensitive: true }), tool({ name: "open_cover", sensitive: () => true })],
        }),
      ),
      "p.js",
    );
    expect(r.declarations().map((d) => Object.keys(d))).toEqual([
      ["name", "description", "parameters"],
      ["name", "description", "parameters"],
      ["name", "description", "parameters"],
    ]);
    expect(r.declarations()).toBe(r.declarations()); // stable until the registry changes
    expect(r.list().map((t) => [t.name, t.sensitive])).toEqual([
      ["do_thing", false],
      ["unlock", true],
      ["open_cover", "depends"],
    ]);
    r.remove("p");
    expect(r.declarations()).toEqual([]);
  });
});
