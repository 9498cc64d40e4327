// The systemd notify protocol, against a real unix datagram socket (a Python receiver standing where systemd's
// notify socket would be, reading SCM_CREDENTIALS as systemd does) and real `needled start` processes:
// READY after start, WATCHDOG at half of WATCHDOG_USEC, no WATCHDOG while a handler blocks the event loop,
// STOPPING on SIGTERM; the abstract namespace; WATCHDOG_PID; a notify socket that is not there.
// Needs `npm run build` (npm test does it) and /usr/bin/python3.
import { describe, it, expect, afterEach } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { stringify } from "yaml";
import { CLI, ROOT } from "./helpers/daemon.js";
import { LineCollector } from "./helpers/lines.js";
import { startMosquitto } from "./helpers/mosquitto.js";
import { formatMessage, parseNotifySocket, sockaddrUn, watchdogIntervalMs } from "../src/daemon/systemd-notify.js";
import { statusLine } from "../src/daemon/systemd.js";
import type { Health } from "../src/daemon/daemon.js";

const RECEIVER = join(ROOT, "tests", "fixtures", "systemd", "notify-receiver.py");
const BUSY_PLUGIN = join(ROOT, "tests", "fixtures", "systemd", "busy");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Datagram {
  t_ns: number;
  pid: number | null;
  fields: Record<string, string>;
  raw: string;
}

class Receiver {
  readonly out = new LineCollector();
  constructor(
    readonly proc: ChildProcess,
    readonly address: string,
  ) {
    proc.stdout!.on("data", (d) => this.out.write(d));
  }
  static async start(address: string): Promise<Receiver> {
    const proc = spawn("/usr/bin/python3", [RECEIVER, address], { stdio: ["ignore", "pipe", "inherit"] });
    const r = new Receiver(proc, address);
    await r.out.waitFor((l) => l.includes('"bound"'), 10_000);
    return r;
  }
  datagrams(): Datagram[] {
    return this.out.json().filter((j) => "fields" in j) as unknown as Datagram[];
  }
  waitFor(key: string, value?: string, timeoutMs = 15_000): Promise<Datagram> {
    return this.out
      .waitFor((l) => {
        if (!l.includes('"fields"')) return false;
        const d = JSON.parse(l) as Datagram;
        return key in d.fields && (value === undefined || d.fields[key] === value);
      }, timeoutMs)
      .then((l) => JSON.parse(l) as Datagram);
  }
  stop(): void {
    this.proc.kill("SIGKILL");
  }
}

