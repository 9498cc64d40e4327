// `needled plugin new NAME`: writes a working plugin (ESM, definePlugin from "needled", a tools.json
// declaration, a vitest test) that the daemon loads and whose test passes as written.
import { existsSync } from "node:fs";
import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { packageRoot } from "../daemon/paths.js";

export const SCAFFOLD_NAME = /^[a-z][a-z0-9-]{0,40}$/;

export interface ScaffoldResult {
  dir: string;
  files: string[];
  tool: string;
}

export class ScaffoldError extends Error {
  override name = "ScaffoldError";
}

/** Creates `<parent>/<name>/`; refuses to touch a directory that already has files. */
export async function scaffoldPlugin(name: string, parent: string): Promise<ScaffoldResult> {
  if (!SCAFFOLD_NAME.test(name)) {
    throw new ScaffoldError(`plugin name "${name}" must be lower case letters, digits and dashes, starting with a letter`);
  }
  const dir = resolve(parent, name);
  if (existsSync(dir) && (await readdir(dir)).length > 0) {
    throw new ScaffoldError(`${dir} already exists and is not empty`);
  }
  await mkdir(dir, { recursive: true });
  const tool = `${name.replace(/-/g, "_")}_hello`;
  const files: Record<string, string> = {
    "package.json": JSON.stringify(
      {
        name: `needled-plugin-${name}`,
        version: "0.1.0",
        description: `The ${name} plugin for needled`,
        type: "module",
        main: "index.js",
        scripts: { test: "vitest run" },
        peerDependencies: { needled: "*" },
      },
      null,
      2,
    ) + "\n",
    "tools.json": JSON.stringify(
      [
        {
          name: tool,
          description: "Say hello to someone",
          parameters: {
            type: "object",
            properties: { name: { type: "string", description: "Who to greet, as said" } },
            required: ["name"],
          },
          examples: ["say hello to Ada", "greet Grace"],
        },
      ],
      null,
      2,
    ) + "\n",
    "index.js": indexJs(name, tool),
    "index.test.js": testJs(tool),
    "README.md": readme(name, tool),
  };
  for (const [file, text] of Object.entries(files)) await writeFile(join(dir, file), text);
  // So that the plugin's own tests (and editors) resolve "needled" like `npm link needled` would.
  // The daemon does not need this: it resolves "needled" to itself for every plugin it loads.
  await mkdir(join(dir, "node_modules"), { recursive: true });
  await symlink(packageRoot(), join(dir, "node_modules", "needled"), "dir").catch(() => {});
  return { dir, files: Object.keys(files), tool };
}

function indexJs(name: string, tool: string): string {
  return `// The ${name} plugin for needled. Declarations live in tools.json (what the model sees);
// handlers are attached here by tool name.
import { readFileSync } from "node:fs";
import { definePlugin, ToolError } from "needled";

const declarations = JSON.parse(readFileSync(new URL("./tools.json", import.meta.url), "utf8"));

const handlers = {
  async ${tool}(args, ctx) {
    const who = args.name.trim();
    if (!who) throw new ToolError("Who should I greet?");
    const greetings = (ctx.store.get("greetings") ?? 0) + 1;
    await ctx.store.set("greetings", greetings);
    return { say: \`Hello, \${who}!\`, data: { greetings } };
  },
};

export default definePlugin({
  name: ${JSON.stringify(name)},
  version: "0.1.0",
  description: "An example plugin: greets people and counts how often it did",
  tools: declarations.map((d) => ({ ...d, handler: handlers[d.name] })),
  start(ctx) {
    ctx.log.info("started", { greetings: ctx.store.get("greetings") ?? 0 });
  },
});
`;
}

function testJs(tool: string): string {
  return `// Run with: npx vitest run   (from this directory)
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPluginContext } from "needled/testing";
import plugin from "./index.js";

const tool = (name) => plugin.tools.find((t) => t.name === name);

describe(plugin.name, () => {
  let stateDir;
  let ctx;
  beforeEach(async () => {
    stateDir = await mkdtemp(join(tmpdir(), "plugin-test-"));
    ctx = await createPluginContext({ name: plugin.name, stateDir });
    await plugin.start?.(ctx);
  });
  afterEach(async () => {
    await ctx.close();
    await rm(stateDir, { recursive: true, force: true });
  });

  it("declares a handler for every tool in tools.json", () => {
    expect(plugin.tools.map((t) => t.name)).toEqual([${JSON.stringify(tool)}]);
    for (const t of plugin.tools) expect(typeof t.handler).toBe("function");
  });

  it("greets and remembers how often it did", async () => {
    const call = ctx.forCall({ device: "test" });
    const first = await tool(${JSON.stringify(tool)}).handler({ name: "Ada" }, call);
    expect(first.say).toBe("Hello, Ada!");
    const second = await tool(${JSON.stringify(tool)}).handler({ name: "Grace" }, call);
    expect(second.data).toEqual({ greetings: 2 });
  });

  it("answers an empty name with a clear error", async () => {
    await expect(tool(${JSON.stringify(tool)}).handler({ name: " " }, ctx.forCall({ device: "test" }))).rejects.toThrow(
      "Who should I greet?",
    );
  });
});
`;
}

function readme(name: string, tool: string): string {
  return `# needled plugin: ${name}

- \`tools.json\`: what the model sees (name, description, JSON Schema parameters, example utterances).
- \`index.js\`: the handlers, attached by tool name (\`export default definePlugin({...})\`).
- \`index.test.js\`: \`npx vitest run\` in this directory.

Load it by adding this directory's parent to \`plugin_dirs\` in the needled config, then try
\`needled call ${tool} '{"name": "Ada"}'\`.
`;
}
