// Real `needled start` processes: kill -9 and restart with jobs pending, graceful SIGTERM, corrupt state,
// bad config, broken plugins, a plugin crashing from a timer, stdin. Needs `npm run build` (npm test does it).
import { describe, it, expect, afterEach } from "vitest";
import { existsSync } from "node:fs";
import { readdir, readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createServer } from "node:net";
import { spawnDaemon, removeDir, FIXTURE_PLUGINS, NO_MODEL, type DaemonProcess } from "./helpers/daemon.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const running: DaemonProcess[] = [];
const dirs: string[] = [];

async function start(opts: Parameters<typeof spawnDaemon>[0] = {}): Promise<DaemonProcess> {
  const d = await spawnDaemon(opts);
  running.push(d);
  if (!opts.dir) dirs.push(d.dir);
  return d;
}

afterEach(async () => {
  for (const d of running.splice(0)) await d.stop("SIGKILL");
  for (const dir of dirs.splice(0)) await removeDir(dir);
});

describe("kill -9 and restart with scheduled jobs pending", () => {
  it("loses no job; one that fell due while down fires at once, marked late", async () => {
    const jobs = { plugin_dirs: [join(FIXTURE_PLUGINS, "jobs")] };
    const a = await start({ config: jobs });
    const soon = await a.http("POST", "/v1/call", { name: "fx_schedule", arguments: { id: "soon", in_ms: 1500 }, device: "watch-1" });
    expect(soon.status).toBe(200);
    const later = await a.http("POST", "/v1/call", { name: "fx_schedule", arguments: { id: "later", in_ms: 3_600_000 }, device: "watch-1" });
    const cron = await a.http("POST", "/v1/call", { name: "fx_schedule_cron", arguments: { id: "daily", cron: "0 7 * * *" }, device: "watch-1" });
    expect(cron.json.ok).toBe(true);
    a.proc.kill("SIGKILL");
    expect((await a.exited).signal).toBe("SIGKILL");

    // The jobs file survived the kill intact (atomic writes).
    const file = join(a.stateDir, "plugins", "fx-jobs", "jobs.json");
    const onDisk = JSON.parse(await readFile(file, "utf8"));
    expect(Object.keys(onDisk.jobs).sort()).toEqual(["daily", "later", "soon"]);
    expect(onDisk.jobs.later.at).toBe(later.json.data.at);

    await sleep(1800); // "soon" falls due while the daemon is down
    const b = await start({ dir: a.dir, config: jobs });
    const fired = await b.out.waitFor((l) => l.includes('"msg":"event"') && l.includes("ping soon"));
    const rec = JSON.parse(fired);
    expect(rec).toMatchObject({ device: "watch-1", plugin: "fx-jobs", event: { type: "ping", data: { id: "soon", late: true } } });
    expect(rec.event.data.dueAt).toBe(soon.json.data.at);

    const list = await b.http("POST", "/v1/call", { name: "fx_jobs", arguments: {} });
    const pending = list.json.data.pending.map((j: { id: string }) => j.id).sort();
    expect(pending).toEqual(["daily", "later"]);
    expect(list.json.data.fired.soon).toMatchObject({ count: 1, late: true });
    expect(list.json.data.pending.find((j: { id: string }) => j.id === "later").at).toBe(later.json.data.at);

    // A third start does not fire "soon" again.
    await b.stop();
    const c = await start({ dir: a.dir, config: jobs });
    const again = await c.http("POST", "/v1/call", { name: "fx_jobs", arguments: {} });
    expect(again.json.data.fired.soon.count).toBe(1);
  });

  it("a job due while running fires on time (not late) and reaches the device's event stream", async () => {
    const d = await start({ config: { plugin_dirs: [join(FIXTURE_PLUGINS, "jobs")] } });
    await d.http("POST", "/v1/call", { name: "fx_schedule", arguments: { id: "now-ish", in_ms: 300 }, device: "watch-5" });
    const line = await d.out.waitFor((l) => l.includes("ping now-ish"));
    expect(JSON.parse(line).event.data.late).toBe(false);
  });
});

