// needled install-service / uninstall-service: the --dry-run plan (and the unit it would install, checked by
// systemd-analyze), clear refusals (not root, no systemd), and a real install into a system image directory
// (--root): real useradd/usermod/userdel --prefix and `systemctl --root enable`, which work without systemd
// running. Needs `npm run build` (npm test does it).
import { describe, it, expect, afterEach } from "vitest";
import { spawnSync } from "node:child_process";
import { chmod, cp, lstat, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, ROOT, runCli } from "./helpers/daemon.js";
import { renderUnit, unitArg, planInstall, type InstallFacts } from "../src/cli/service-plan.js";
import { AccountDb } from "../src/cli/unix-accounts.js";
import { checkServiceUser } from "../src/cli/checks/service.js";
import { loadConfig } from "../src/daemon/config.js";

const isRoot = process.getuid?.() === 0;
const NODE = realpathSync(process.execPath);
const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tempDir(prefix = "needled-svc-"): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

/** The content of `----- PATH -----` ... `----- end -----` in a dry-run listing. */
function fileBlock(out: string, path: string): string {
  const start = out.indexOf(`----- ${path} -----\n`);
  if (start < 0) throw new Error(`no block for ${path} in:\n${out}`);
  const from = start + `----- ${path} -----\n`.length;
  return out.slice(from, out.indexOf("\n----- end -----", from));
}

