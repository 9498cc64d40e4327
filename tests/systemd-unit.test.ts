// systemd/needled.service checked by systemd's own tools (systemd-analyze from the `systemd` package; it
// works without systemd running): `verify` must be silent, `security --offline` must stay at or below an
// exposure of 2.5, and broken copies must be caught by both, so the checks are not vacuous.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "./helpers/daemon.js";

const TEMPLATE = join(ROOT, "systemd", "needled.service");
let dir: string;
let template: string;

beforeAll(async () => {
  const probe = spawnSync("systemd-analyze", ["--version"], { encoding: "utf8" });
  if (probe.error) throw new Error("systemd-analyze is missing: apt-get install systemd (.ci/run installs it)");
  dir = await mkdtemp(join(tmpdir(), "needled-unit-"));
  // verify checks that ExecStart's program exists: point it at the node running the tests.
  template = (await readFile(TEMPLATE, "utf8")).replace(/^ExecStart=\S+/m, `ExecStart=${realpathSync(process.execPath)}`);
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Writes `text` as DIR/NAME/needled.service (the file name must be the unit name) and runs systemd-analyze. */
async function analyze(args: string[], text: string, name = "x"): Promise<{ code: number | null; out: string }> {
  const sub = join(dir, name);
  await (await import("node:fs/promises")).mkdir(sub, { recursive: true });
  const file = join(sub, "needled.service");
  await writeFile(file, text);
  const r = spawnSync("systemd-analyze", [...args, file], { encoding: "utf8", env: { ...process.env, SYSTEMD_LOG_COLOR: "0", SYSTEMD_PAGER: "" } });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

/** verify passes only with exit 0 and nothing said about the file (unknown keys are only warnings). */
async function verify(text: string, name?: string) {
  const r = await analyze(["verify"], text, name);
  return { ...r, clean: r.code === 0 && !r.out.includes("needled.service") };
}

function directives(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split("\n")) {
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv) m.set(kv[1]!, [...(m.get(kv[1]!) ?? []), kv[2]!]);
  }
  return m;
}

describe("systemd/needled.service", () => {
  it("passes systemd-analyze verify without a word", async () => {
    const r = await verify(template, "ok");
    expect(r.out).toBe("");
    expect(r.clean).toBe(true);
  });

  it("a broken copy fails verify: a misspelt key, a bad value, a missing program, a missing ExecStart", async () => {
    const typo = await verify(template.replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"), "typo");
    expect(typo.clean).toBe(false);
    expect(typo.out).toMatch(/Unknown key name 'NoNewPrivilege'|Unknown key 'NoNewPrivilege'/);

    const badValue = await verify(template.replace("Restart=on-failure", "Restart=sometimes"), "bad-value");
    expect(badValue.clean).toBe(false);
    expect(badValue.out).toMatch(/restart specifier.*sometimes/);

    const missing = await verify(template.replace(/^ExecStart=\S+/m, "ExecStart=/nonexistent/node"), "missing-program");
    expect(missing.code).not.toBe(0);
    expect(missing.out).toMatch(/\/nonexistent\/node/);

    const noExec = await verify(template.replace(/^ExecStart=.*$/m, ""), "no-exec");
    expect(noExec.clean).toBe(false);
    expect(noExec.out).toMatch(/ExecStart/);
  });

  it("says what the issue asks: notify + watchdog, restart, own user with device groups, directories, hardening", () => {
    const d = directives(template);
    const one = (k: string) => d.get(k)?.join(" ");
    expect(one("Type")).toBe("notify");
    expect(one("NotifyAccess")).toBe("main");
    expect(Number(one("WatchdogSec"))).toBeGreaterThan(0);
    expect(one("Restart")).toBe("on-failure");
    expect(one("User")).toBe("needled");
    expect(one("SupplementaryGroups")?.split(/\s+/).sort()).toEqual(["audio", "dialout"]);
    expect(one("StateDirectory")).toBe("needled");
    expect(one("ConfigurationDirectory")).toBe("needled");
    expect(one("ExecStart")).toMatch(/ start --config %E\/needled\/config\.yaml$/);
    for (const [k, v] of Object.entries({ NoNewPrivileges: "yes", ProtectSystem: "strict", ProtectHome: "yes", PrivateTmp: "yes" })) {
      expect(one(k), k).toBe(v);
    }
    expect(one("RestrictAddressFamilies")?.split(/\s+/).sort()).toEqual(["AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX"]);
    expect(one("MemoryMax")).toMatch(/^\d+[MG]$/);
    // Devices stay reachable: serial (ttyS, ttyAMA, ttyUSB=188, ttyACM=166, rfcomm=216) and ALSA (116).
    expect(one("DevicePolicy")).toBe("closed");
    expect(d.get("DeviceAllow")).toEqual(
      expect.arrayContaining(["char-ttyS rw", "char-ttyAMA rw", "char-188 rw", "char-166 rw", "char-216 rw", "char-116 rw"]),
    );
    expect(d.has("PrivateDevices")).toBe(false);
    expect(d.has("MemoryDenyWriteExecute")).toBe(false); // V8's JIT
  });

  it("systemd-analyze security --offline: exposure at most 2.5; a copy without the hardening is refused", async () => {
    const ok = await analyze(["security", "--offline=yes", "--threshold=25"], template, "sec");
    expect(ok.out).toMatch(/Overall exposure level for needled\.service: [0-2]\.\d/);
    expect(ok.code).toBe(0);

    const bare = template
      .split("\n")
      .filter((l) => !/^(NoNewPrivileges|ProtectSystem|ProtectHome|PrivateTmp|Protect\w+|Restrict\w+|SystemCall\w+|CapabilityBoundingSet|DevicePolicy|DeviceAllow|LockPersonality|RemoveIPC|PrivateMounts)=/.test(l))
      .join("\n");
    const weak = await analyze(["security", "--offline=yes", "--threshold=25"], bare, "sec-bare");
    expect(weak.code).not.toBe(0);
    expect(weak.out).toMatch(/Overall exposure level for needled\.service: ([3-9]|10)\.\d/);
  });
});
