// Finding and importing plugins. Built-ins are dist/tools/<name>/index.js; user plugin directories come
// from config (a directory that is itself a plugin, or one whose subdirectories are plugins). A plugin
// directory has package.json "main", index.js or index.mjs; its default export is a definePlugin object.
// Every failure (missing entry, import error, broken declaration) is returned with its reason, not thrown.
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { register } from "node:module";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { Ajv } from "ajv";
import { distDir } from "../daemon/paths.js";
import { checkPlugin, type CheckedPlugin } from "./declaration.js";

export interface PluginSource {
  /** The plugin's directory. */
  dir: string;
  /** The file to import. */
  entry: string;
  builtin: boolean;
}

export interface LoadFailure {
  /** The directory or file it came from. */
  source: string;
  reason: string;
}

export interface Discovery {
  sources: PluginSource[];
  failures: LoadFailure[];
}

export interface DiscoverOptions {
  /** true: every built-in; false: none; a list: those names. */
  builtin: boolean | string[];
  /** Where built-ins live (default dist/tools of the package). */
  builtinDir?: string;
  dirs: string[];
}

export async function discoverPlugins(opts: DiscoverOptions): Promise<Discovery> {
  const sources: PluginSource[] = [];
  const failures: LoadFailure[] = [];

  if (opts.builtin !== false) {
    const root = opts.builtinDir ?? join(distDir(), "tools");
    const found = new Map<string, PluginSource>();
    for (const dir of await subdirs(root)) {
      const entry = join(dir, "index.js");
      if (existsSync(entry)) found.set(basename(dir), { dir, entry, builtin: true });
    }
    if (opts.builtin === true) {
      sources.push(...[...found.values()].sort((a, b) => a.dir.localeCompare(b.dir)));
    } else {
      for (const name of opts.builtin) {
        const s = found.get(name);
        if (s) sources.push(s);
        else failures.push({ source: join(root, name), reason: `no built-in plugin "${name}" (is the project built?)` });
      }
    }
  }

  for (const configured of opts.dirs) {
    const dir = resolve(configured);
    const info = await stat(dir).catch(() => undefined);
    if (!info?.isDirectory()) {
      failures.push({ source: dir, reason: "plugin directory does not exist" });
      continue;
    }
    const own = await entryOf(dir);
    if (own.entry || own.reason) {
      if (own.entry) sources.push({ dir, entry: own.entry, builtin: false });
      else failures.push({ source: dir, reason: own.reason! });
      continue;
    }
    for (const sub of await subdirs(dir)) {
      const e = await entryOf(sub);
      if (e.entry) sources.push({ dir: sub, entry: e.entry, builtin: false });
      else if (e.reason) failures.push({ source: sub, reason: e.reason });
    }
  }
  return { sources, failures };
}

/** The file to import for a plugin directory, a reason it is broken, or neither (not a plugin). */
async function entryOf(dir: string): Promise<{ entry?: string; reason?: string }> {
  const pj = join(dir, "package.json");
  if (existsSync(pj)) {
    let main: unknown;
    try {
      main = (JSON.parse(await readFile(pj, "utf8")) as { main?: unknown }).main;
    } catch (err) {
      return { reason: `package.json is not valid JSON (${(err as Error).message})` };
    }
    if (main !== undefined) {
      if (typeof main !== "string") return { reason: 'package.json "main" must be a string' };
      const entry = resolve(dir, main);
      return existsSync(entry) ? { entry } : { reason: `package.json "main" points to a missing file: ${main}` };
    }
  }
  for (const name of ["index.js", "index.mjs"]) {
    const entry = join(dir, name);
    if (existsSync(entry)) return { entry };
  }
  return existsSync(pj) ? { reason: "package.json has no main, and there is no index.js or index.mjs" } : {};
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => e.isDirectory() && !e.name.startsWith(".") && e.name !== "node_modules")
      .map((e) => join(dir, e.name))
      .sort();
  } catch {
    return [];
  }
}

let resolverInstalled = false;

/** Makes `import ... from "needled"` (and "needled/testing") resolve to this daemon's modules, once per process. */
export function installNeedledResolver(): void {
  if (resolverInstalled) return;
  resolverInstalled = true;
  const dist = distDir();
  const hook = join(dist, "src", "plugins", "resolve-hook.js");
  if (!existsSync(hook)) return; // not built (running from sources): plugins must resolve "needled" themselves
  const targets = {
    needled: pathToFileURL(join(dist, "src", "plugins", "api.js")).href,
    "needled/testing": pathToFileURL(join(dist, "src", "plugins", "testing.js")).href,
  };
  register(pathToFileURL(hook).href, { data: { targets } });
}

/** Imports a plugin and checks its declaration; throws with a clear reason. */
export async function importPlugin(src: PluginSource, ajv: Ajv, timeoutMs = 10_000): Promise<CheckedPlugin> {
  let timer: NodeJS.Timeout | undefined;
  const mod = (await Promise.race([
    import(pathToFileURL(src.entry).href),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`importing took longer than ${timeoutMs} ms`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer))) as { default?: unknown };
  if (mod.default === undefined) {
    throw new Error("the module has no default export (export default definePlugin({...}))");
  }
  return checkPlugin(mod.default, ajv);
}
