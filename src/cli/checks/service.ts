// Doctor checks for needled as a service: the systemd unit (installed? running? this checkout?), its user
// and groups, and the devices that user needs (serial ports for wearables, ALSA capture for voice).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../daemon/paths.js";
import type { CheckResult, DoctorCheck } from "../doctor.js";
import { DEVICE_GROUPS, SERVICE, UNIT_DIR } from "../service-plan.js";
import { AccountDb, canAccess, type Identity } from "../unix-accounts.js";

export const checks: DoctorCheck[] = [
  { name: "service", run: () => checkService() },
  { name: "service user", run: () => checkServiceUser() },
  { name: "serial access", run: ({ config }) => checkSerialPorts(configuredDevicePaths(config.raw), serviceIdentity()) },
  { name: "audio access", run: () => checkAudioInput("/dev/snd", serviceIdentity()) },
];

const unitFile = (root = "") => `${root}${UNIT_DIR}/${SERVICE}`;

/** `systemctl show` output (Key=Value lines) -> a map. */
export function parseShow(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const i = line.indexOf("=");
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** What `systemctl show needled.service` says, as a doctor result (pure). */
export function judgeService(p: Record<string, string>, cliPath: string): CheckResult {
  if (p.LoadState === "not-found" || p.LoadState === undefined) {
    return { status: "warn", detail: "not installed as a service; to run at boot: sudo needled install-service" };
  }
  if (p.LoadState !== "loaded") {
    return { status: "fail", detail: `the unit does not load (${p.LoadState}${p.LoadError ? `: ${p.LoadError}` : ""}); run sudo needled install-service again` };
  }
  const enabled = p.UnitFileState === "enabled" ? "enabled" : `not enabled at boot (${p.UnitFileState ?? "?"}; sudo systemctl enable needled)`;
  const status = p.StatusText ? `; "${p.StatusText}"` : "";
  const restarts = Number(p.NRestarts ?? 0) > 0 ? `; restarted ${p.NRestarts} time(s) (journalctl -u needled)` : "";
  const elsewhere = p.ExecStart && !p.ExecStart.includes(cliPath) ? `; it runs another needled than ${cliPath} (install-service from here to switch)` : "";
  const state = `${p.ActiveState} (${p.SubState})`;
  switch (p.ActiveState) {
    case "active": {
      const warn = p.UnitFileState !== "enabled" || elsewhere !== "" || p.StatusText?.startsWith("degraded");
      return { status: warn ? "warn" : "ok", detail: `${state}, ${enabled}${status}${restarts}${elsewhere}` };
    }
    case "failed":
      return {
        status: "fail",
        detail: `${state}: result ${p.Result ?? "?"}${status}; see journalctl -u needled -e, then sudo systemctl restart needled`,
      };
    case "activating":
    case "reloading":
      return { status: "warn", detail: `${state}${status}${restarts}` };
    default:
      return { status: "warn", detail: `${state}, ${enabled}; start it with: sudo systemctl start needled${elsewhere}` };
  }
}

export function checkService(): CheckResult {
  const cli = join(packageRoot(), "dist", "src", "cli.js");
  if (!existsSync("/run/systemd/system")) {
    return existsSync(unitFile())
      ? { status: "warn", detail: `${unitFile()} is installed but systemd is not running here` }
      : { status: "skip", detail: "systemd is not running here (run the daemon with: needled start)" };
  }
  const r = spawnSync(
    "systemctl",
    ["show", SERVICE, "-p", "LoadState,LoadError,ActiveState,SubState,Result,UnitFileState,StatusText,NRestarts,ExecStart"],
    { encoding: "utf8", timeout: 5000 },
  );
  if (r.error || r.status !== 0) return { status: "warn", detail: `systemctl show failed: ${r.error?.message ?? r.stderr.trim()}` };
  let real = cli;
  try {
    real = realpathSync(cli);
  } catch {
    /* not built: compare the path as it is */
  }
  return judgeService(parseShow(r.stdout), real);
}

/** User= of an installed unit (default needled), or undefined when no unit is installed. */
export function unitUser(root = ""): string | undefined {
  let text: string;
  try {
    text = readFileSync(unitFile(root), "utf8");
  } catch {
    return undefined;
  }
  return /^User=(\S+)\s*$/m.exec(text)?.[1] ?? "root";
}

export function checkServiceUser(root = ""): CheckResult {
  const user = unitUser(root);
  if (user === undefined) return { status: "skip", detail: "no service installed" };
  const db = AccountDb.read(root);
  const a = db.user(user);
  if (!a) return { status: "fail", detail: `the unit runs as ${user}, which does not exist; run sudo needled install-service again` };
  const groups = db.memberOf(user);
  const missing = DEVICE_GROUPS.filter((g) => !groups.includes(g));
  const summary = `${user} (uid ${a.uid}), groups ${[db.groupName(a.gid), ...groups].join(", ")}`;
  if (missing.length > 0) {
    // The unit's SupplementaryGroups= still grants them to the service; tools run as the user would lack them.
    return { status: "warn", detail: `${summary}; not listed in ${missing.join(", ")} (sudo usermod -aG ${missing.join(",")} ${user})` };
  }
  return { status: "ok", detail: summary };
}

/** Who the devices must be usable by: the service user (with the unit's extra groups) when installed, else us. */
export function serviceIdentity(root = ""): Identity {
  const user = unitUser(root);
  if (user !== undefined) {
    const id = AccountDb.read(root).identity(user, DEVICE_GROUPS);
    if (id) return id;
  }
  const uid = process.getuid?.() ?? -1;
  const gids = [...new Set([...(process.getgroups?.() ?? []), process.getegid?.() ?? -1])];
  return { name: AccountDb.read(root).accounts.find((x) => x.uid === uid)?.name ?? `uid ${uid}`, uid, gids };
}

/**
 * Serial ports named anywhere in the config (a serial section, a plugin's port ...): /dev/tty*,
 * /dev/serial/*, /dev/rfcomm* (present or not), and any other absolute path that leads to a terminal
 * device (a udev or socat symlink).
 */
export function configuredDevicePaths(raw: unknown): string[] {
  const out = new Set<string>();
  const isTty = (p: string) => /^\/dev\/(tty|serial\/|rfcomm|pts\/\d)/.test(p);
  const walk = (v: unknown, depth: number) => {
    if (depth > 8) return;
    if (typeof v === "string") {
      if (isTty(v)) out.add(v);
      else if (v.startsWith("/") && !v.startsWith("/dev/") && existsSync(v)) {
        try {
          if (isTty(realpathSync(v)) && statSync(v).isCharacterDevice()) out.add(v);
        } catch {
          /* not a device */
        }
      }
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
    } else if (v && typeof v === "object") {
      for (const x of Object.values(v)) walk(x, depth + 1);
    }
  };
  walk(raw, 0);
  return [...out];
}

/** Serial devices present on this machine that wearables typically use. */
export function presentSerialPorts(dev = "/dev"): string[] {
  let names: string[];
  try {
    names = readdirSync(dev);
  } catch {
    return [];
  }
  return names
    .filter((n) => /^(ttyUSB|ttyACM|ttyAMA|rfcomm)\d+$/.test(n) || n === "serial0" || n === "serial1")
    .sort()
    .map((n) => join(dev, n));
}

export function checkSerialPorts(configured: string[], who: Identity, present: string[] = presentSerialPorts()): CheckResult {
  const ports = [...new Set([...configured, ...present])];
  if (ports.length === 0) return { status: "skip", detail: "no serial ports configured or found (wearables over MQTT need none)" };
  const good: string[] = [];
  const bad: string[] = [];
  let failed = false;
  for (const p of ports) {
    const isConfigured = configured.includes(p);
    let st;
    let real = p;
    try {
      real = realpathSync(p);
      st = statSync(real);
    } catch (err) {
      bad.push(`${p}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "missing (unplugged?)" : (err as Error).message}`);
      if (isConfigured) failed = true;
      continue;
    }
    const label = real === p ? p : `${p} -> ${real}`;
    if (!st.isCharacterDevice()) {
      bad.push(`${label}: not a character device`);
      if (isConfigured) failed = true;
    } else if (canAccess(st, who, "rw")) {
      good.push(label);
    } else {
      bad.push(`${label} (mode ${(st.mode & 0o777).toString(8)}, group ${AccountDb.read().groupName(st.gid)}) is not read/writable by ${who.name}`);
      if (isConfigured) failed = true;
    }
  }
  if (bad.length === 0) return { status: "ok", detail: `usable by ${who.name}: ${good.join(", ")}` };
  const hint = bad.some((b) => b.includes("not read/writable")) ? `; the service user needs the port's group (usually dialout)` : "";
  return {
    status: failed ? "fail" : "warn",
    detail: `${bad.join("; ")}${good.length > 0 ? `; usable: ${good.join(", ")}` : ""}${hint}`,
  };
}

export function checkAudioInput(snd: string, who: Identity): CheckResult {
  let names: string[];
  try {
    names = readdirSync(snd);
  } catch {
    return { status: "skip", detail: `no sound devices (${snd} is missing): speech input needs a microphone or a wearable's audio stream` };
  }
  const capture = names.filter((n) => /^pcmC\d+D\d+c$/.test(n)).sort();
  if (capture.length === 0) {
    return { status: "skip", detail: "no ALSA capture device (microphone) found: speech works only from a wearable's audio stream" };
  }
  const denied = capture.filter((n) => {
    try {
      return !canAccess(statSync(join(snd, n)), who, "rw");
    } catch {
      return true;
    }
  });
  const cards = [...new Set(capture.map((n) => /^pcmC(\d+)/.exec(n)![1]))].map((c) => `card ${c}`);
  if (denied.length > 0) {
    return { status: "warn", detail: `${denied.join(", ")} not usable by ${who.name} (needs the audio group)` };
  }
  return { status: "ok", detail: `microphone input usable by ${who.name}: ${cards.join(", ")} (${capture.join(", ")})` };
}
