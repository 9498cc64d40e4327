// Wearable profiles (devices/profiles/*.json, validated against devices/profile.schema.json), shared by the
// serial channel and MQTT satellites: screen fitting, haptic patterns, audio format, transport defaults.
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { Ajv, type ErrorObject } from "ajv";
import { packageRoot } from "../daemon/paths.js";
import { ConfigError } from "../daemon/config.js";

export interface Profile {
  name: string;
  description?: string;
  screen: null | { width_px?: number; height_px?: number; lines: number; columns: number; ellipsis?: string; full_text?: boolean };
  haptics: null | {
    intensity?: number;
    patterns: Record<string, Array<[number, number]>>;
    default?: string;
    on_reply?: { ok?: string; error?: string; confirm?: string };
  };
  audio: { microphone: boolean; speaker?: boolean; sample_rate?: 16000; format?: "s16le"; channels?: 1; chunk_ms?: number };
  buttons?: { push_to_talk?: number | null };
  transport: {
    preferred: "serial" | "mqtt";
    serial?: { baud_rate?: number };
    mqtt?: { qos?: 0 | 1; keepalive_s?: number };
  };
}

export const BUILTIN_PROFILE_DIR = (): string => join(packageRoot(), "devices", "profiles");
export const PROFILE_SCHEMA_FILE = (): string => join(packageRoot(), "devices", "profile.schema.json");
export const DEFAULT_BAUD_RATE = 115200;

let validator: ReturnType<Ajv["compile"]> | undefined;
function validate(): ReturnType<Ajv["compile"]> {
  if (!validator) {
    const schema = JSON.parse(readFileSync(PROFILE_SCHEMA_FILE(), "utf8")) as Record<string, unknown>;
    validator = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true }).compile(schema);
  }
  return validator;
}

/** Checks one profile object; returns the problems (empty when fine). */
export function checkProfile(value: unknown): string[] {
  const v = validate();
  const problems: string[] = [];
  if (!v(value)) problems.push(...(v.errors ?? []).map(describe));
  if (problems.length > 0) return problems;
  const p = value as Profile;
  const names = new Set(Object.keys(p.haptics?.patterns ?? {}));
  for (const [where, name] of [
    ["haptics.default", p.haptics?.default],
    ["haptics.on_reply.ok", p.haptics?.on_reply?.ok],
    ["haptics.on_reply.error", p.haptics?.on_reply?.error],
    ["haptics.on_reply.confirm", p.haptics?.on_reply?.confirm],
  ] as const) {
    if (name !== undefined && !names.has(name)) problems.push(`${where}: no pattern called "${name}"`);
  }
  return problems;
}

function describe(e: ErrorObject): string {
  const at = e.instancePath.replace(/^\//, "").replace(/\//g, ".") || "(top level)";
  if (e.keyword === "additionalProperties") return `${at}: unknown key "${String(e.params.additionalProperty)}"`;
  return `${at}: ${e.message ?? "is invalid"}`;
}

export class ProfileSet {
  constructor(
    private readonly byName: Map<string, Profile>,
    readonly defaultName: string,
  ) {
    if (!byName.has(defaultName)) {
      throw new ConfigError([`devices.default_profile: no profile called "${defaultName}" (known: ${[...byName.keys()].join(", ")})`]);
    }
  }

  get(name: string): Profile | undefined {
    return this.byName.get(name);
  }

  get default(): Profile {
    return this.byName.get(this.defaultName)!;
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }
}

/**
 * The built-in profiles plus those in `dirs` (a later one with the same name replaces an earlier one).
 * A bad file is a ConfigError naming the file and the key.
 */
export function loadProfiles(dirs: string[] = [], defaultName = "watch"): ProfileSet {
  const byName = new Map<string, Profile>();
  const problems: string[] = [];
  for (const dir of [BUILTIN_PROFILE_DIR(), ...dirs]) {
    let files: string[];
    try {
      files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
    } catch (err) {
      problems.push(`devices.profile_dirs: cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? err})`);
      continue;
    }
    for (const f of files) {
      const file = join(dir, f);
      let value: unknown;
      try {
        value = JSON.parse(readFileSync(file, "utf8"));
      } catch (err) {
        problems.push(`${file}: ${(err as Error).message}`);
        continue;
      }
      const bad = checkProfile(value);
      const name = (value as { name?: unknown })?.name;
      if (bad.length === 0 && name !== basename(f, ".json")) bad.push(`name: "${String(name)}" must match the file name`);
      if (bad.length > 0) {
        problems.push(...bad.map((b) => `${file}: ${b}`));
        continue;
      }
      byName.set(name as string, value as Profile);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return new ProfileSet(byName, defaultName);
}

/** The serial speed a port uses when the config names none: its profile's, else 115200. */
export function baudRateFor(profile: Profile | undefined): number {
  return profile?.transport.serial?.baud_rate ?? DEFAULT_BAUD_RATE;
}
