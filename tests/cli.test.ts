// The `needled` command as a user runs it: real processes, a real daemon to talk to.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, writeFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { runCli, spawnDaemon, FIXTURE_PLUGINS, ROOT, removeDir, type DaemonProcess } from "./helpers/daemon.js";
import { freePort } from "./helpers/ports.js";

describe("usage and errors", () => {
  it("no command: usage on stdout, exit 2; unknown command: exit 2", async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/usage: needled <command>/);
    for (const c of ["start", "say", "call", "tools", "predict", "doctor", "plugin"]) expect(none.stdout).toContain(`  ${c}`);
    const bad = await runCli(["frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command "frobnicate"');
  });

  it("--help prints a command's usage", async () => {
    const r = await runCli(["start", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("needled start [--config FILE] [--state-dir DIR] [--http HOST:PORT] [--mqtt URL]");
  });

  it("usage errors exit 2", async () => {
    expect((await runCli(["say"])).code).toBe(2);
    const unknownFlag = await runCli(["say", "hi", "--colour", "red"]);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toMatch(/Unknown option '--colour'/);
    const badJson = await runCli(["call", "fx_echo", "{nope"]);
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toContain("the arguments are not valid JSON");
    const notObject = await runCli(["call", "fx_echo", "[1]"]);
    expect(notObject.code).toBe(2);
    expect((await runCli(["start", "--http", "banana"])).stderr).toContain('--http: expected HOST:PORT (e.g. 127.0.0.1:8750), got "banana"');
  });

  it("a daemon that is not running: exit 1 with a hint", async () => {
    const port = await freePort();
    const r = await runCli(["say", "hello", "--http", `127.0.0.1:${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot reach needled at http://127.0.0.1:${port} (ECONNREFUSED); is it running? (needled start)`);
  });
});

describe("talking to a running daemon", () => {
  let d: DaemonProcess;
  let addr: string;
  let dir: string;
  let port: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "needled-cli-"));
    port = await freePort();
    d = await spawnDaemon({
      dir,
      config: { http: { port }, plugin_dirs: [join(FIXTURE_PLUGINS, "echo")], model: { dir: join(dir, "no-model") } },
    });
    addr = `127.0.0.1:${port}`;
  });
  afterAll(async () => {
    await d?.stop();
    await removeDir(dir);
  });

  it("call TOOL 'JSON' prints the reply and exits 0", async () => {
    const r = await runCli(["call", "fx_echo", '{"text": "hi", "times": 2}', "--http", addr]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("hi hi\n");
    expect(r.code).toBe(0);
  });

  it("call --json prints the whole answer; the device defaults to cli", async () => {
    const r = await runCli(["call", "fx_echo", '{"text": "x"}', "--http", addr, "--json"]);
    const a = JSON.parse(r.stdout);
    expect(a).toMatchObject({ ok: true, say: "x", data: { device: "cli" } });
    const w = JSON.parse((await runCli(["call", "fx_echo", '{"text": "x"}', "--http", addr, "--json", "--device", "watch-1"])).stdout);
    expect(w.data.device).toBe("watch-1");
  });

  it("a tool that says no, or does not exist: its reply and exit 1", async () => {
    const no = await runCli(["call", "fx_refuse", '{"target": "oven"}', "--http", addr]);
    expect(no).toMatchObject({ code: 1, stdout: "no device called oven\n" });
    const unknown = await runCli(["call", "nope", "--http", addr]);
    expect(unknown).toMatchObject({ code: 1, stdout: "Sorry, there is no tool called nope.\n" });
  });

  it("finds the daemon's address in the config file when --http is not given", async () => {
    const r = await runCli(["call", "fx_echo", '{"text": "via config"}', "--config", d.configFile]);
    expect(r.stdout).toBe("via config\n");
    const env = await runCli(["call", "fx_echo", '{"text": "via env"}'], { env: { NEEDLED_CONFIG: d.configFile } });
    expect(env.stdout).toBe("via env\n");
  });

  it("say sends text (here the model dir is empty, so the reply says the model is not available)", async () => {
    const r = await runCli(["say", "set", "a", "timer", "--http", addr, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, error: { code: "ENGINE_UNAVAILABLE" } });
  });
});

