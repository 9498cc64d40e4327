// needled doctor's service checks: what `systemctl show` says turned into advice; the service user; serial
// ports and microphones judged for the service user's identity against real device nodes (socat PTYs, real
// character devices), and a real `needled doctor` run over a config that names ports.
import { describe, it, expect, afterEach } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm, stat, symlink, writeFile } from "node:fs/promises";
import { existsSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { runCli } from "./helpers/daemon.js";
import {
  checkAudioInput,
  checkSerialPorts,
  configuredDevicePaths,
  judgeService,
  parseShow,
} from "../src/cli/checks/service.js";
import { canAccess, parseGroup, parsePasswd, AccountDb, whyNoAccess } from "../src/cli/unix-accounts.js";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A socat PTY pair; returns the two link paths (symlinks to /dev/pts/N, like /dev/serial/by-id/...). */
async function ptys(): Promise<{ a: string; b: string; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), "needled-doc-"));
  const a = join(dir, "ttyHUB");
  const b = join(dir, "ttyDEV");
  const proc: ChildProcess = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: "ignore" });
  cleanups.push(async () => {
    if (proc.exitCode === null) {
      const gone = new Promise((r) => proc.once("exit", r));
      proc.kill("SIGTERM");
      await gone;
    }
    await rm(dir, { recursive: true, force: true });
  });
  const t0 = Date.now();
  while (!(existsSync(a) && existsSync(b))) {
    if (proc.exitCode !== null || Date.now() - t0 > 5000) throw new Error("socat did not create the PTY pair");
    await new Promise((r) => setTimeout(r, 20));
  }
  return { a, b, dir };
}

const show = (o: Record<string, string>) =>
  Object.entries(o)
    .map(([k, v]) => `${k}=${v}`)
    .join("\n");
const CLI_PATH = "/opt/needled/dist/src/cli.js";
const running = {
  LoadState: "loaded",
  ActiveState: "active",
  SubState: "running",
  Result: "success",
  UnitFileState: "enabled",
  StatusText: "ready: 18 tools, embedded broker connected, HTTP 127.0.0.1:8750",
  NRestarts: "0",
  ExecStart: `{ path=/usr/bin/node ; argv[]=/usr/bin/node ${CLI_PATH} start --config /etc/needled/config.yaml ; ignore_errors=no }`,
};

describe("service check (systemctl show -> advice)", () => {
  it("parses systemctl show output", () => {
    expect(parseShow("A=1\nStatusText=ready: x=y\n\n")).toEqual({ A: "1", StatusText: "ready: x=y" });
  });

  it("running, enabled, this checkout: ok with the daemon's own status line", () => {
    const r = judgeService(parseShow(show(running)), CLI_PATH);
    expect(r.status).toBe("ok");
    expect(r.detail).toBe('active (running), enabled; "ready: 18 tools, embedded broker connected, HTTP 127.0.0.1:8750"');
  });

  it("not installed, not enabled, another checkout, degraded, restarted: warnings with the fix", () => {
    expect(judgeService({ LoadState: "not-found", ActiveState: "inactive" }, CLI_PATH)).toEqual({
      status: "warn",
      detail: "not installed as a service; to run at boot: sudo needled install-service",
    });
    const disabled = judgeService({ ...running, UnitFileState: "disabled" }, CLI_PATH);
    expect(disabled).toMatchObject({ status: "warn", detail: expect.stringContaining("sudo systemctl enable needled") });
    const other = judgeService(running, "/home/pi/needled/dist/src/cli.js");
    expect(other).toMatchObject({ status: "warn", detail: expect.stringContaining("it runs another needled than /home/pi/needled/dist/src/cli.js") });
    const degraded = judgeService({ ...running, StatusText: "degraded: 18 tools, engine unavailable (x)", NRestarts: "2" }, CLI_PATH);
    expect(degraded.status).toBe("warn");
    expect(degraded.detail).toContain("restarted 2 time(s)");
    const stopped = judgeService({ ...running, ActiveState: "inactive", SubState: "dead" }, CLI_PATH);
    expect(stopped).toMatchObject({ status: "warn", detail: expect.stringContaining("sudo systemctl start needled") });
  });

  it("failed (e.g. killed by the watchdog): fail, with where to look", () => {
    const r = judgeService({ ...running, ActiveState: "failed", SubState: "failed", Result: "watchdog" }, CLI_PATH);
    expect(r.status).toBe("fail");
    expect(r.detail).toContain("failed (failed): result watchdog");
    expect(r.detail).toContain("journalctl -u needled -e");
  });
});

