// What `needled install-service` / `uninstall-service` do, as a list of steps computed from facts about the
// machine (pure: the commands in service.ts gather the facts, print the steps for --dry-run, or run them).
import { isAbsolute, dirname } from "node:path";
import { NODE_FLAGS } from "./node-flags.js";

export const SERVICE = "needled.service";
export const UNIT_DIR = "/etc/systemd/system";
export const CONFIG_DIR = "/etc/needled";
export const STATE_DIR = "/var/lib/needled";
export const DEVICE_GROUPS = ["dialout", "audio"];
/** Places that ProtectHome=yes hides from the service. */
export const HOME_PREFIXES = ["/home", "/root", "/run/user"];

export type Step =
  | { kind: "run"; argv: string[]; why: string; ignoreFailure?: boolean }
  | { kind: "write"; path: string; content: string; mode: number; owner: string; group: string; why: string }
  | { kind: "remove"; path: string; recursive?: boolean; why: string }
  /** Checked when the plan runs (after the user exists); `name` says what is checked. */
  | { kind: "check"; name: string; why: string }
  | { kind: "note"; text: string };

export interface InstallFacts {
  /** The node binary and needled's cli.js as the service will see them (absolute). */
  node: string;
  cli: string;
  packageRoot: string;
  /** systemd/needled.service of this checkout, and where it was read from. */
  template: string;
  templatePath: string;
  user: string;
  userExists: boolean;
  /** A group named like the user exists (useradd --user-group would then fail). */
  userGroupExists: boolean;
  missingGroups: string[];
  /** The unit file already installed, if any. */
  installedUnit?: string;
  configExists: boolean;
  /** Image root (--root): files go under it, useradd/systemctl act on it, nothing is started. */
  root?: string;
  start: boolean;
}

export interface UninstallFacts {
  user: string;
  userExists: boolean;
  unitExists: boolean;
  dropInExists: boolean;
  purge: boolean;
  root?: string;
}

const unitPath = (root = "") => `${root}${UNIT_DIR}/${SERVICE}`;

export function planInstall(f: InstallFacts): Step[] {
  // First, before anything changes: can the service user reach node and needled at all? (A user still to be
  // created owns nothing, so it is judged as "other" plus the device groups.)
  const what = `${f.user} can run ${f.node} and read ${f.packageRoot}${f.configExists ? ` and ${CONFIG_DIR}/config.yaml` : ""}`;
  const steps: Step[] = [{ kind: "check", name: "access", why: what }];
  const prefix = f.root ? ["--prefix", f.root] : [];
  for (const g of f.missingGroups) {
    steps.push({ kind: "run", argv: ["groupadd", ...prefix, "--system", g], why: `the ${g} group does not exist` });
  }
  if (!f.userExists) {
    steps.push({
      kind: "run",
      argv: [
        "useradd",
        ...prefix,
        "--system",
        ...(f.userGroupExists ? ["--gid", f.user] : ["--user-group"]),
        "--groups",
        DEVICE_GROUPS.join(","),
        "--home-dir",
        STATE_DIR,
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        "--comment",
        "needled voice-command daemon",
        f.user,
      ],
      why: `the service runs as its own system user ${f.user}`,
    });
  } else {
    steps.push({
      kind: "run",
      argv: ["usermod", ...prefix, "--append", "--groups", DEVICE_GROUPS.join(","), f.user],
      why: `${f.user} exists; make sure it is in ${DEVICE_GROUPS.join(" and ")}`,
    });
  }

  const unit = renderUnit(f.template, f);
  if (f.installedUnit === unit) {
    steps.push({ kind: "note", text: `${unitPath(f.root)} is up to date` });
  } else {
    steps.push({
      kind: "write",
      path: unitPath(f.root),
      content: unit,
      mode: 0o644,
      owner: "root",
      group: "root",
      why: f.installedUnit === undefined ? "install the unit" : "update the unit (it differs from this checkout's)",
    });
  }
  const config = `${f.root ?? ""}${CONFIG_DIR}/config.yaml`;
  if (f.configExists) {
    steps.push({ kind: "note", text: `${config} exists and is kept as it is` });
  } else {
    steps.push({
      kind: "write",
      path: config,
      content: starterConfig(),
      mode: 0o644,
      owner: "root",
      group: "root",
      why: "a starter config (readable by everyone, so `needled say` and `needled doctor` find the daemon)",
    });
  }

  if (f.root) {
    steps.push({ kind: "run", argv: ["systemctl", `--root=${f.root}`, "enable", SERVICE], why: "start it at boot of the image" });
    return steps;
  }
  steps.push({ kind: "run", argv: ["systemctl", "daemon-reload"], why: "systemd reads the new unit" });
  if (!f.start) {
    steps.push({ kind: "run", argv: ["systemctl", "enable", SERVICE], why: "start at boot (--no-start: not now)" });
  } else if (f.installedUnit === undefined) {
    steps.push({ kind: "run", argv: ["systemctl", "enable", "--now", SERVICE], why: "start now and at boot" });
  } else {
    steps.push({ kind: "run", argv: ["systemctl", "enable", SERVICE], why: "start at boot" });
    steps.push({ kind: "run", argv: ["systemctl", "restart", SERVICE], why: "run the current version now" });
  }
  return steps;
}

