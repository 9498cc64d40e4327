// Loading the YAML config: parse (yaml), validate and fill defaults (ajv), resolve paths, apply command-line
// overrides. Every problem becomes a ConfigError whose lines read `config error: <key>: <reason>`.
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { parseDocument } from "yaml";
import { configSchema } from "./config-schema.js";
import type { LogLevel } from "./log.js";
import { packageRoot } from "./paths.js";

export interface NeedledConfig {
  model: { dir: string; retrievalK: number; threads?: number; minConfidence?: number; minToolSimilarity?: number; spanValues: boolean };
  http: { enabled: boolean; host: string; port: number; token?: string };
  mqtt: {
    enabled: boolean;
    /** External broker; undefined means the embedded one at broker.host:broker.port. */
    url?: string;
    baseTopic: string;
    /** MQTT v5 shared-subscription group for `say` (several daemons, one stream of commands). */
    shareGroup?: string;
    broker: { host: string; port: number };
  };
  stateDir: string;
  builtinPlugins: boolean | string[];
  pluginDirs: string[];
  plugins: Record<string, Record<string, unknown>>;
  handlerTimeoutMs: number;
  policy: { confirmWindowS: number; autoConfirmConfidence: number | null };
  log: { level: LogLevel };
  stdin: "auto" | boolean;
  shutdownTimeoutMs: number;
  /** The file it came from, or undefined for built-in defaults. */
  file?: string;
  /** The raw validated document (snake_case), for sections other parts of the project add. */
  raw: Record<string, unknown>;
}

export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(readonly problems: string[]) {
    super(problems.map((p) => `config error: ${p}`).join("\n"));
  }
}

export interface Overrides {
  stateDir?: string;
  /** "HOST:PORT", ":PORT" or "PORT". */
  http?: string;
  mqtt?: string;
}

export interface LoadOptions extends Overrides {
  /** Explicit file (--config); must exist. */
  file?: string;
  env?: NodeJS.ProcessEnv;
}

/** Finds the config file: --config, $NEEDLED_CONFIG, $XDG_CONFIG_HOME/needled/config.yaml, /etc/needled/config.yaml. */
export function findConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (explicit) return resolve(explicit);
  if (env.NEEDLED_CONFIG) return resolve(env.NEEDLED_CONFIG);
  const xdg = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  for (const candidate of [join(xdg, "needled", "config.yaml"), "/etc/needled/config.yaml"]) {
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

export async function loadConfig(opts: LoadOptions = {}): Promise<NeedledConfig> {
  const env = opts.env ?? process.env;
  const file = findConfigFile(opts.file, env);
  let text = "";
  if (file) {
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError([`${file}: cannot read the file (${code === "ENOENT" ? "no such file" : code ?? err})`]);
    }
  }
  return parseConfig(text, { ...opts, file, env });
}