describe("graceful shutdown", () => {
  it("SIGTERM: in-flight calls finish, state is flushed, exit 0", async () => {
    const d = await start({ config: { plugin_dirs: [join(FIXTURE_PLUGINS, "echo"), join(FIXTURE_PLUGINS, "jobs")] } });
    await d.http("POST", "/v1/call", { name: "fx_schedule", arguments: { id: "keep", in_ms: 600_000 } });
    const slow = d.http("POST", "/v1/call", { name: "fx_slow", arguments: { ms: 1000 } });
    await sleep(200);
    d.proc.kill("SIGTERM");
    const reply = await slow;
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ ok: true, say: "done after 1000 ms" });
    const exit = await d.exited;
    expect(exit.code).toBe(0);
    const msgs = d.logs().map((l) => l.msg);
    expect(msgs).toContain("signal received; shutting down");
    expect(msgs.at(-1)).toBe("stopped");
    expect(existsSync(join(d.stateDir, "needled.pid"))).toBe(false);
    const jobs = JSON.parse(await readFile(join(d.stateDir, "plugins", "fx-jobs", "jobs.json"), "utf8"));
    expect(Object.keys(jobs.jobs)).toEqual(["keep"]);
  });

  it("SIGINT works the same; a call that outlives shutdown_timeout_ms does not hold the exit", async () => {
    const d = await start({ config: { plugin_dirs: [join(FIXTURE_PLUGINS, "echo")], shutdown_timeout_ms: 300 } });
    void d.http("POST", "/v1/call", { name: "fx_slow", arguments: { ms: 20_000 } }).catch(() => {});
    await sleep(200);
    const t0 = Date.now();
    d.proc.kill("SIGINT");
    const exit = await d.exited;
    expect(exit.code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(d.logs().some((l) => l.msg === "shutdown: calls still running after the timeout; stopping anyway")).toBe(true);
  });
});

