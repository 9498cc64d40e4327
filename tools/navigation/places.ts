// Saved places from config (`plugins.navigation.places`) and matching a spoken destination to one.
// Geocoding is deliberately limited to these: an offline hub has no address database.
import { distance } from "fastest-levenshtein";

export interface Place {
  /** The key in config, normalised ("work", "train station"). */
  key: string;
  label: string;
  lat: number;
  lon: number;
  aliases: string[];
}

export interface PlacesResult {
  places: Place[];
  /** Config entries that were skipped, with the reason (logged by the plugin). */
  problems: string[];
}

const ARTICLES = new Set(["the", "a", "an", "my", "our", "to"]);

/** "the Train-Station!" -> "train station"; "mom's" -> "mom". */
export function normalizePlace(text: string): string {
  return text
    .toLowerCase()
    .replace(/['’]s\b/g, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .split(" ")
    .filter((w) => w && !ARTICLES.has(w))
    .join(" ");
}

function isLatLon(lat: unknown, lon: unknown): lat is number {
  return (
    typeof lat === "number" && typeof lon === "number" && Math.abs(lat) <= 90 && Math.abs(lon) <= 180 &&
    Number.isFinite(lat) && Number.isFinite(lon)
  );
}

/** Reads `places: {home: {lat, lon, label?, aliases?}}`; bad entries are reported and skipped. */
export function parsePlaces(config: unknown): PlacesResult {
  const places: Place[] = [];
  const problems: string[] = [];
  if (config === undefined || config === null) return { places, problems };
  if (typeof config !== "object" || Array.isArray(config)) {
    return { places, problems: ["plugins.navigation.places must be a map of name -> {lat, lon, label}"] };
  }
  for (const [name, raw] of Object.entries(config as Record<string, unknown>)) {
    const where = `plugins.navigation.places.${name}`;
    if (!raw || typeof raw !== "object") {
      problems.push(`${where}: expected {lat, lon, label}`);
      continue;
    }
    const { lat, lon, label, aliases } = raw as Record<string, unknown>;
    if (!isLatLon(lat, lon)) {
      problems.push(`${where}: lat and lon must be numbers (lat -90..90, lon -180..180)`);
      continue;
    }
    const key = normalizePlace(name);
    if (!key) {
      problems.push(`${where}: the name has no letters or digits`);
      continue;
    }
    places.push({
      key,
      label: typeof label === "string" && label.trim() ? label.trim() : name,
      lat,
      lon: lon as number,
      aliases: Array.isArray(aliases) ? aliases.filter((a): a is string => typeof a === "string").map(normalizePlace).filter(Boolean) : [],
    });
  }
  return { places, problems };
}

/** Finds the saved place a destination names: exact name, alias or label, then one small typo. */
export function findPlace(destination: string, places: Place[]): Place | undefined {
  const want = normalizePlace(destination);
  if (!want) return undefined;
  const names = (p: Place) => [p.key, normalizePlace(p.label), ...p.aliases];
  const exact = places.find((p) => names(p).includes(want));
  if (exact) return exact;
  // "home" also answers to "house"/"my place"
  if (["house", "place", "home"].includes(want)) {
    const home = places.find((p) => p.key === "home");
    if (home) return home;
  }
  let best: { place: Place; d: number } | undefined;
  let tie = false;
  for (const p of places) {
    for (const n of names(p)) {
      const allowed = n.length >= 8 ? 2 : n.length >= 4 ? 1 : 0;
      const d = distance(want, n);
      if (d > allowed) continue;
      if (!best || d < best.d) {
        best = { place: p, d };
        tie = false;
      } else if (d === best.d && best.place !== p) tie = true;
    }
  }
  return best && !tie ? best.place : undefined;
}