describe("accounts and permissions", () => {
  const passwd = "root:x:0:0:root:/root:/bin/bash\nneedled:x:999:995:needled:/var/lib/needled:/usr/sbin/nologin\n# comment\nbroken\n";
  const group = "root:x:0:\ndialout:x:20:pi,needled\naudio:x:29:pi\nneedled:x:995:\n";

  it("parses passwd and group; the service identity includes the unit's extra groups", () => {
    expect(parsePasswd(passwd).map((a) => a.name)).toEqual(["root", "needled"]);
    expect(parseGroup(group).find((g) => g.name === "dialout")?.members).toEqual(["pi", "needled"]);
    const db = new AccountDb(parsePasswd(passwd), parseGroup(group));
    expect(db.memberOf("needled")).toEqual(["dialout"]);
    expect(db.identity("needled")?.gids.sort()).toEqual([20, 995]);
    expect(db.identity("needled", ["audio"])?.gids.sort((a, b) => a - b)).toEqual([20, 29, 995]);
    expect(db.identity("nobody-here")).toBeUndefined();
  });

  it("owner, group, other bits; root reads anything", () => {
    const dev = { mode: 0o020660, uid: 0, gid: 20 };
    expect(canAccess(dev, { name: "n", uid: 999, gids: [995, 20] }, "rw")).toBe(true);
    expect(canAccess(dev, { name: "n", uid: 999, gids: [995] }, "r")).toBe(false);
    expect(canAccess({ mode: 0o100604, uid: 999, gid: 20 }, { name: "n", uid: 999, gids: [20] }, "r")).toBe(true);
    expect(canAccess({ mode: 0o100064, uid: 999, gid: 20 }, { name: "n", uid: 999, gids: [20] }, "r")).toBe(false); // owner bits win
    expect(canAccess({ mode: 0o100000, uid: 5, gid: 5 }, { name: "root", uid: 0, gids: [0] }, "rw")).toBe(true);
  });

  it("whyNoAccess names the directory that stops the user", async () => {
    const dir = await mkdtemp(join(tmpdir(), "needled-acc-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, "cli.js"), "");
    await chmod(join(dir, "cli.js"), 0o644);
    await chmod(dir, 0o700);
    const st = await stat(dir);
    const stranger = { name: "svc", uid: st.uid + 4242, gids: [st.gid + 4242] };
    expect(whyNoAccess(join(dir, "cli.js"), stranger, "r")).toBe(`${dir} (mode 700) cannot be entered by svc`);
    await chmod(dir, 0o755);
    expect(whyNoAccess(join(dir, "cli.js"), stranger, "r")).toBeUndefined();
    expect(whyNoAccess(join(dir, "cli.js"), stranger, "rx")).toBe(`${join(dir, "cli.js")} (mode 644) is not readable and executable by svc`);
  });
});

describe("serial ports and audio input, on real device nodes", () => {
  it("finds serial ports named anywhere in the config, including symlinks to terminals", async () => {
    const { a, dir } = await ptys();
    await writeFile(join(dir, "plain-file"), "");
    const raw = {
      serial: { ports: ["/dev/ttyUSB0", { path: "/dev/rfcomm0" }] },
      plugins: { x: { port: "/dev/serial/by-id/usb-FTDI-if00", link: a, notes: join(dir, "plain-file") } },
      other: "/dev/null",
    };
    expect(configuredDevicePaths(raw).sort()).toEqual(["/dev/rfcomm0", "/dev/serial/by-id/usb-FTDI-if00", "/dev/ttyUSB0", a].sort());
  });

  it("a configured port the service user can use: ok; without its group: fail naming dialout; unplugged: fail", async () => {
    const { a, b } = await ptys();
    const real = realpathSync(a);
    await chmod(real, 0o660);
    const st = await stat(real);
    const inGroup = { name: "svc", uid: st.uid + 4242, gids: [st.gid] };
    const outside = { name: "svc", uid: st.uid + 4242, gids: [st.gid + 4242] };

    const ok = checkSerialPorts([a], inGroup, []);
    expect(ok).toEqual({ status: "ok", detail: `usable by svc: ${a} -> ${real}` });

    const denied = checkSerialPorts([a], outside, []);
    expect(denied.status).toBe("fail");
    expect(denied.detail).toContain(`${a} -> ${real} (mode 660, group `);
    expect(denied.detail).toContain("is not read/writable by svc");
    expect(denied.detail).toContain("usually dialout");

    // Present but not configured (auto-detected): only a warning.
    expect(checkSerialPorts([], outside, [b, a]).status).toBe("warn");

    const gone = checkSerialPorts([`${a}-unplugged`], inGroup, []);
    expect(gone).toEqual({ status: "fail", detail: `${a}-unplugged: missing (unplugged?)` });
    expect(checkSerialPorts([], inGroup, [])).toMatchObject({ status: "skip" });
  });

  it("ALSA capture devices: usable or not by the service user; none: skip", async () => {
    const { a } = await ptys(); // a real character device stands in for /dev/snd/pcmC1D0c
    const real = realpathSync(a);
    await chmod(real, 0o660);
    const st = await stat(real);
    const snd = await mkdtemp(join(tmpdir(), "needled-snd-"));
    cleanups.push(() => rm(snd, { recursive: true, force: true }));
    await symlink(real, join(snd, "pcmC1D0c"));
    await symlink(real, join(snd, "pcmC1D0p")); // playback: not a microphone
    await writeFile(join(snd, "controlC1"), "");

    expect(checkAudioInput(snd, { name: "svc", uid: st.uid + 4242, gids: [st.gid] })).toEqual({
      status: "ok",
      detail: "microphone input usable by svc: card 1 (pcmC1D0c)",
    });
    expect(checkAudioInput(snd, { name: "svc", uid: st.uid + 4242, gids: [st.gid + 4242] })).toEqual({
      status: "warn",
      detail: "pcmC1D0c not usable by svc (needs the audio group)",
    });
    await rm(join(snd, "pcmC1D0c"));
    expect(checkAudioInput(snd, { name: "svc", uid: 1, gids: [] }).status).toBe("skip");
    expect(checkAudioInput(join(snd, "missing"), { name: "svc", uid: 1, gids: [] }).status).toBe("skip");
  });

  it("needled doctor over a config naming a PTY and an unplugged port: the serial check fails the run", async () => {
    const { a, dir } = await ptys();
    const config = join(dir, "config.yaml");
    const base = { http: { port: 0 }, mqtt: { enabled: false }, builtin_plugins: false, state_dir: join(dir, "state") };
    await writeFile(config, stringify({ ...base, plugins: { link: { port: a } } }));
    const good = await runCli(["doctor", "--json", "--config", config]);
    const checks = JSON.parse(good.stdout).checks as Array<{ name: string; status: string; detail: string }>;
    const serial = checks.find((c) => c.name === "serial access")!;
    expect(serial.status).toBe("ok");
    expect(serial.detail).toContain(a);
    expect(checks.map((c) => c.name)).toEqual(expect.arrayContaining(["service", "service user", "serial access", "audio access"]));

    await writeFile(config, stringify({ ...base, plugins: { link: { port: a, spare: "/dev/ttyNEEDLEDGONE9" } } }));
    const bad = await runCli(["doctor", "--json", "--config", config]);
    expect(bad.code).toBe(1);
    const serial2 = (JSON.parse(bad.stdout).checks as Array<{ name: string; status: string; detail: string }>).find((c) => c.name === "serial access")!;
    expect(serial2).toMatchObject({ status: "fail", detail: expect.stringContaining("/dev/ttyNEEDLEDGONE9: missing (unplugged?)") });
  });
});
