// needled install-service / uninstall-service: run needled as a systemd service under its own user.
// Facts about the machine are gathered here, the steps come from service-plan.ts; --dry-run prints them.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../daemon/atomic.js";
import { packageRoot } from "../daemon/paths.js";
import { EXIT, UsageError, parse, type Io } from "./common.js";
import {
  CONFIG_DIR,
  DEVICE_GROUPS,
  HOME_PREFIXES,
  SERVICE,
  UNIT_DIR,
  describeStep,
  nodePrefix,
  planInstall,
  planUninstall,
  shellQuote,
  type InstallFacts,
  type Step,
} from "./service-plan.js";
import { AccountDb, whyNoAccess, type Identity } from "./unix-accounts.js";

export const installUsage = [
  "needled install-service [--dry-run] [--user NAME] [--no-start] [--node PATH] [--root DIR]",
  "  creates the system user (in dialout and audio), installs /etc/systemd/system/needled.service for this",
  "  checkout and node, writes /etc/needled/config.yaml if there is none, then enables and starts it.",
  "  --dry-run   print what it would do, change nothing (no root needed)",
  "  --no-start  enable at boot but do not start now",
  "  --node PATH the node binary the service runs (default: the one running this command)",
  "  --root DIR  act on a system image mounted at DIR (files under DIR, nothing started)",
].join("\n");

export const uninstallUsage = [
  "needled uninstall-service [--dry-run] [--purge] [--user NAME] [--root DIR]",
  "  stops and disables the service and removes its unit; config, state and the user stay unless --purge.",
].join("\n");

/** For `needled install-service --help` (the command table reads `usage`). */
export const usage = installUsage;

class ServiceError extends Error {
  override name = "ServiceError";
}

interface Common {
  dryRun: boolean;
  user: string;
  root: string | undefined;
}

function common(values: { "dry-run"?: boolean; user?: string; root?: string }): Common {
  const user = values.user ?? "needled";
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(user)) throw new UsageError(`--user: "${user}" is not a valid system user name`);
  let root: string | undefined;
  if (values.root !== undefined) {
    root = resolve(values.root);
    if (root === "/") root = undefined;
    else if (!existsSync(join(root, "etc"))) throw new UsageError(`--root ${root}: no etc/ there; expected the root of a system image`);
  }
  return { dryRun: values["dry-run"] === true, user, root };
}

/** Reasons a real run cannot go ahead here (a dry run only reports them). */
function blockers(c: Common, needs: string[]): string[] {
  const out: string[] = [];
  if (process.platform !== "linux") out.push(`this is ${process.platform}; the service needs Linux with systemd`);
  if (process.getuid?.() !== 0) {
    const self = `${process.execPath} ${join(packageRoot(), "dist", "src", "cli.js")}`;
    out.push(`must run as root (it creates a system user and writes to /etc): sudo ${self} ${process.argv.slice(2).join(" ")}`.trimEnd());
  }
  if (!c.root && !existsSync("/run/systemd/system")) {
    out.push("systemd is not running on this machine (no /run/systemd/system); use Raspberry Pi OS or Debian, or --root for an image");
  }
  for (const cmd of needs) if (!which(cmd)) out.push(`${cmd} is not installed (it comes with ${cmd.startsWith("system") ? "systemd" : "the passwd package"})`);
  return out;
}

export async function runInstall(argv: string[], io: Io): Promise<number> {
  return reportErrors("install-service", io, () => install(argv, io));
}

export async function runUninstall(argv: string[], io: Io): Promise<number> {
  return reportErrors("uninstall-service", io, () => uninstall(argv, io));
}

/** A ServiceError is the expected kind of failure: its message, exit 1 (no stack trace). */
async function reportErrors(command: string, io: Io, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof ServiceError)) throw err;
    io.err(`needled ${command}: ${err.message}`);
    return EXIT.FAILED;
  }
}