function verifyUnit(dir: string, text: string): { code: number | null; out: string } {
  const file = join(dir, "needled.service");
  writeFileSync(file, text);
  const r = spawnSync("systemd-analyze", ["verify", file], { encoding: "utf8" });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("install-service --dry-run", () => {
  it("prints the user, the unit for this checkout and node, the starter config and the systemctl steps", async () => {
    const r = await runCli(["install-service", "--dry-run"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("nothing is changed");
    expect(r.stdout).toContain(`needled  ${realpathSync(ROOT)}`);
    const hostHasUser = AccountDb.read().user("needled") !== undefined;
    if (hostHasUser) expect(r.stdout).toMatch(/run {5}usermod --append --groups dialout,audio needled/);
    else expect(r.stdout).toMatch(/run {5}useradd --system --user-group --groups dialout,audio --home-dir \/var\/lib\/needled --no-create-home --shell \/usr\/sbin\/nologin .* needled {3}#/);

    const unit = fileBlock(r.stdout, "/etc/systemd/system/needled.service");
    expect(unit).toContain(`ExecStart=${NODE} --max-semi-space-size=1 --expose-gc ${realpathSync(ROOT)}/dist/src/cli.js start --config %E/needled/config.yaml`);
    expect(unit).toContain("User=needled");
    expect(unit).toContain(`# Installed by \`needled install-service\` from ${realpathSync(ROOT)}/systemd/needled.service.`);
    // The unit it would install is one systemd accepts.
    const v = verifyUnit(await tempDir(), unit);
    expect(v.out).toBe("");
    expect(v.code).toBe(0);

    if (!existsSync("/etc/needled/config.yaml")) {
      const config = fileBlock(r.stdout, "/etc/needled/config.yaml");
      expect(r.stdout).toContain("write   /etc/needled/config.yaml (mode 0644, root:root)");
      // The starter config is one the daemon loads.
      const dir = await tempDir();
      await writeFile(join(dir, "config.yaml"), config);
      const cfg = await loadConfig({ file: join(dir, "config.yaml"), env: {} });
      expect(cfg.http).toMatchObject({ host: "127.0.0.1", port: 8750 });
    }
    expect(r.stdout).toMatch(/run {5}systemctl daemon-reload/);
    expect(r.stdout).toMatch(/run {5}systemctl enable --now needled\.service/);
    expect(r.stdout).toMatch(/check {3}needled can run .* and read /);
  });

  it("--user and --no-start change the plan; a bad user name is a usage error", async () => {
    const r = await runCli(["install-service", "--dry-run", "--user", "hub", "--no-start"]);
    expect(r.code, r.stderr).toBe(0);
    const unit = fileBlock(r.stdout, "/etc/systemd/system/needled.service");
    expect(unit).toMatch(/^User=hub$/m);
    expect(unit).toMatch(/^Group=hub$/m);
    expect(r.stdout).toMatch(/run {5}systemctl enable needled\.service {3}#/);
    expect(r.stdout).not.toContain("--now");

    const bad = await runCli(["install-service", "--dry-run", "--user", "Bad Name"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--user: "Bad Name" is not a valid system user name');
    const extra = await runCli(["install-service", "now"]);
    expect(extra.code).toBe(2);
  });

  it("uninstall-service --dry-run: keeps config and state unless --purge", async () => {
    const keep = await runCli(["uninstall-service", "--dry-run"]);
    expect(keep.code, keep.stderr).toBe(0);
    expect(keep.stdout).toMatch(/kept: \/etc\/needled \(config\), \/var\/lib\/needled \(state\)/);
    expect(keep.stdout).not.toMatch(/remove {2}\/var\/lib\/needled/);
    const purge = await runCli(["uninstall-service", "--dry-run", "--purge"]);
    expect(purge.stdout).toMatch(/remove {2}\/var\/lib\/needled \(and everything in it\)/);
    expect(purge.stdout).toMatch(/remove {2}\/etc\/needled \(and everything in it\)/);
  });
});

describe("refusals", () => {
  it("not root: a clear error saying to use sudo, exit 1, nothing done", async () => {
    const r = isRoot
      ? spawnSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", NODE, CLI, "install-service"], { encoding: "utf8", cwd: "/" })
      : spawnSync(NODE, [CLI, "install-service"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^needled install-service: must run as root \(it creates a system user and writes to \/etc\): sudo /m);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
  });

  it.skipIf(!isRoot || existsSync("/run/systemd/system"))("root on a machine without systemd: a clear error", async () => {
    const r = await runCli(["install-service"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("systemd is not running on this machine (no /run/systemd/system)");
    expect(existsSync("/etc/systemd/system/needled.service")).toBe(false);
  });
});

describe("install into a system image (--root), for real", () => {
  /** A minimal image: the account files, and this needled (built) at /opt/needled with node at /usr/bin/node. */
  async function image(): Promise<{ root: string; cli: string }> {
    const root = await tempDir("needled-img-");
    await chmod(root, 0o755); // the image's "/" (mkdtemp makes it 0700)
    await mkdir(join(root, "etc"), { recursive: true });
    for (const f of ["passwd", "group", "shadow", "gshadow"]) await cp(`/etc/${f}`, join(root, "etc", f), { preserveTimestamps: true });
    const opt = join(root, "opt", "needled");
    await mkdir(opt, { recursive: true });
    for (const f of ["dist", "package.json", "systemd", "README.md"]) await cp(join(ROOT, f), join(opt, f), { recursive: true });
    await symlink(join(ROOT, "node_modules"), join(opt, "node_modules"));
    await mkdir(join(root, "usr", "bin"), { recursive: true });
    await symlink(NODE, join(root, "usr", "bin", "node"));
    return { root, cli: join(opt, "dist", "src", "cli.js") };
  }
  const run = (cli: string, args: string[]) => spawnSync(NODE, [cli, ...args], { encoding: "utf8", env: { ...process.env, NEEDLED_CONFIG: "" } });

  it.skipIf(!isRoot)("creates the user in dialout+audio, the unit, the config and the boot link; again: nothing changes; uninstall keeps data; --purge removes all", async () => {
    const hostPasswd = readFileSync("/etc/passwd", "utf8");
    const { root, cli } = await image();

    const first = run(cli, ["install-service", "--root", root, "--node", "/usr/bin/node"]);
    expect(first.status, first.stdout + first.stderr).toBe(0);
    const db = AccountDb.read(root);
    const user = db.user("needled")!;
    expect(user).toMatchObject({ home: "/var/lib/needled", shell: "/usr/sbin/nologin" });
    expect(db.memberOf("needled").sort()).toEqual(["audio", "dialout"]);
    expect(db.group("needled")?.gid).toBe(user.gid);
    expect(readFileSync("/etc/passwd", "utf8")).toBe(hostPasswd); // the host is untouched

    const unitFile = join(root, "etc/systemd/system/needled.service");
    const unit = await readFile(unitFile, "utf8");
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/node --max-semi-space-size=1 --expose-gc \/opt\/needled\/dist\/src\/cli\.js start --config %E\/needled\/config\.yaml$/m);
    expect(unit).toMatch(/^Documentation=file:\/\/\/opt\/needled\/README\.md$/m);
    expect(unit).toMatch(/^Environment=MALLOC_ARENA_MAX=1$/m); // src/cli/node-flags.ts NODE_ENV
    expect((await stat(unitFile)).mode & 0o777).toBe(0o644);
    expect((await lstat(join(root, "etc/systemd/system/multi-user.target.wants/needled.service"))).isSymbolicLink()).toBe(true);
    const configFile = join(root, "etc/needled/config.yaml");
    expect((await stat(configFile)).mode & 0o777).toBe(0o644);
    expect(checkServiceUser(root)).toMatchObject({ status: "ok", detail: expect.stringMatching(/^needled \(uid \d+\), groups needled, (dialout, audio|audio, dialout)$/) });

    // Second run: the unit is current, a config the user edited is kept as it is.
    await writeFile(configFile, "log:\n  level: debug\n");
    const again = run(cli, ["install-service", "--root", root, "--node", "/usr/bin/node"]);
    expect(again.status, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain("needled.service is up to date");
    expect(again.stdout).toContain("config.yaml exists and is kept as it is");
    expect(again.stdout).toContain("usermod");
    expect(await readFile(configFile, "utf8")).toBe("log:\n  level: debug\n");

    const un = run(cli, ["uninstall-service", "--root", root]);
    expect(un.status, un.stdout + un.stderr).toBe(0);
    expect(existsSync(unitFile)).toBe(false);
    expect(existsSync(join(root, "etc/systemd/system/multi-user.target.wants/needled.service"))).toBe(false);
    expect(existsSync(configFile)).toBe(true);
    expect(AccountDb.read(root).user("needled")).toBeDefined();

    await mkdir(join(root, "var/lib/needled/plugins"), { recursive: true });
    const purge = run(cli, ["uninstall-service", "--root", root, "--purge"]);
    expect(purge.status, purge.stdout + purge.stderr).toBe(0);
    expect(existsSync(join(root, "etc/needled"))).toBe(false);
    expect(existsSync(join(root, "var/lib/needled"))).toBe(false);
    expect(AccountDb.read(root).user("needled")).toBeUndefined();
    expect(AccountDb.read(root).group("needled")).toBeUndefined();
    expect(AccountDb.read(root).memberOf("needled")).toEqual([]);
  });

  it.skipIf(!isRoot)("refuses before writing anything when the service user could not read needled", async () => {
    const { root, cli } = await image();
    spawnSync("chmod", ["0700", join(root, "opt", "needled")]);
    const r = run(cli, ["install-service", "--root", root, "--node", "/usr/bin/node"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/needled can run \/usr\/bin\/node and read \/opt\/needled: no: .*opt\/needled \(mode 700\) cannot be entered by needled/);
    expect(r.stderr).toContain("/opt/needled");
    expect(existsSync(join(root, "etc/systemd/system/needled.service"))).toBe(false);
    expect(AccountDb.read(root).user("needled")).toBeUndefined();
  });

  it.skipIf(!isRoot)("refuses when an existing config could not be read by the service (it would fail at every start)", async () => {
    const { root, cli } = await image();
    await mkdir(join(root, "etc", "needled"));
    await writeFile(join(root, "etc", "needled", "config.yaml"), "log:\n  level: info\n");
    await chmod(join(root, "etc", "needled", "config.yaml"), 0o600);
    const r = run(cli, ["install-service", "--root", root, "--node", "/usr/bin/node"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/etc\/needled\/config\.yaml \(mode 600\) is not readable by needled/);
    expect(existsSync(join(root, "etc/systemd/system/needled.service"))).toBe(false);
  });
});

describe("unit rendering", () => {
  const facts: InstallFacts = {
    node: "/usr/bin/node",
    cli: "/opt/needled/dist/src/cli.js",
    packageRoot: "/opt/needled",
    template: readFileSync(join(ROOT, "systemd", "needled.service"), "utf8"),
    templatePath: "/opt/needled/systemd/needled.service",
    user: "needled",
    userExists: false,
    userGroupExists: false,
    missingGroups: [],
    configExists: false,
    start: true,
  };

  it("needled or node in a home directory: an empty /home with just those bound in read-only", () => {
    const unit = renderUnit(facts.template, {
      ...facts,
      node: "/home/pi/.nvm/versions/node/v20.11.1/bin/node",
      cli: "/home/pi/needled/dist/src/cli.js",
      packageRoot: "/home/pi/needled",
    });
    expect(unit).toMatch(/^ProtectHome=tmpfs$/m);
    expect(unit).toMatch(/^BindReadOnlyPaths=\/home\/pi\/needled \/home\/pi\/\.nvm\/versions\/node\/v20\.11\.1$/m);
    expect(unit).not.toMatch(/^ProtectHome=yes$/m);
    expect(renderUnit(facts.template, facts)).toMatch(/^ProtectHome=yes$/m);
  });

  it("quotes ExecStart arguments the way systemd parses them", () => {
    expect(unitArg("/opt/needled/dist/src/cli.js")).toBe("/opt/needled/dist/src/cli.js");
    expect(unitArg("/opt/my needled/50%/$HOME")).toBe('"/opt/my needled/50%%/$$HOME"');
  });

  it("an existing unit that differs is rewritten and the service restarted; a group named like the user is reused", () => {
    const steps = planInstall({ ...facts, installedUnit: "old", userGroupExists: true });
    const runs = steps.flatMap((s) => (s.kind === "run" ? [s.argv.join(" ")] : []));
    expect(runs).toContain("systemctl restart needled.service");
    expect(runs.find((r) => r.startsWith("useradd"))).toContain("--gid needled");
    expect(steps.find((s) => s.kind === "write" && s.path.endsWith(".service"))).toMatchObject({ why: expect.stringContaining("update") });
  });

  it("a template without the lines it must have is refused", () => {
    expect(() => renderUnit("[Service]\nType=notify\n", facts)).toThrow(/has no ExecStart= line/);
  });
});