export function planUninstall(f: UninstallFacts): Step[] {
  const steps: Step[] = [];
  const root = f.root ?? "";
  const prefix = f.root ? ["--prefix", f.root] : [];
  if (f.unitExists) {
    steps.push(
      f.root
        ? { kind: "run", argv: ["systemctl", `--root=${f.root}`, "disable", SERVICE], why: "no start at boot", ignoreFailure: true }
        : { kind: "run", argv: ["systemctl", "disable", "--now", SERVICE], why: "stop it and no start at boot", ignoreFailure: true },
    );
    steps.push({ kind: "remove", path: unitPath(f.root), why: "remove the unit" });
  } else {
    steps.push({ kind: "note", text: `${unitPath(f.root)} is not installed` });
  }
  if (f.purge && f.dropInExists) {
    steps.push({ kind: "remove", path: `${unitPath(f.root)}.d`, recursive: true, why: "remove local overrides (systemctl edit)" });
  }
  if (!f.root && f.unitExists) {
    steps.push({ kind: "run", argv: ["systemctl", "daemon-reload"], why: "systemd forgets the unit" });
    steps.push({ kind: "run", argv: ["systemctl", "reset-failed", SERVICE], why: "clear a failed state", ignoreFailure: true });
  }
  if (f.purge) {
    steps.push({ kind: "remove", path: `${root}${STATE_DIR}`, recursive: true, why: "--purge: state (timers, alarms, plugin stores)" });
    steps.push({ kind: "remove", path: `${root}${CONFIG_DIR}`, recursive: true, why: "--purge: config" });
    if (f.userExists) {
      steps.push({ kind: "run", argv: ["userdel", ...prefix, f.user], why: `--purge: the ${f.user} user` });
      steps.push({ kind: "run", argv: ["groupdel", ...prefix, f.user], why: `--purge: the ${f.user} group (if userdel left it)`, ignoreFailure: true });
    }
  } else {
    steps.push({
      kind: "note",
      text: `kept: ${root}${CONFIG_DIR} (config), ${root}${STATE_DIR} (state)${f.userExists ? `, user ${f.user}` : ""}; --purge removes them`,
    });
  }
  return steps;
}