interface Daemon {
  proc: ChildProcess;
  out: LineCollector;
  err: LineCollector;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  url: string;
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "needled-sd-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A real `needled start` whose environment carries the notify variables. With `watchdogPidSelf`, it runs as
 * `sh -c 'WATCHDOG_PID=$$ exec node ...'`: exec keeps the pid, so WATCHDOG_PID names the daemon itself, as
 * systemd sets it.
 */
async function startDaemon(
  env: Record<string, string>,
  opts: { watchdogPidSelf?: boolean; waitReady?: boolean; config?: Record<string, unknown> } = {},
): Promise<Daemon> {
  const dir = await tempDir();
  const config = join(dir, "config.yaml");
  await writeFile(
    config,
    stringify({
      http: { host: "127.0.0.1", port: 0 },
      mqtt: { enabled: false },
      builtin_plugins: false,
      plugin_dirs: [BUSY_PLUGIN],
      state_dir: join(dir, "state"),
      log: { level: "debug" },
      ...opts.config,
    }),
  );
  const args = [CLI, "start", "--config", config];
  const fullEnv = { ...process.env, XDG_CONFIG_HOME: join(dir, "xdg"), NEEDLED_CONFIG: "", NEEDLED_LOG_FORMAT: "json", ...env };
  const proc = opts.watchdogPidSelf
    ? spawn("/bin/sh", ["-c", 'WATCHDOG_PID=$$ exec "$@"', "sh", process.execPath, ...args], { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] })
    : spawn(process.execPath, args, { env: fullEnv, stdio: ["ignore", "pipe", "pipe"] });
  const out = new LineCollector();
  const err = new LineCollector();
  proc.stdout!.on("data", (d) => out.write(d));
  proc.stderr!.on("data", (d) => err.write(d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  cleanups.push(async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    await exited;
  });
  const d: Daemon = { proc, out, err, exited, url: "" };
  if (opts.waitReady !== false) {
    const line = await Promise.race([
      out.waitFor((l) => l.includes('"needled ready"'), 30_000),
      exited.then((e) => {
        throw new Error(`daemon exited before ready (${e.code ?? e.signal})\n${out.text()}\n${err.text()}`);
      }),
    ]);
    d.url = (JSON.parse(line) as { http: string }).http;
  }
  return d;
}

async function receiver(address: string): Promise<Receiver> {
  const r = await Receiver.start(address);
  cleanups.push(() => r.stop());
  return r;
}

async function socketPath(): Promise<string> {
  return join(await tempDir(), "notify.sock");
}

describe("notify protocol against a real daemon", () => {
  it("READY after start from the daemon's own pid, WATCHDOG every WATCHDOG_USEC/2, STOPPING on SIGTERM, exit 0", async () => {
    const r = await receiver(await socketPath());
    const d = await startDaemon({ NOTIFY_SOCKET: r.address, WATCHDOG_USEC: "400000" }, { watchdogPidSelf: true });

    const ready = await r.waitFor("READY", "1");
    // The datagram came from the main process (what NotifyAccess=main checks), and only once it was up.
    expect(ready.pid).toBe(d.proc.pid);
    expect(d.out.lines.some((l) => l.includes('"needled ready"'))).toBe(true);
    expect(ready.fields.STATUS).toMatch(/^(ready|degraded): 2 tools, .*MQTT off, HTTP 127\.0\.0\.1:\d+/);
    const first = r.datagrams()[0]!;
    expect(first.fields.STATUS).toBe("starting: loading plugins and the model");

    await sleep(2200);
    const pings = r.datagrams().filter((g) => g.fields.WATCHDOG === "1");
    expect(pings.length).toBeGreaterThanOrEqual(8);
    for (const p of pings) expect(p.pid).toBe(d.proc.pid);
    const gaps = pings.slice(1).map((p, i) => (p.t_ns - pings[i]!.t_ns) / 1e6);
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
    expect(median).toBeGreaterThan(150);
    expect(median).toBeLessThan(300);

    d.proc.kill("SIGTERM");
    const stopping = await r.waitFor("STOPPING", "1");
    expect(stopping.pid).toBe(d.proc.pid);
    expect(stopping.fields.STATUS).toMatch(/^stopping \(SIGTERM\)/);
    expect((await d.exited).code).toBe(0);
    const order = r.datagrams().map((g) => Object.keys(g.fields).join("+"));
    expect(order.indexOf("STOPPING+STATUS")).toBeGreaterThan(order.indexOf("READY+STATUS"));
  });

  it("a handler that blocks the event loop stops the watchdog pings until it returns", async () => {
    const r = await receiver(await socketPath());
    const d = await startDaemon({ NOTIFY_SOCKET: r.address, WATCHDOG_USEC: "400000" });
    await r.waitFor("READY");
    await r.waitFor("WATCHDOG");
    await sleep(600);

    const res = await fetch(`${d.url}/v1/call`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "fx_block_loop", arguments: { ms: 1500 } }),
    });
    const body = (await res.json()) as { ok: boolean; data: { start_ns: string; end_ns: string } };
    expect(body.ok).toBe(true);
    const start = Number(body.data.start_ns);
    const end = Number(body.data.end_ns);
    await sleep(700); // pings resume after the block

    const pings = r.datagrams().filter((g) => g.fields.WATCHDOG === "1").map((g) => g.t_ns);
    // Both clocks are CLOCK_MONOTONIC (process.hrtime and Python's monotonic_ns). A ping sent just before
    // the block may be read by the receiver a little later, hence the 100 ms margin at the start.
    const during = pings.filter((t) => t > start + 100e6 && t < end);
    expect(during).toEqual([]);
    const before = pings.filter((t) => t <= start);
    const after = pings.filter((t) => t >= end);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(after.length).toBeGreaterThanOrEqual(2);
    // The silence covers the whole block: systemd (WatchdogSec=0.4 here) would have killed the service.
    expect((after[0]! - before.at(-1)!) / 1e6).toBeGreaterThanOrEqual(1400);
  });

  it("STATUS follows the daemon's health: broker connected, lost, back", async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.dispose());
    const r = await receiver(await socketPath());
    await startDaemon({ NOTIFY_SOCKET: r.address, WATCHDOG_USEC: "400000" }, { config: { mqtt: { enabled: true, url: broker.url } } });
    const ready = await r.waitFor("READY", "1");
    expect(ready.fields.STATUS).toMatch(/, broker connected, /);

    await broker.stop();
    const lost = await r.out.waitFor((l) => l.includes("broker disconnected"), 15_000);
    expect(JSON.parse(lost).fields.STATUS).toMatch(/^degraded: .*broker disconnected/);
    await broker.restart();
    const back = await r.out.waitFor((l) => {
      const d = l.includes('"fields"') ? (JSON.parse(l) as Datagram) : undefined;
      return d !== undefined && d.t_ns > JSON.parse(lost).t_ns && /broker connected/.test(d.fields.STATUS ?? "");
    }, 20_000);
    expect(JSON.parse(back).fields.WATCHDOG).toBe("1"); // status changes ride along with a ping
    // A status is sent when it changes, not with every ping.
    const statuses = r.datagrams().flatMap((g) => (g.fields.STATUS !== undefined ? [g.fields.STATUS] : []));
    for (let i = 1; i < statuses.length; i++) expect(statuses[i], `status #${i}`).not.toBe(statuses[i - 1]);
    expect(r.datagrams().filter((g) => g.fields.WATCHDOG === "1" && g.fields.STATUS === undefined).length).toBeGreaterThan(0);
  });

  it("works with an abstract-namespace socket (@name)", async () => {
    const r = await receiver(`@needled-test-${randomBytes(6).toString("hex")}`);
    const d = await startDaemon({ NOTIFY_SOCKET: r.address, WATCHDOG_USEC: "400000" });
    const ready = await r.waitFor("READY", "1");
    expect(ready.pid).toBe(d.proc.pid);
    await r.waitFor("WATCHDOG", "1");
  });

  it("WATCHDOG_PID naming another process: READY and STATUS, but no pings", async () => {
    const r = await receiver(await socketPath());
    await startDaemon({ NOTIFY_SOCKET: r.address, WATCHDOG_USEC: "200000", WATCHDOG_PID: String(process.pid) });
    await r.waitFor("READY", "1");
    await sleep(800);
    expect(r.datagrams().filter((g) => "WATCHDOG" in g.fields)).toEqual([]);
  });

  it("the notify variables are not passed on to processes the daemon starts", async () => {
    // connectSystemd removes them from process.env (as sd_notify's unset_environment does), so a plugin's
    // child process cannot pose as the service or inherit its watchdog.
    const r = await receiver(await socketPath());
    const d = await startDaemon({ NOTIFY_SOCKET: r.address, WATCHDOG_USEC: "400000" }, { watchdogPidSelf: true });
    await r.waitFor("READY");
    const res = await fetch(`${d.url}/v1/call`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "fx_child_env", arguments: {} }),
    });
    const body = (await res.json()) as { ok: boolean; data: Record<string, string> };
    expect(body.ok).toBe(true);
    expect(body.data).toEqual({});
    // ... while the daemon itself keeps pinging.
    const before = r.datagrams().length;
    await r.waitFor("WATCHDOG");
    await sleep(300);
    expect(r.datagrams().length).toBeGreaterThan(before);
  });

  it("a NOTIFY_SOCKET that does not exist: one warning, the daemon runs normally", async () => {
    const missing = join(await tempDir(), "no-such.sock");
    const d = await startDaemon({ NOTIFY_SOCKET: missing, WATCHDOG_USEC: "200000" });
    await sleep(1000);
    const warnings = d.out.json().filter((l) => l.msg === "cannot reach the service manager's notify socket");
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.error)).toContain(missing);
    const res = await fetch(`${d.url}/v1/call`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: "fx_block_loop", arguments: { ms: 1 } }),
    });
    expect(res.status).toBe(200);
  });

  it("a malformed NOTIFY_SOCKET or WATCHDOG_USEC: a clear warning, no notify, the daemon runs", async () => {
    const d = await startDaemon({ NOTIFY_SOCKET: "relative/path.sock" });
    const warn = d.out.json().find((l) => String(l.msg).startsWith("systemd notify is off"));
    expect(String(warn?.error)).toMatch(/expected an absolute socket path or @abstract-name/);
    const r = await receiver(await socketPath());
    const e = await startDaemon({ NOTIFY_SOCKET: r.address, WATCHDOG_USEC: "soon" });
    const warn2 = e.out.json().find((l) => String(l.msg).startsWith("systemd notify is off"));
    expect(String(warn2?.error)).toContain('WATCHDOG_USEC="soon"');
    expect((await fetch(`${e.url}/healthz`)).status).toBe(200);
  });

  it("a start that fails says why in STATUS before exiting", async () => {
    const r = await receiver(await socketPath());
    const dir = await tempDir();
    const blockedState = join(dir, "file-not-dir");
    await writeFile(blockedState, "x");
    const config = join(dir, "config.yaml");
    await writeFile(config, stringify({ http: { port: 0 }, mqtt: { enabled: false }, builtin_plugins: false, state_dir: join(blockedState, "state") }));
    const proc = spawn(process.execPath, [CLI, "start", "--config", config], {
      env: { ...process.env, NOTIFY_SOCKET: r.address, NEEDLED_CONFIG: "" },
      stdio: ["ignore", "ignore", "ignore"],
    });
    const code = await new Promise<number | null>((resolve) => proc.once("exit", resolve));
    expect(code).toBe(2);
    const status = await r.waitFor("STATUS");
    const last = r.datagrams().at(-1)!;
    expect(status.fields.STATUS).toBe("starting: loading plugins and the model");
    expect(last.fields.STATUS).toMatch(/^cannot start: config error: state_dir: .* is not writable/);
    expect(r.datagrams().some((g) => "READY" in g.fields)).toBe(false);
  });
});

