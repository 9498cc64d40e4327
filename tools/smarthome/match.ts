// Resolving a spoken target ("kitchen lights", "the bedroom", "front dor") to devices. Pure.
import { distance } from "fastest-levenshtein";
import type { Device, DeviceType } from "./devices.js";

const STOP = new Set(["the", "a", "an", "my", "our", "all", "of", "in", "on", "at", "please", "both", "every", "each", "to", "up", "in", "here", "there", "and", "scene", "mode"]);

/** Words that name a kind of device; the first is the kind's own name. */
const TYPE_WORDS: Record<DeviceType, string[]> = {
  light: ["light", "lamp", "bulb", "lighting", "led", "spot", "spotlight", "strip"],
  switch: ["switch", "plug", "socket", "outlet", "power"],
  lock: ["lock", "door", "deadbolt"],
  cover: ["cover", "blind", "curtain", "shade", "shutter", "garage", "gate", "door", "awning", "window"],
  climate: ["thermostat", "heating", "heater", "radiator", "temperature", "climate", "ac", "aircon", "hvac"],
  fan: ["fan", "ventilator", "ventilation"],
  scene: ["scene"],
};

/** Singular form for matching only (both sides get the same treatment). */
export function singular(w: string): string {
  if (w.length <= 3) return w;
  if (w.endsWith("ies")) return `${w.slice(0, -3)}y`;
  if (/(ches|shes|sses|xes)$/.test(w)) return w.slice(0, -2);
  if (w.endsWith("s") && !w.endsWith("ss") && !w.endsWith("us")) return w.slice(0, -1);
  return w;
}

export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/['’]s\b/g, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .split(" ")
    .filter((w) => w && !STOP.has(w))
    .map(singular);
}

export interface Resolution {
  devices: Device[];
  /** True when the target named only a room/area ("bedroom"). */
  areaOnly: boolean;
  /** Devices the words matched before the kind filter (to explain "X isn't a lock"). */
  anyKind: Device[];
}

function typoOk(a: string, b: string): boolean {
  if (a === b) return true;
  const short = Math.min(a.length, b.length);
  const long = Math.max(a.length, b.length);
  const allowed = short >= 8 ? 2 : short >= 3 && long >= 4 ? 1 : 0;
  return allowed > 0 && distance(a, b) <= allowed;
}

/** The cost of the device matching every target word (undefined when one word does not match). */
function cost(device: Device, target: string[]): { cost: number; areaOnly: boolean } | undefined {
  const own = new Set([...words(device.name), ...(device.deviceClass ? [singular(device.deviceClass)] : [])]);
  const area = new Set(device.area ? words(device.area) : []);
  const typeWords = TYPE_WORDS[device.type];
  let total = 0;
  let areaOnly = true;
  for (const w of target) {
    if (own.has(w)) {
      total += 0;
      if (!area.has(w)) areaOnly = false;
    } else if (area.has(w)) {
      total += 0;
    } else if (w === typeWords[0] || (device.type === "lock" && w === "door")) {
      areaOnly = false;
    } else if (typeWords.includes(w)) {
      total += 0.3;
      areaOnly = false;
    } else if ([...own].some((o) => typoOk(w, o))) {
      total += 1;
      areaOnly = false;
    } else if ([...area].some((o) => typoOk(w, o))) {
      total += 1;
    } else {
      return undefined;
    }
  }
  return { cost: total, areaOnly };
}

/**
 * Finds the devices a target names, among those of `kinds`. A full device name wins; otherwise every device
 * that all target words match (by name, area, kind word, or one small typo) at the lowest cost. A target
 * that names only a room picks the room's devices of `roomKinds` (lights and switches for turn_on/off).
 */
export function resolveTarget(target: string, devices: Device[], kinds: DeviceType[], roomKinds: DeviceType[] = kinds): Resolution {
  const t = words(target);
  const exactName = target.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
  const full = devices.filter((d) => words(d.name).join(" ") === t.join(" ") || d.name.toLowerCase() === exactName);
  if (t.length === 0) {
    const all = devices.filter((d) => kinds.includes(d.type));
    return { devices: all, areaOnly: false, anyKind: all };
  }
  if (full.length > 0) {
    return { devices: full.filter((d) => kinds.includes(d.type)), areaOnly: false, anyKind: full };
  }
  const scored = devices
    .map((d) => ({ d, m: cost(d, t) }))
    .filter((x): x is { d: Device; m: { cost: number; areaOnly: boolean } } => x.m !== undefined);
  const anyKind = scored.map((x) => x.d);
  const wanted = scored.filter((x) => kinds.includes(x.d.type));
  if (wanted.length === 0) return { devices: [], areaOnly: false, anyKind };
  const areaOnly = wanted.every((x) => x.m.areaOnly);
  const pool = areaOnly ? wanted.filter((x) => roomKinds.includes(x.d.type)) : wanted;
  if (pool.length === 0) return { devices: [], areaOnly, anyKind };
  const best = Math.min(...pool.map((x) => x.m.cost));
  return { devices: pool.filter((x) => x.m.cost === best).map((x) => x.d), areaOnly, anyKind };
}
