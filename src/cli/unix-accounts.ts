// Users, groups and file permissions as the kernel sees them, for checks made on behalf of another user
// (the service user): /etc/passwd and /etc/group parsed, and the owner/group/other permission rule applied.
// POSIX ACLs are not considered (Raspberry Pi OS and Debian do not put any on /dev/tty* or /dev/snd/*).
import { readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";

export interface Account {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

export interface Group {
  name: string;
  gid: number;
  members: string[];
}

/** Who a process runs as: uid and every group id it holds (primary and supplementary). */
export interface Identity {
  name: string;
  uid: number;
  gids: number[];
}

export function parsePasswd(text: string): Account[] {
  const out: Account[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (!Number.isInteger(uid) || !Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, uid, gid, home: f[5]!, shell: f[6]! });
  }
  return out;
}

export function parseGroup(text: string): Group[] {
  const out: Group[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#")) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    out.push({ name: f[0]!, gid, members: f[3]!.split(",").filter((m) => m !== "") });
  }
  return out;
}

/** The account database of a system (root "" = this one; else an image's root directory). */
export class AccountDb {
  constructor(
    readonly accounts: Account[],
    readonly groups: Group[],
  ) {}

  static read(root = ""): AccountDb {
    const read = (f: string) => {
      try {
        return readFileSync(join(root || "/", f), "utf8");
      } catch {
        return "";
      }
    };
    return new AccountDb(parsePasswd(read("etc/passwd")), parseGroup(read("etc/group")));
  }

  user(name: string): Account | undefined {
    return this.accounts.find((a) => a.name === name);
  }

  group(name: string): Group | undefined {
    return this.groups.find((g) => g.name === name);
  }

  /** The group names `user` is listed in (supplementary, from /etc/group). */
  memberOf(user: string): string[] {
    return this.groups.filter((g) => g.members.includes(user)).map((g) => g.name);
  }

  /** The identity of `user` as a service with these extra groups (systemd's SupplementaryGroups=). */
  identity(user: string, extraGroups: string[] = []): Identity | undefined {
    const a = this.user(user);
    if (!a) return undefined;
    const gids = new Set<number>([a.gid]);
    for (const g of this.groups) if (g.members.includes(user) || extraGroups.includes(g.name)) gids.add(g.gid);
    return { name: user, uid: a.uid, gids: [...gids] };
  }

  groupName(gid: number): string {
    return this.groups.find((g) => g.gid === gid)?.name ?? String(gid);
  }
}

export type Access = "r" | "w" | "x" | "rw" | "rx";

/** The classic permission rule: owner bits if uid matches, else group bits if a gid matches, else other bits. */
export function canAccess(st: { mode: number; uid: number; gid: number }, who: Identity, want: Access): boolean {
  if (who.uid === 0) return !want.includes("x") || (st.mode & 0o111) !== 0 || (st.mode & 0o170000) === 0o040000;
  const shift = st.uid === who.uid ? 6 : who.gids.includes(st.gid) ? 3 : 0;
  const bits = (st.mode >> shift) & 7;
  const need = (want.includes("r") ? 4 : 0) | (want.includes("w") ? 2 : 0) | (want.includes("x") ? 1 : 0);
  return (bits & need) === need;
}

/**
 * Can `who` reach and use `path`: search (x) on every directory from `from` down, then `want` on the path?
 * Returns undefined when yes, else the first place that stops it. `from` is "/" unless a bind mount makes
 * the path visible on its own (ProtectHome=tmpfs with BindReadOnlyPaths=).
 */
export function whyNoAccess(path: string, who: Identity, want: Access, from = "/"): string | undefined {
  const target = resolve(path);
  const dirs: string[] = [];
  for (let d = dirname(target); ; d = dirname(d)) {
    dirs.unshift(d);
    if (d === resolve(from) || d === dirname(d)) break;
  }
  for (const d of dirs) {
    let st;
    try {
      st = statSync(d);
    } catch (err) {
      return `${d}: ${(err as NodeJS.ErrnoException).code ?? err}`;
    }
    if (!canAccess(st, who, "x")) return `${d} (mode ${(st.mode & 0o777).toString(8)}) cannot be entered by ${who.name}`;
  }
  let st;
  try {
    st = statSync(target);
  } catch (err) {
    return `${target}: ${(err as NodeJS.ErrnoException).code ?? err}`;
  }
  if (!canAccess(st, who, want)) return `${target} (mode ${(st.mode & 0o777).toString(8)}) is not ${describe(want)} by ${who.name}`;
  return undefined;
}

function describe(want: Access): string {
  return { r: "readable", w: "writable", x: "executable", rw: "readable and writable", rx: "readable and executable" }[want];
}