describe("notify protocol pieces", () => {
  it("parses NOTIFY_SOCKET: paths, @abstract names, and rejects the rest", () => {
    expect(parseNotifySocket(undefined)).toBeUndefined();
    expect(parseNotifySocket("")).toBeUndefined();
    expect(parseNotifySocket("/run/systemd/notify")).toEqual({ kind: "path", name: "/run/systemd/notify" });
    expect(parseNotifySocket("@/org/freedesktop/systemd1/notify/123")).toEqual({ kind: "abstract", name: "/org/freedesktop/systemd1/notify/123" });
    expect(() => parseNotifySocket("@")).toThrow(/empty abstract socket name/);
    expect(() => parseNotifySocket("vsock:2:1234")).toThrow(/absolute socket path/);
    expect(() => parseNotifySocket(`/${"x".repeat(120)}`)).toThrow(/longer than 107 bytes/);
  });

  it("builds sockaddr_un: NUL-terminated path, abstract name after a NUL without a terminator", () => {
    const p = sockaddrUn({ kind: "path", name: "/a/b" });
    expect(p.len).toBe(2 + 4 + 1);
    expect(p.buf.readUInt16LE(0)).toBe(1);
    expect(p.buf.subarray(2, 7).toString("latin1")).toBe("/a/b\0");
    const a = sockaddrUn({ kind: "abstract", name: "xyz" });
    expect(a.len).toBe(2 + 1 + 3);
    expect(a.buf.subarray(2, 6).toString("latin1")).toBe("\0xyz");
  });

  it("watchdog interval: half of WATCHDOG_USEC, only for the named pid", () => {
    expect(watchdogIntervalMs({})).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "0" })).toBeUndefined();
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "30000000" })).toBe(15_000);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "400000", WATCHDOG_PID: "42" }, 42)).toBe(200);
    expect(watchdogIntervalMs({ WATCHDOG_USEC: "400000", WATCHDOG_PID: "43" }, 42)).toBeUndefined();
    expect(() => watchdogIntervalMs({ WATCHDOG_USEC: "30s" })).toThrow(/not a number of microseconds/);
  });

  it("message fields: one per line, newlines in values flattened", () => {
    expect(formatMessage({ READY: 1, STATUS: "ready: 3 tools\nsecond line" })).toBe("READY=1\nSTATUS=ready: 3 tools second line");
  });

  it("status line says what systemctl status should show", () => {
    const base: Health = {
      status: "ok",
      pid: 1,
      uptime_s: 1,
      engine: { ok: true, model: "m" },
      mqtt: { enabled: true, embeddedBroker: true, url: "mqtt://127.0.0.1:1883", connected: true, since: 0, reconnects: 0 },
      http: { url: "http://127.0.0.1:8750" },
      plugins: { loaded: [], failed: [] },
      tools: 18,
      state: { dir: "/var/lib/needled", problems: [] },
      inflight: 0,
    };
    expect(statusLine(base)).toBe("ready: 18 tools, embedded broker connected, HTTP 127.0.0.1:8750");
    expect(
      statusLine({
        ...base,
        status: "degraded",
        engine: { ok: false, model: "m", error: "models/default does not exist" },
        mqtt: { enabled: true, embeddedBroker: false, url: "mqtt://hub:1883", connected: false, lastError: "ECONNREFUSED", since: 0, reconnects: 3 },
        plugins: { loaded: [], failed: [{ source: "x", reason: "y" }] },
      }),
    ).toBe(
      "degraded: 18 tools, engine unavailable (models/default does not exist), broker disconnected (ECONNREFUSED), HTTP 127.0.0.1:8750, 1 plugin(s) failed to load",
    );
    expect(statusLine({ ...base, status: "stopping", inflight: 2 })).toBe("stopping: 2 call(s) in flight");
  });
});
