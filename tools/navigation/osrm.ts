// A client for OSRM's HTTP route service (`GET /route/v1/{profile}/{lon},{lat};{lon},{lat}?steps=true`),
// and turning its maneuvers into short spoken instructions.

export type Mode = "driving" | "walking" | "cycling" | "transit";
export const MODES: Mode[] = ["driving", "walking", "cycling", "transit"];

export interface LatLon {
  lat: number;
  lon: number;
}

export interface RouteStep {
  /** "Turn left onto Baker Street". */
  instruction: string;
  /** Metres of this step. */
  distance: number;
  /** Seconds of this step. */
  duration: number;
  name: string;
  type: string;
  modifier?: string;
  location?: LatLon;
}

export interface Route {
  /** Seconds. */
  duration: number;
  /** Metres. */
  distance: number;
  steps: RouteStep[];
}

export type OsrmFailure = "unreachable" | "timeout" | "no-route" | "refused" | "bad-response" | "aborted";

export class OsrmError extends Error {
  constructor(
    message: string,
    readonly kind: OsrmFailure,
  ) {
    super(message);
    this.name = "OsrmError";
  }
}

export interface OsrmOptions {
  /** The server's base URL, or one per mode (an OSRM server serves one profile). */
  servers: Partial<Record<Mode, string>>;
  /** The `{profile}` path segment per mode. */
  profiles?: Partial<Record<Mode, string>>;
  timeoutMs?: number;
  /** Injected for tests; the global fetch by default. */
  fetch?: typeof fetch;
}

export const DEFAULT_PROFILES: Record<Mode, string> = {
  driving: "driving",
  walking: "walking",
  cycling: "cycling",
  transit: "transit",
};

function coord(p: LatLon): string {
  return `${p.lon.toFixed(6)},${p.lat.toFixed(6)}`;
}

const NET_ERRORS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  UND_ERR_SOCKET: "connection closed",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
};

export class OsrmClient {
  private readonly timeoutMs: number;
  private readonly profiles: Record<Mode, string>;

  constructor(private readonly opts: OsrmOptions) {
    this.timeoutMs = opts.timeoutMs ?? 3000;
    this.profiles = { ...DEFAULT_PROFILES, ...(opts.profiles ?? {}) };
  }

  serverFor(mode: Mode): string | undefined {
    return this.opts.servers[mode];
  }

  async route(mode: Mode, from: LatLon, to: LatLon, signal?: AbortSignal): Promise<Route> {
    const base = this.serverFor(mode);
    if (!base) throw new OsrmError(`No routing server is configured for ${mode}.`, "refused");
    const url = `${base.replace(/\/+$/, "")}/route/v1/${encodeURIComponent(this.profiles[mode])}/${coord(from)};${coord(to)}?overview=false&steps=true&alternatives=false`;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    let body: unknown;
    try {
      res = await (this.opts.fetch ?? fetch)(url, { signal: combined, headers: { accept: "application/json" } });
      const text = await res.text();
      try {
        body = JSON.parse(text);
      } catch {
        throw new OsrmError(`The routing server sent something that isn't JSON (HTTP ${res.status}).`, "bad-response");
      }
    } catch (err) {
      if (err instanceof OsrmError) throw err;
      if (timeout.aborted) throw new OsrmError(`The routing server didn't answer within ${Math.round(this.timeoutMs / 100) / 10} s.`, "timeout");
      if (signal?.aborted) throw new OsrmError("The request was cancelled.", "aborted");
      const code = (err as { cause?: { code?: string } }).cause?.code;
      const why = code ? (NET_ERRORS[code] ?? code) : undefined;
      throw new OsrmError(`The routing server isn't reachable${why ? ` (${why})` : ""}.`, "unreachable");
    }
    return parseRouteResponse(res.status, body);
  }
}

/** Reads OSRM's route response: `{code: "Ok", routes: [{duration, distance, legs: [{steps}]}]}`. */
export function parseRouteResponse(status: number, body: unknown): Route {
  const b = body as { code?: unknown; message?: unknown; routes?: unknown };
  const code = typeof b?.code === "string" ? b.code : undefined;
  if (code === "NoRoute" || code === "NoSegment") {
    throw new OsrmError("There's no route there.", "no-route");
  }
  if (code !== "Ok") {
    const msg = typeof b?.message === "string" ? `: ${b.message}` : "";
    throw new OsrmError(`The routing server refused the request (${code ?? `HTTP ${status}`}${msg}).`, status >= 400 && code ? "refused" : "bad-response");
  }
  const route = Array.isArray(b.routes) ? (b.routes[0] as Record<string, unknown> | undefined) : undefined;
  if (!route || typeof route.duration !== "number" || typeof route.distance !== "number") {
    throw new OsrmError("The routing server's answer has no route in it.", "bad-response");
  }
  const steps: RouteStep[] = [];
  const legs = Array.isArray(route.legs) ? route.legs : [];
  for (const leg of legs as Array<{ steps?: unknown }>) {
    for (const s of (Array.isArray(leg.steps) ? leg.steps : []) as Array<Record<string, any>>) {
      const m = (s.maneuver ?? {}) as Record<string, any>;
      const step: RouteStep = {
        instruction: instructionFor(s),
        distance: typeof s.distance === "number" ? s.distance : 0,
        duration: typeof s.duration === "number" ? s.duration : 0,
        name: typeof s.name === "string" ? s.name : "",
        type: typeof m.type === "string" ? m.type : "continue",
      };
      if (typeof m.modifier === "string") step.modifier = m.modifier;
      if (Array.isArray(m.location) && m.location.length === 2) step.location = { lon: Number(m.location[0]), lat: Number(m.location[1]) };
      steps.push(step);
    }
  }
  return { duration: route.duration, distance: route.distance, steps };
}