describe("tools and doctor", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "needled-cli2-"));
  });
  afterAll(async () => removeDir(dir));

  it("tools lists the tools of the configured plugins, and says which plugins were skipped", async () => {
    const cfg = join(dir, "tools.yaml");
    await writeFile(cfg, stringify({ builtin_plugins: false, plugin_dirs: [FIXTURE_PLUGINS] }));
    const r = await runCli(["tools", "--config", cfg]);
    expect(r.stdout).toMatch(/^fx_echo\s+\[fx-echo\]\s+Repeat the text {2}\(text\*, times\)$/m);
    expect(r.stdout).toMatch(/^fx_unlock .*\[sensitive\]$/m);
    expect(r.stdout).toMatch(/^fx_open_cover .*\[sensitive: depends on arguments\]$/m);
    expect(r.stderr).toMatch(/skipped .*broken-decl\/index.js: tool "bad-name"/);
    expect(r.code).toBe(1);
    const json = JSON.parse((await runCli(["tools", "--config", cfg, "--json"])).stdout);
    expect(json.tools.map((t: { name: string }) => t.name)).toContain("fx_schedule");
  });

  it("doctor runs every check and fails on what is broken", async () => {
    const cfg = join(dir, "doctor.yaml");
    const httpPort = await freePort();
    await writeFile(
      cfg,
      stringify({
        builtin_plugins: false,
        plugin_dirs: [join(FIXTURE_PLUGINS, "echo")],
        model: { dir: join(dir, "missing-model") },
        state_dir: join(dir, "state"),
        mqtt: { enabled: false },
        http: { port: httpPort },
      }),
    );
    const r = await runCli(["doctor", "--config", cfg]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^fail {2}model: .*missing-model does not exist; set model.dir/m);
    expect(r.stdout).toMatch(/^ok {4}state dir: .* is writable$/m);
    expect(r.stdout).toMatch(/^skip {2}mqtt: mqtt.enabled is false$/m);
    expect(r.stdout).toMatch(new RegExp(`^ok {4}http: can listen on 127.0.0.1:${httpPort}$`, "m"));
    expect(r.stdout).toMatch(/^ok {4}plugins: 1 plugin\(s\) \[fx-echo\], 11 tool\(s\)$/m);
    const json = JSON.parse((await runCli(["doctor", "--config", cfg, "--json"])).stdout);
    expect(json.ok).toBe(false);
    // The core checks come first; other parts of the project add theirs after.
    expect(json.checks.map((c: { name: string }) => c.name).slice(0, 6)).toEqual(["config", "model", "state dir", "mqtt", "http", "plugins"]);
  });

  it("doctor checks a configured broker and a well-formed model dir", async () => {
    const model = join(dir, "model");
    await rm(model, { recursive: true, force: true });
    const { mkdir } = await import("node:fs/promises");
    await mkdir(model, { recursive: true });
    await writeFile(join(model, "config.json"), JSON.stringify({ format: "needled-model/1", quantization: "int8" }));
    for (const f of ["encoder.onnx", "decoder.onnx"]) await writeFile(join(model, f), "x");
    const brokerPort = await freePort();
    const cfg = join(dir, "doctor2.yaml");
    await writeFile(cfg, stringify({ builtin_plugins: false, model: { dir: model }, state_dir: join(dir, "state"), mqtt: { url: `mqtt://127.0.0.1:${brokerPort}` }, http: { port: await freePort() } }));
    const r = await runCli(["doctor", "--config", cfg]);
    expect(r.stdout).toMatch(/^fail {2}model: .*model lacks tokenizer.model$/m);
    expect(r.stdout).toMatch(new RegExp(`^fail {2}mqtt: broker mqtt://127.0.0.1:${brokerPort} not reachable`, "m"));
    expect(r.stdout).toMatch(/^warn {2}plugins: 0 plugin\(s\)/m);
  });
});

describe("plugin new", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "needled-scaffold-"));
  });
  afterAll(async () => removeDir(dir));

  it("scaffolds a plugin that passes its own test and that the daemon loads", async () => {
    const r = await runCli(["plugin", "new", "kitchen-helper", "--dir", dir]);
    expect(r.code).toBe(0);
    const pdir = join(dir, "kitchen-helper");
    for (const f of ["package.json", "tools.json", "index.js", "index.test.js", "README.md"]) expect(existsSync(join(pdir, f))).toBe(true);
    expect(await readFile(join(pdir, "index.js"), "utf8")).toContain('import { definePlugin, ToolError } from "needled";');
    expect(JSON.parse(await readFile(join(pdir, "tools.json"), "utf8"))[0].name).toBe("kitchen_helper_hello");

    // Its own test, with vitest, from its own directory.
    const test = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [join(ROOT, "node_modules", "vitest", "vitest.mjs"), "run"], { cwd: pdir, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      p.stdout.on("data", (x) => (out += x));
      p.stderr.on("data", (x) => (out += x));
      p.on("exit", (code) => resolve({ code, out }));
    });
    expect(test.out).toMatch(/3 passed/);
    expect(test.code).toBe(0);

    // The daemon loads it from a plugin dir and runs its tool (and its store persists).
    const d = await spawnDaemon({ config: { plugin_dirs: [dir] } });
    try {
      const a = await d.http("POST", "/v1/call", { name: "kitchen_helper_hello", arguments: { name: "Ada" } });
      expect(a.json).toMatchObject({ ok: true, say: "Hello, Ada!", data: { greetings: 1 } });
      const b = await d.http("POST", "/v1/call", { name: "kitchen_helper_hello", arguments: {} });
      expect(b.status).toBe(400);
    } finally {
      await d.stop();
      await removeDir(d.dir);
    }
  });

  it("refuses a bad name or an existing directory (exit 2)", async () => {
    const bad = await runCli(["plugin", "new", "Bad Name", "--dir", dir]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("must be lower case letters, digits and dashes");
    await runCli(["plugin", "new", "twice", "--dir", dir]);
    const again = await runCli(["plugin", "new", "twice", "--dir", dir]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("already exists and is not empty");
    expect((await runCli(["plugin", "old", "x"])).code).toBe(2);
  });
});