/** Parses and validates config text (empty text: all defaults). */
export function parseConfig(text: string, opts: LoadOptions = {}): NeedledConfig {
  const env = opts.env ?? process.env;
  const where = opts.file ?? "(config)";
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${where}: invalid YAML: ${(e.message.split("\n")[0] ?? "").replace(/:\s*$/, "")}`));
  }
  let raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ConfigError([`${where}: the top level must be a mapping of keys (got ${Array.isArray(raw) ? "a list" : typeof raw})`]);
  }
  const data = raw as Record<string, unknown>;
  applyOverrides(data, opts);
  // Before ajv fills in defaults: was the model dir written in the file?
  const modelDirGiven = hasKey(data, "model", "dir");
  const validate = validator();
  if (!validate(data)) {
    // The branches of an anyOf each report their own failure; the anyOf error itself says it better.
    const errors = (validate.errors ?? []).filter((e) => !e.schemaPath.includes("/anyOf/"));
    throw new ConfigError([...new Set(errors.map(describeError))]);
  }

  const baseDir = opts.file ? dirname(opts.file) : process.cwd();
  const fromFile = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const model = data.model as {
    dir: string; retrieval_k: number; threads: number | null; min_confidence: number | null; min_tool_similarity: number | null;
    span_values: boolean;
  };
  const http = data.http as { enabled: boolean; host: string; port: number; token: string | null };
  const mqtt = data.mqtt as {
    enabled: boolean;
    url: string | null;
    base_topic: string;
    share_group: string | null;
    broker: { host: string; port: number };
  };
  const policy = data.policy as { confirm_window_s: number; auto_confirm_confidence: number | null };
  if (mqtt.share_group && !mqtt.url) {
    throw new ConfigError([
      "mqtt.share_group: needs mqtt.url, an external broker (Mosquitto, EMQX, HiveMQ ...) that all the daemons share; the embedded broker has no shared subscriptions",
    ]);
  }

  // The default model dir is the package's own; a dir given in a file is relative to that file.
  const modelDir = isAbsolute(model.dir)
    ? model.dir
    : opts.file && modelDirGiven
      ? fromFile(model.dir)
      : resolve(packageRoot(), model.dir);

  const stateDir =
    opts.stateDir !== undefined
      ? resolve(opts.stateDir)
      : typeof data.state_dir === "string"
        ? fromFile(data.state_dir)
        : defaultStateDir(env);

  return {
    model: {
      dir: modelDir,
      retrievalK: model.retrieval_k,
      ...(model.threads ? { threads: model.threads } : {}),
      ...(model.min_confidence !== null ? { minConfidence: model.min_confidence } : {}),
      ...(model.min_tool_similarity !== null ? { minToolSimilarity: model.min_tool_similarity } : {}),
      spanValues: model.span_values,
    },
    http: { enabled: http.enabled, host: http.host, port: http.port, ...(http.token ? { token: http.token } : {}) },
    mqtt: {
      enabled: mqtt.enabled,
      ...(mqtt.url ? { url: mqtt.url } : {}),
      baseTopic: mqtt.base_topic,
      ...(mqtt.share_group ? { shareGroup: mqtt.share_group } : {}),
      broker: { ...mqtt.broker },
    },
    stateDir,
    builtinPlugins: data.builtin_plugins as boolean | string[],
    pluginDirs: (data.plugin_dirs as string[]).map(fromFile),
    plugins: data.plugins as Record<string, Record<string, unknown>>,
    handlerTimeoutMs: data.handler_timeout_ms as number,
    policy: { confirmWindowS: policy.confirm_window_s, autoConfirmConfidence: policy.auto_confirm_confidence },
    log: { level: (data.log as { level: LogLevel }).level },
    stdin: data.stdin as "auto" | boolean,
    shutdownTimeoutMs: data.shutdown_timeout_ms as number,
    ...(opts.file ? { file: opts.file } : {}),
    raw: data,
  };
}

/** `$STATE_DIRECTORY` (systemd; the first of a colon list), else `$XDG_STATE_HOME/needled`, else ~/.local/state/needled. */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const systemd = env.STATE_DIRECTORY?.split(":")[0];
  if (systemd) return resolve(systemd);
  if (env.XDG_STATE_HOME) return join(resolve(env.XDG_STATE_HOME), "needled");
  return join(homedir(), ".local", "state", "needled");
}

/** "HOST:PORT", "[v6]:PORT", ":PORT" or "PORT" -> parts; throws ConfigError naming the option. */
export function parseHostPort(value: string, option = "--http"): { host?: string; port: number } {
  const v = value.trim();
  const m = /^(?:\[([^\]]+)\]:|([^:[\]]*):)?(\d{1,5})$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new ConfigError([`${option}: expected HOST:PORT (e.g. 127.0.0.1:8750), got "${value}"`]);
  }
  const host = m[1] ?? (m[2] || undefined);
  return host ? { host, port } : { port };
}

function applyOverrides(data: Record<string, unknown>, o: Overrides): void {
  const section = (name: string): Record<string, unknown> => {
    const cur = data[name];
    if (cur === undefined || cur === null) {
      const fresh: Record<string, unknown> = {};
      data[name] = fresh;
      return fresh;
    }
    return cur as Record<string, unknown>; // a non-object is reported by the schema
  };
  if (o.http !== undefined) {
    const { host, port } = parseHostPort(o.http, "--http");
    const http = section("http");
    if (typeof http === "object") {
      if (host) http.host = host;
      http.port = port;
    }
  }
  if (o.mqtt !== undefined) {
    const mqtt = section("mqtt");
    if (typeof mqtt === "object") mqtt.url = o.mqtt;
  }
}

function hasKey(data: Record<string, unknown>, section: string, key: string): boolean {
  const s = data[section];
  return typeof s === "object" && s !== null && key in s;
}

let compiled: ReturnType<Ajv["compile"]> | undefined;
function validator(): ReturnType<Ajv["compile"]> {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true, allowUnionTypes: true });
    compiled = ajv.compile(configSchema());
  }
  return compiled;
}

/** One ajv error -> `key.path: reason`. */
export function describeError(e: ErrorObject): string {
  const path = e.instancePath
    .split("/")
    .slice(1)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"))
    .join(".");
  const at = (key?: string) => [path, key].filter(Boolean).join(".") || "(top level)";
  switch (e.keyword) {
    case "additionalProperties": {
      const known = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
      return `${at(String(e.params.additionalProperty))}: unknown key${known.length ? ` (known: ${known.join(", ")})` : ""}`;
    }
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const t = e.parentSchema?.type;
      const kind = t === "integer" || (Array.isArray(t) && t.includes("integer")) ? "integer" : "a number";
      return `${at()}: must be ${kind} ${e.params.comparison} ${e.params.limit}`;
    }
    case "required":
      return `${at(String(e.params.missingProperty))}: is required`;
    case "enum":
      return `${at()}: must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
    case "type":
      return `${at()}: must be ${String(e.params.type).replace(",", " or ")}`;
    case "anyOf":
      return `${at()}: must be true, false or a list of plugin names`;
    case "pattern":
      return `${at()}: ${patternHint(path)}`;
    default:
      return `${at()}: ${e.message ?? "is invalid"}`;
  }
}

function patternHint(path: string): string {
  if (path === "mqtt.url") return "must be a broker URL such as mqtt://host:1883";
  if (path === "mqtt.base_topic") return "must be a topic without wildcards (+, #) or leading/trailing /";
  if (path === "mqtt.share_group") return "must be 1-64 letters, digits, _ or - (no / + #)";
  if (/^serial\.autodetect\.\d+\.(vendor|product)_id$/.test(path)) return 'must be a USB id in hex, such as "2e8a" (quote it in YAML)';
  if (/^serial\.ports\.\d+\.device$/.test(path)) return "must be a device id: letters, digits, _ . : @ - (no / + #)";
  return "has the wrong format";
}