const COMPASS = ["north", "northeast", "east", "southeast", "south", "southwest", "west", "northwest"];

function ordinal(n: number): string {
  const s = ["th", "st", "nd", "rd"];
  const v = n % 100;
  return `${n}${s[(v - 20) % 10] ?? s[v] ?? s[0]}`;
}

/** A short instruction for one OSRM step (maneuver type + modifier + road name). */
export function instructionFor(step: Record<string, any>): string {
  const m = (step.maneuver ?? {}) as Record<string, any>;
  const type: string = typeof m.type === "string" ? m.type : "continue";
  const modifier: string | undefined = typeof m.modifier === "string" ? m.modifier : undefined;
  const name: string = typeof step.name === "string" && step.name ? step.name : "";
  const onto = name ? ` onto ${name}` : "";
  const turn = (mod: string | undefined): string => {
    switch (mod) {
      case "uturn":
        return "Make a U-turn";
      case "straight":
        return "Continue straight";
      case "sharp left":
      case "sharp right":
      case "slight left":
      case "slight right":
        return `Turn ${mod}`;
      case "left":
      case "right":
        return `Turn ${mod}`;
      default:
        return "Continue";
    }
  };
  switch (type) {
    case "depart": {
      const bearing = typeof m.bearing_after === "number" ? COMPASS[Math.round(((m.bearing_after % 360) + 360) % 360 / 45) % 8] : undefined;
      return `Head ${bearing ?? "out"}${name ? ` on ${name}` : ""}`;
    }
    case "arrive":
      return modifier === "left" || modifier === "right" ? `Arrive; your destination is on the ${modifier}` : "Arrive at your destination";
    case "turn":
    case "end of road":
      return `${turn(modifier)}${type === "end of road" ? " at the end of the road" : ""}${onto}`;
    case "new name":
    case "continue":
      return `Continue${modifier && modifier !== "straight" ? ` ${modifier}` : ""}${onto}`;
    case "merge":
      return `Merge${modifier ? ` ${modifier.replace("slight ", "")}` : ""}${onto}`;
    case "on ramp":
      return `Take the ramp${modifier ? ` on the ${modifier.replace(/^(slight|sharp) /, "")}` : ""}${onto}`;
    case "off ramp":
      return `Take the exit${modifier ? ` on the ${modifier.replace(/^(slight|sharp) /, "")}` : ""}${onto}`;
    case "fork":
      return `Keep ${modifier?.replace(/^(slight|sharp) /, "") ?? "straight"} at the fork${onto}`;
    case "roundabout":
    case "rotary":
    case "exit roundabout":
    case "exit rotary":
    case "roundabout turn":
      return typeof m.exit === "number" ? `At the roundabout, take the ${ordinal(m.exit)} exit${onto}` : `Go through the roundabout${onto}`;
    default:
      return `${turn(modifier)}${onto}`;
  }
}

/** 14.2 min -> "14 minutes"; 75 min -> "1 hour 15 minutes"; under a minute -> "less than a minute". */
export function spokenTravelTime(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  if (minutes < 1) return "less than a minute";
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? "" : "s"}`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h} hour${h === 1 ? "" : "s"}${m ? ` ${m} minute${m === 1 ? "" : "s"}` : ""}`;
}

/** Metres -> "850 m" / "3.2 km", or "0.5 mi" / "500 ft" for imperial units. */
export function spokenDistance(metres: number, units: "metric" | "imperial" = "metric"): string {
  if (units === "imperial") {
    const miles = metres / 1609.344;
    if (miles < 0.1) return `${Math.round((metres * 3.28084) / 10) * 10} ft`;
    return `${miles < 10 ? miles.toFixed(1) : Math.round(miles)} mi`;
  }
  if (metres < 1000) return `${Math.max(10, Math.round(metres / 10) * 10)} m`;
  return `${metres < 10_000 ? (metres / 1000).toFixed(1) : Math.round(metres / 1000)} km`;
}
