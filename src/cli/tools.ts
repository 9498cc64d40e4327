// needled tools [--config FILE] [--json]: the tools the daemon would load (declarations only; no plugin is
// started). With --http, asks a running daemon instead.
import { loadConfig } from "../daemon/config.js";
import { argumentAjv } from "../plugins/declaration.js";
import { discoverPlugins, importPlugin, installNeedledResolver, type LoadFailure } from "../plugins/loader.js";
import { Registry, type ToolInfo } from "../plugins/registry.js";
import { EXIT, endpoint, parse, request, type Io } from "./common.js";

export const usage = "needled tools [--config FILE] [--json] [--http HOST:PORT]";

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, {
    config: { type: "string" },
    json: { type: "boolean" },
    http: { type: "string" },
    token: { type: "string" },
  });
  let tools: ToolInfo[];
  let failures: LoadFailure[] = [];
  if (values.http) {
    const { json } = await request(await endpoint(values), "GET", "/v1/tools");
    tools = (json as { tools: ToolInfo[] }).tools;
  } else {
    ({ tools, failures } = await localTools(values.config));
  }
  if (values.json) {
    io.out(JSON.stringify({ tools, failures }));
  } else {
    for (const t of tools) {
      const params = Object.keys((t.parameters.properties as object | undefined) ?? {});
      const req = new Set((t.parameters.required as string[] | undefined) ?? []);
      const args = params.map((p) => (req.has(p) ? `${p}*` : p)).join(", ");
      io.out(`${t.name.padEnd(18)} ${`[${t.plugin}]`.padEnd(13)} ${t.description}${args ? `  (${args})` : ""}${t.sensitive === "depends" ? "  [sensitive: depends on arguments]" : t.sensitive ? "  [sensitive]" : ""}`);
    }
    for (const f of failures) io.err(`skipped ${f.source}: ${f.reason}`);
  }
  return failures.length > 0 ? EXIT.FAILED : EXIT.OK;
}

export async function localTools(configFile?: string): Promise<{ tools: ToolInfo[]; failures: LoadFailure[] }> {
  const config = await loadConfig(configFile ? { file: configFile } : {});
  installNeedledResolver();
  const found = await discoverPlugins({ builtin: config.builtinPlugins, dirs: config.pluginDirs });
  const failures = [...found.failures];
  const registry = new Registry();
  const ajv = argumentAjv();
  for (const src of found.sources) {
    try {
      registry.add(await importPlugin(src, ajv), src.entry, src.builtin);
    } catch (err) {
      failures.push({ source: src.entry, reason: (err as Error).message });
    }
  }
  return { tools: registry.list(), failures };
}
