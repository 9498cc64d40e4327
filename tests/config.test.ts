// The YAML config: defaults, validation errors that name the key and the reason, paths, overrides.
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir, homedir } from "node:os";
import { join } from "node:path";
import { ConfigError, defaultStateDir, findConfigFile, loadConfig, parseConfig, parseHostPort } from "../src/daemon/config.js";
import { packageRoot } from "../src/daemon/paths.js";

const errorOf = (text: string, opts = {}): string => {
  try {
    parseConfig(text, { env: {}, ...opts });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error("expected a ConfigError");
};

describe("config defaults", () => {
  it("an empty file (or none) gives a complete working config", () => {
    const c = parseConfig("", { env: { XDG_STATE_HOME: "/var/tmp/xdg" } });
    expect(c.http).toEqual({ enabled: true, host: "127.0.0.1", port: 8750 });
    expect(c.mqtt).toEqual({ enabled: true, baseTopic: "needled", broker: { host: "127.0.0.1", port: 1883 } });
    expect(c.model).toEqual({ dir: join(packageRoot(), "models", "default"), retrievalK: 8, spanValues: true });
    expect(c.policy).toEqual({ confirmWindowS: 10, autoConfirmConfidence: null });
    expect(c.stateDir).toBe("/var/tmp/xdg/needled");
    expect(c.builtinPlugins).toBe(true);
    expect(c.pluginDirs).toEqual([]);
    expect(c.handlerTimeoutMs).toBe(5000);
    expect(c.log.level).toBe("info");
    expect(c.stdin).toBe("auto");
  });

  it("a full config is read as written", () => {
    const c = parseConfig(
      [
        "model: {dir: /opt/model, retrieval_k: 4, threads: 2}",
        "http: {host: 0.0.0.0, port: 9000, token: 0123456789abcdef0123}",
        "mqtt: {url: 'mqtt://broker.lan:1883', base_topic: home/needled}",
        "plugins: {timers: {default_alarm_sound: beep}}",
        "handler_timeout_ms: 2000",
        "policy: {confirm_window_s: 5, auto_confirm_confidence: 0.95}",
        "log: {level: warn}",
        "stdin: false",
        "builtin_plugins: [timers]",
      ].join("\n"),
      { env: {} },
    );
    expect(c.model).toEqual({ dir: "/opt/model", retrievalK: 4, threads: 2, spanValues: true });
    expect(c.http).toEqual({ enabled: true, host: "0.0.0.0", port: 9000, token: "0123456789abcdef0123" });
    expect(c.mqtt.url).toBe("mqtt://broker.lan:1883");
    expect(c.mqtt.baseTopic).toBe("home/needled");
    expect(c.plugins.timers).toEqual({ default_alarm_sound: "beep" });
    expect(c.policy).toEqual({ confirmWindowS: 5, autoConfirmConfidence: 0.95 });
    expect(c.builtinPlugins).toEqual(["timers"]);
    expect(c.stdin).toBe(false);
  });
});

describe("config errors name the key and the reason", () => {
  it.each([
    ["http:\n  port: 70000\n", "config error: http.port: must be integer <= 65535"],
    ["http:\n  port: eighty\n", "config error: http.port: must be integer"],
    ["http:\n  prot: 80\n", "config error: http.prot: unknown key (known: enabled, host, port, token)"],
    ["colour: blue\n", "config error: colour: unknown key"],
    ["mqtt:\n  url: localhost\n", "config error: mqtt.url: must be a broker URL such as mqtt://host:1883"],
    ["mqtt:\n  base_topic: 'needled/#'\n", "config error: mqtt.base_topic: must be a topic without wildcards"],
    ["log:\n  level: loud\n", 'config error: log.level: must be one of "debug", "info", "warn", "error", "silent"'],
    ["policy:\n  auto_confirm_confidence: 1.5\n", "config error: policy.auto_confirm_confidence: must be a number <= 1"],
    ["policy:\n  confirm_window_s: 0\n", "config error: policy.confirm_window_s: must be a number > 0"],
    ["http:\n  token: short\n", "config error: http.token: must NOT have fewer than 16 characters"],
    ["builtin_plugins: 3\n", "config error: builtin_plugins: must be true, false or a list of plugin names"],
    ["plugins:\n  timers: 5\n", "config error: plugins.timers: must be object"],
    ["model: /opt/model\n", "config error: model: must be object"],
    ["model:\n  min_confidence: 2\n", "config error: model.min_confidence: must be"],
    ["model:\n  span_values: maybe\n", "config error: model.span_values: must be boolean"],
    ["model:\n  min_confidence: high\n", "config error: model.min_confidence: must be"],
    ["model:\n  min_tool_similarity: 1.5\n", "config error: model.min_tool_similarity: must be"],
    ["- a\n- b\n", "the top level must be a mapping of keys (got a list)"],
  ])("%j", (text, expected) => {
    expect(errorOf(text)).toContain(expected);
  });

  it("reports every problem, one line each", () => {
    const msg = errorOf("http:\n  port: -1\nlog:\n  level: x\n");
    expect(msg.split("\n")).toHaveLength(2);
    expect(msg).toContain("http.port: must be integer >= 0");
    expect(msg).toContain("log.level: must be one of");
  });

  it("malformed YAML says where", () => {
    expect(errorOf("http:\n  port: [1, 2\n", { file: "/etc/needled.yaml" })).toMatch(
      /^config error: \/etc\/needled.yaml: invalid YAML: .* at line \d+, column \d+/,
    );
    expect(errorOf("a: 1\na: 2\n")).toMatch(/invalid YAML: Map keys must be unique/);
  });
});

describe("config files and paths", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "needled-cfg-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves relative paths against the config file's directory", async () => {
    const file = join(dir, "needled.yaml");
    await writeFile(file, "model: {dir: ./mymodel}\nstate_dir: ./state\nplugin_dirs: [plugins, /abs/plugins]\n");
    const c = await loadConfig({ file, env: {} });
    expect(c.file).toBe(file);
    expect(c.model.dir).toBe(join(dir, "mymodel"));
    expect(c.stateDir).toBe(join(dir, "state"));
    expect(c.pluginDirs).toEqual([join(dir, "plugins"), "/abs/plugins"]);
  });

  it("without model.dir in the file, the model is the package's models/default", async () => {
    const file = join(dir, "needled.yaml");
    await writeFile(file, "http: {port: 1}\n");
    const c = await loadConfig({ file, env: {} });
    expect(c.model.dir).toBe(join(packageRoot(), "models", "default"));
  });

  it("a missing --config file is an error naming it", async () => {
    await expect(loadConfig({ file: join(dir, "nope.yaml"), env: {} })).rejects.toThrow(/nope.yaml: cannot read the file \(no such file\)/);
  });

  it("finds the config via NEEDLED_CONFIG, then XDG_CONFIG_HOME", async () => {
    await mkdir(join(dir, "xdg", "needled"), { recursive: true });
    await writeFile(join(dir, "xdg", "needled", "config.yaml"), "http: {port: 1234}\n");
    expect(findConfigFile(undefined, { XDG_CONFIG_HOME: join(dir, "xdg") })).toBe(join(dir, "xdg", "needled", "config.yaml"));
    expect(findConfigFile(undefined, { NEEDLED_CONFIG: "/x/y.yaml", XDG_CONFIG_HOME: join(dir, "xdg") })).toBe("/x/y.yaml");
    const c = await loadConfig({ env: { XDG_CONFIG_HOME: join(dir, "xdg") } });
    expect(c.http.port).toBe(1234);
    expect(findConfigFile(undefined, { XDG_CONFIG_HOME: join(dir, "empty") })).toBeUndefined();
  });

  it("command-line overrides win over the file", async () => {
    const file = join(dir, "c.yaml");
    await writeFile(file, "http: {host: 127.0.0.1, port: 1000}\nmqtt: {url: 'mqtt://a:1'}\nstate_dir: /from/file\n");
    const c = await loadConfig({ file, env: {}, http: "127.0.0.2:2000", mqtt: "mqtt://b:2", stateDir: join(dir, "s") });
    expect(c.http.host).toBe("127.0.0.2");
    expect(c.http.port).toBe(2000);
    expect(c.mqtt.url).toBe("mqtt://b:2");
    expect(c.stateDir).toBe(join(dir, "s"));
    // A bad override is a config error too.
    await expect(loadConfig({ file, env: {}, http: "nonsense" })).rejects.toThrow(/--http: expected HOST:PORT/);
    await expect(loadConfig({ file, env: {}, mqtt: "localhost" })).rejects.toThrow(/mqtt.url: must be a broker URL/);
  });
});

describe("state directory and --http parsing", () => {
  it("prefers $STATE_DIRECTORY (systemd), then $XDG_STATE_HOME, then ~/.local/state", () => {
    expect(defaultStateDir({ STATE_DIRECTORY: "/var/lib/needled:/other", XDG_STATE_HOME: "/x" })).toBe("/var/lib/needled");
    expect(defaultStateDir({ XDG_STATE_HOME: "/x" })).toBe("/x/needled");
    expect(defaultStateDir({})).toBe(join(homedir(), ".local", "state", "needled"));
  });

  it("parses HOST:PORT forms", () => {
    expect(parseHostPort("127.0.0.1:8750")).toEqual({ host: "127.0.0.1", port: 8750 });
    expect(parseHostPort(":9000")).toEqual({ port: 9000 });
    expect(parseHostPort("9000")).toEqual({ port: 9000 });
    expect(parseHostPort("[::1]:80")).toEqual({ host: "::1", port: 80 });
    expect(() => parseHostPort("host:99999")).toThrow(ConfigError);
    expect(() => parseHostPort("host:")).toThrow(/expected HOST:PORT/);
  });
});