/** The installed unit: the template with this machine's node, needled checkout and user filled in. */
export function renderUnit(template: string, f: Pick<InstallFacts, "node" | "cli" | "packageRoot" | "user" | "templatePath">): string {
  for (const p of [f.node, f.cli, f.packageRoot]) {
    if (!isAbsolute(p)) throw new Error(`not an absolute path: ${p}`);
  }
  const lines = template.split("\n");
  // The template's own leading comment explains the template; the installed copy says where it came from.
  let body = 0;
  while (body < lines.length && (lines[body]!.startsWith("#") || lines[body]!.trim() === "")) body++;
  const out = [
    `# Installed by \`needled install-service\` from ${f.templatePath}.`,
    `# Run it again after moving needled or node; local changes belong in \`systemctl edit needled\`.`,
  ];
  const hidden = [f.packageRoot, nodePrefix(f.node)].filter((p) => HOME_PREFIXES.some((h) => p === h || p.startsWith(`${h}/`)));
  const seen = new Set<string>();
  for (const line of lines.slice(body)) {
    const key = /^([A-Za-z]+)=/.exec(line)?.[1];
    if (key) seen.add(key);
    if (key === "ExecStart") {
      out.push(`ExecStart=${[f.node, ...NODE_FLAGS, f.cli].map(unitArg).join(" ")} start --config %E/needled/config.yaml`);
    } else if (key === "Documentation") {
      out.push(`Documentation=${encodeURI(`file://${f.packageRoot}/README.md`)}`);
    } else if (key === "User") {
      out.push(`User=${f.user}`);
    } else if (key === "Group") {
      out.push(`Group=${f.user}`);
    } else if (key === "ProtectHome" && hidden.length > 0) {
      // needled (or node) lives in a home directory: an empty /home with just those directories bound in.
      for (const p of hidden) if (/\s/.test(p)) throw new Error(`cannot bind a path with white space into the service: ${p}`);
      out.push("ProtectHome=tmpfs", `BindReadOnlyPaths=${[...new Set(hidden)].join(" ")}`);
    } else {
      out.push(line);
    }
  }
  for (const required of ["ExecStart", "User", "Type", "WatchdogSec"]) {
    if (!seen.has(required)) throw new Error(`${f.templatePath} has no ${required}= line`);
  }
  return out.join("\n");
}

/** The directory a node installation lives in (…/bin/node -> …), which is what must be visible. */
export function nodePrefix(node: string): string {
  const bin = dirname(node);
  return bin.endsWith("/bin") ? dirname(bin) : bin;
}

/** One ExecStart= argument: systemd expands % and $, and splits on white space unless quoted. */
export function unitArg(arg: string): string {
  const escaped = arg.replace(/\\/g, "\\\\").replace(/%/g, "%%").replace(/\$/g, "$$$$");
  return /[\s"']/.test(arg) ? `"${escaped.replace(/"/g, '\\"')}"` : escaped;
}

export function starterConfig(): string {
  return [
    "# needled config (all keys: README \"Config\"). The service reads it at start:",
    "#   sudo systemctl restart needled      after a change",
    "#   needled doctor --config /etc/needled/config.yaml   to check it",
    "# State (timers, alarms, plugin stores) lives in /var/lib/needled.",
    "# Anyone on this machine can read this file: if http.token is set and should stay secret from local",
    "# users, run: sudo chgrp needled /etc/needled/config.yaml && sudo chmod 640 /etc/needled/config.yaml",
    "http:",
    "  host: 127.0.0.1       # a non-loopback host needs http.token (16+ characters)",
    "  port: 8750",
    "mqtt:",
    "  url: null             # e.g. mqtt://127.0.0.1:1883 for a local mosquitto; null: the embedded broker",
    "  broker: {host: 127.0.0.1, port: 1883}",
    "log:",
    "  level: info",
    "",
  ].join("\n");
}

/** A step as one line for --dry-run (files: their content follows between markers). */
export function describeStep(s: Step): string {
  switch (s.kind) {
    case "run":
      return `run     ${s.argv.map(shellQuote).join(" ")}${s.ignoreFailure ? "   (a failure is ignored)" : ""}   # ${s.why}`;
    case "write":
      return `write   ${s.path} (mode ${s.mode.toString(8).padStart(4, "0")}, ${s.owner}:${s.group})   # ${s.why}\n----- ${s.path} -----\n${s.content.replace(/\n$/, "")}\n----- end -----`;
    case "remove":
      return `remove  ${s.path}${s.recursive ? " (and everything in it)" : ""}   # ${s.why}`;
    case "check":
      return `check   ${s.why}`;
    case "note":
      return `note    ${s.text}`;
  }
}

export function shellQuote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