describe("bad input at start-up", () => {
  it("malformed YAML: exit 2 and a message with the position", async () => {
    const d = await start({ configText: "http:\n  port: [8750\n", waitReady: false });
    const exit = await d.exited;
    expect(exit.code).toBe(2);
    expect(d.err.text()).toMatch(/config error: .*config.yaml: invalid YAML: .* at line \d+, column \d+/);
  });

  it("a bad key: exit 2 naming the key and the reason", async () => {
    const d = await start({ configText: "http:\n  port: 99999\nmqtt:\n  enabled: false\n", waitReady: false });
    expect((await d.exited).code).toBe(2);
    expect(d.err.text()).toContain("config error: http.port: must be integer <= 65535");
  });

  it("a taken embedded-broker port: exit 2 naming the port and the key", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const d = await start({ config: { mqtt: { enabled: true, broker: { port } } }, waitReady: false });
      expect((await d.exited).code).toBe(2);
      expect(d.err.text()).toContain(`mqtt.broker.port: port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("a second daemon on the same state dir is refused while the first runs", async () => {
    const a = await start();
    const b = await start({ dir: a.dir, waitReady: false });
    expect((await b.exited).code).toBe(2);
    expect(b.err.text()).toContain(`is in use by another needled (pid ${a.proc.pid})`);
    expect((await a.http("GET", "/healthz")).status).toBe(200);
  });

  it("a stale needled.pid (after a power cut, its pid now another program's) does not block the start", async () => {
    const { spawn } = await import("node:child_process");
    const sleeper = spawn("sleep", ["30"]);
    try {
      const first = await start();
      await first.stop();
      await writeFile(join(first.stateDir, "needled.pid"), `${sleeper.pid}\n`);
      const d = await start({ dir: first.dir });
      expect((await d.http("GET", "/healthz")).json.pid).toBe(d.proc.pid);
      expect((await readFile(join(first.stateDir, "needled.pid"), "utf8")).trim()).toBe(String(d.proc.pid));
    } finally {
      sleeper.kill();
    }
  });

  it("a corrupt state file is moved aside and reported; the daemon starts on empty state", async () => {
    const first = await start({ config: { plugin_dirs: [join(FIXTURE_PLUGINS, "jobs")] } });
    await first.stop();
    const jobsFile = join(first.stateDir, "plugins", "fx-jobs", "jobs.json");
    await mkdir(join(first.stateDir, "plugins", "fx-jobs"), { recursive: true });
    await writeFile(jobsFile, '{"jobs": {"x": ');
    await writeFile(join(first.stateDir, "plugins", "fx-jobs", "store.json"), "not json at all");
    const d = await start({ dir: first.dir, config: { plugin_dirs: [join(FIXTURE_PLUGINS, "jobs")] } });
    const h = await d.http("GET", "/healthz");
    expect(h.json.state.problems).toHaveLength(2);
    expect(h.json.state.problems[0]).toMatchObject({ file: expect.stringContaining("fx-jobs/"), reason: expect.stringMatching(/not valid JSON/) });
    const names = await readdir(join(first.stateDir, "plugins", "fx-jobs"));
    expect(names.filter((n) => /\.corrupt-\d+$/.test(n))).toHaveLength(2);
    expect(d.logs().filter((l) => l.msg === "corrupt state file moved aside; starting with empty state for it")).toHaveLength(2);
    // And it works on empty state.
    const r = await d.http("POST", "/v1/call", { name: "fx_schedule", arguments: { id: "fresh", in_ms: 100_000 } });
    expect(r.json.ok).toBe(true);
  });
});

describe("plugins that misbehave in a real process", () => {
  it("broken plugins are reported with reasons and skipped; the good ones serve", async () => {
    const d = await start({ config: { plugin_dirs: [FIXTURE_PLUGINS] } });
    const h = (await d.http("GET", "/healthz")).json;
    expect(h.plugins.loaded.map((p: { name: string }) => p.name).sort()).toEqual(["fx-echo", "fx-jobs"]);
    const reasons = Object.fromEntries(
      h.plugins.failed.map((f: { source: string; reason: string }) => [f.source.slice(FIXTURE_PLUGINS.length + 1).split("/")[0], f.reason]),
    );
    expect(reasons["broken-decl"]).toMatch(/tool "bad-name": name must match/);
    expect(reasons["no-default"]).toMatch(/no default export/);
    expect(reasons["throws-on-import"]).toMatch(/this plugin cannot even load/);
    // start-fails has its own package.json: importing "needled" works there only through the daemon's resolver.
    expect(reasons["start-fails"]).toBe('plugin "fx-start-fails" start() failed: cannot reach my device');
    expect(reasons["zz-duplicate"]).toBe('tool "fx_echo" is already provided by plugin "fx-echo"');
    expect(h.status).toBe("degraded");
    const r = await d.http("POST", "/v1/call", { name: "fx_echo", arguments: { text: "fine" } });
    expect(r.json.say).toBe("fine");
    expect(d.logs().filter((l) => l.msg === "plugin skipped")).toHaveLength(5);
  });

  it("an error thrown from a plugin's timer is logged; the daemon keeps running", async () => {
    const d = await start({ config: { plugin_dirs: [join(FIXTURE_PLUGINS, "echo")] } });
    const r = await d.http("POST", "/v1/call", { name: "fx_async_crash", arguments: {} });
    expect(r.json.say).toBe("answered");
    await d.out.waitFor((l) => l.includes("uncaught exception (kept running)") && l.includes("late crash from a plugin timer"));
    expect((await d.http("POST", "/v1/call", { name: "fx_echo", arguments: { text: "alive" } })).json.say).toBe("alive");
    expect(d.proc.exitCode).toBeNull();
  });
});

describe("stdin channel", () => {
  it("a typed line is said as device 'stdin' and the reply printed", async () => {
    const d = await start({ config: { stdin: true, plugin_dirs: [join(FIXTURE_PLUGINS, "echo")], model: { dir: NO_MODEL } }, stdin: "pipe" });
    d.proc.stdin!.write("hello there\n");
    // The model dir is missing on purpose (a reply that does not depend on a model): it says so, as a plain line.
    const line = await d.out.waitFor((l) => l === "Sorry, my language model is not available.");
    expect(line).toBeTruthy();
  });
});