async function install(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    "dry-run": { type: "boolean" },
    user: { type: "string" },
    "no-start": { type: "boolean" },
    node: { type: "string" },
    root: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`install-service takes no arguments (got "${positionals[0]}")\nusage: ${installUsage}`);
  const c = common(values);
  const root = c.root ?? "";

  const pkg = realpathSync(packageRoot());
  const cli = join(pkg, "dist", "src", "cli.js");
  if (!existsSync(cli)) throw new ServiceError(`${cli} is missing: build needled first (npm ci && npm run build in ${pkg})`);
  const templatePath = join(pkg, "systemd", "needled.service");
  let template: string;
  try {
    template = readFileSync(templatePath, "utf8");
  } catch (err) {
    throw new ServiceError(`cannot read the unit template ${templatePath}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const node = values.node !== undefined ? resolve(values.node) : realpathSync(process.execPath);
  const asSeen = (p: string) => (c.root && p.startsWith(`${c.root}/`) ? p.slice(c.root.length) : p);

  const db = AccountDb.read(root);
  const unitFile = `${root}${UNIT_DIR}/${SERVICE}`;
  const facts: InstallFacts = {
    node: asSeen(node),
    cli: asSeen(cli),
    packageRoot: asSeen(pkg),
    template,
    templatePath,
    user: c.user,
    userExists: db.user(c.user) !== undefined,
    userGroupExists: db.group(c.user) !== undefined,
    missingGroups: DEVICE_GROUPS.filter((g) => !db.group(g)),
    ...(existsSync(unitFile) ? { installedUnit: readFileSync(unitFile, "utf8") } : {}),
    configExists: existsSync(`${root}${CONFIG_DIR}/config.yaml`),
    ...(c.root ? { root: c.root } : {}),
    start: values["no-start"] !== true,
  };
  const steps = planInstall(facts);

  const notes: string[] = [];
  if (!c.root && values.node === undefined) {
    const major = Number(process.versions.node.split(".")[0]);
    if (major < 20) notes.push(`node ${process.versions.node} is too old: needled needs Node 20 or later`);
  }
  if (/\/\.(nvm|volta|fnm|asdf|local\/share\/fnm)\//.test(facts.node)) {
    notes.push(`${facts.node} belongs to a version manager: the service breaks when that version is removed (README: install Node 20 system-wide)`);
  }
  const accessCheck = (): string | undefined => {
    const now = AccountDb.read(root);
    // A user that does not exist yet is judged as "other" plus the device groups.
    const who: Identity = now.identity(c.user, DEVICE_GROUPS) ?? {
      name: c.user,
      uid: -1,
      gids: DEVICE_GROUPS.map((g) => now.group(g)?.gid ?? -1),
    };
    const from = (p: string) => HOME_PREFIXES.find((h) => p.startsWith(`${h}/`)) ? p : "/";
    const config = `${root}${CONFIG_DIR}/config.yaml`;
    return (
      whyNoAccess(`${root}${facts.node}`, who, "rx", `${root}${from(nodePrefix(facts.node))}`) ??
      whyNoAccess(`${root}${facts.cli}`, who, "r", `${root}${from(facts.packageRoot)}`) ??
      (facts.configExists ? whyNoAccess(config, who, "r") : undefined)
    );
  };

  if (c.dryRun) {
    io.out(`needled install-service --dry-run: nothing is changed. A real run would do this:`);
    io.out(`  node     ${facts.node}${values.node === undefined && !c.root ? ` (v${process.versions.node})` : ""}`);
    io.out(`  needled  ${facts.packageRoot}`);
    io.out(`  user     ${c.user} (${facts.userExists ? "exists" : "to be created"})`);
    if (c.root) io.out(`  image    ${c.root}`);
    const problems = printPlan(steps, io, { access: accessCheck });
    for (const n of notes) io.out(`note    ${n}`);
    for (const b of blockers(c, ["useradd", "usermod", "systemctl"])) io.out(`note    a real run here would stop: ${b}`);
    return problems > 0 ? EXIT.FAILED : EXIT.OK;
  }

  const stop = blockers(c, ["useradd", "usermod", "groupadd", "systemctl"]);
  if (stop.length > 0) throw new ServiceError(stop.join("\n"));
  for (const n of notes) io.err(`needled install-service: ${n}`);
  await execute(steps, io, { access: accessCheck }, root);
  if (c.root) {
    io.out(`needled is installed in the image at ${c.root} and enabled; it starts on that system's next boot.`);
  } else if (facts.start) {
    io.out("needled is running as a service.");
    io.out("  status:  systemctl status needled      logs: journalctl -u needled -f");
    io.out(`  config:  ${CONFIG_DIR}/config.yaml (then: sudo systemctl restart needled)`);
    io.out("  check:   needled doctor");
  } else {
    io.out("needled is installed and enabled; start it with: sudo systemctl start needled");
  }
  return EXIT.OK;
}

async function uninstall(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    "dry-run": { type: "boolean" },
    purge: { type: "boolean" },
    user: { type: "string" },
    root: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`uninstall-service takes no arguments (got "${positionals[0]}")\nusage: ${uninstallUsage}`);
  const c = common(values);
  const root = c.root ?? "";
  const unitFile = `${root}${UNIT_DIR}/${SERVICE}`;
  const steps = planUninstall({
    user: c.user,
    userExists: AccountDb.read(root).user(c.user) !== undefined,
    unitExists: existsSync(unitFile),
    dropInExists: existsSync(`${unitFile}.d`),
    purge: values.purge === true,
    ...(c.root ? { root: c.root } : {}),
  });
  if (c.dryRun) {
    io.out(`needled uninstall-service --dry-run: nothing is changed. A real run would do this:`);
    printPlan(steps, io, {});
    for (const b of blockers(c, ["systemctl"])) io.out(`note    a real run here would stop: ${b}`);
    return EXIT.OK;
  }
  const stop = blockers(c, values.purge ? ["systemctl", "userdel"] : ["systemctl"]);
  if (stop.length > 0) throw new ServiceError(stop.join("\n"));
  await execute(steps, io, {}, root);
  io.out(values.purge ? "needled's service, config, state and user are removed." : "needled's service is removed.");
  return EXIT.OK;
}

type Checks = Record<string, () => string | undefined>;

/** Prints the steps; returns how many checks found a problem. */
function printPlan(steps: Step[], io: Io, checks: Checks): number {
  let problems = 0;
  for (const s of steps) {
    io.out(describeStep(s));
    if (s.kind === "check") {
      const why = checks[s.name]?.();
      if (why) {
        problems++;
        io.out(`        PROBLEM: ${why}\n        ${accessHint()}`);
      } else {
        io.out("        ok (as things are now)");
      }
    }
  }
  return problems;
}

function accessHint(): string {
  return "Install needled where its user can read it, e.g. /opt/needled (README \"Install on a Raspberry Pi\"), node system-wide, and keep /etc/needled/config.yaml readable by the service user.";
}

async function execute(steps: Step[], io: Io, checks: Checks, root: string): Promise<void> {
  for (const s of steps) {
    switch (s.kind) {
      case "note":
        io.out(s.text);
        break;
      case "check": {
        const why = checks[s.name]?.();
        if (why) throw new ServiceError(`${s.why}: no: ${why}\n${accessHint()}`);
        break;
      }
      case "run": {
        io.out(`$ ${s.argv.map(shellQuote).join(" ")}`);
        const r = spawnSync(s.argv[0]!, s.argv.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        const output = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
        if (r.error || r.status !== 0) {
          const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
          if (s.ignoreFailure) {
            io.out(`  (${why}; ignored)`);
            break;
          }
          const hint = s.argv.includes("--now") || s.argv[1] === "restart"
            ? "\nneedled did not start; see: systemctl status needled; journalctl -u needled -e"
            : "";
          throw new ServiceError(`${s.argv.join(" ")} failed (${why})${output ? `:\n${output}` : ""}${hint}`);
        }
        if (output) io.out(output.replace(/^/gm, "  "));
        break;
      }
      case "write": {
        io.out(`writing ${s.path}`);
        await writeFileAtomic(s.path, s.content);
        const db = AccountDb.read(root);
        const uid = db.user(s.owner)?.uid;
        const gid = db.group(s.group)?.gid;
        if (uid === undefined || gid === undefined) throw new ServiceError(`${s.path}: no such owner ${s.owner}:${s.group}`);
        chownSync(s.path, uid, gid);
        chmodSync(s.path, s.mode);
        break;
      }
      case "remove":
        io.out(`removing ${s.path}`);
        rmSync(s.path, { recursive: s.recursive === true, force: true });
        break;
    }
  }
}

function which(cmd: string): boolean {
  const dirs = (process.env.PATH ?? "").split(":").concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
  return dirs.some((d) => d !== "" && existsSync(join(d, cmd)));
}

export { ServiceError };
