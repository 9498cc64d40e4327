// Navigation sessions: route via OSRM when a server is configured, otherwise hand the destination to the
// paired device. Turn-by-turn steps go to the device as `navigation.step` events over time (or as one list).
import type { DeviceEvent, Logger, PluginContext, Reply } from "../../src/plugins/api.js";
import { ToolError } from "../../src/plugins/api.js";
import { MODES, OsrmClient, OsrmError, spokenDistance, spokenTravelTime, type LatLon, type Mode, type Route } from "./osrm.js";
import { findPlace, parsePlaces, type Place } from "./places.js";

export interface NavConfig {
  places: Place[];
  origin?: LatLon & { label: string };
  osrm?: OsrmClient;
  defaultMode: Mode;
  units: "metric" | "imperial";
  steps: "timed" | "list";
  /** Multiplies step durations when timing `navigation.step` events (tests use a small value). */
  stepPace: number;
}

const MODE_PHRASE: Record<Mode, string> = { driving: "by car", walking: "on foot", cycling: "by bike", transit: "by transit" };

/** Reads and checks `plugins.navigation`; problems are returned for the log, never thrown. */
export function readNavConfig(raw: Readonly<Record<string, unknown>>): { config: NavConfig; problems: string[] } {
  const { places, problems } = parsePlaces(raw.places);
  const cfg: NavConfig = { places, defaultMode: "driving", units: "metric", steps: "timed", stepPace: 1 };
  if (raw.defaultMode !== undefined) {
    if (MODES.includes(raw.defaultMode as Mode)) cfg.defaultMode = raw.defaultMode as Mode;
    else problems.push(`plugins.navigation.defaultMode must be one of ${MODES.join(", ")}`);
  }
  if (raw.units === "imperial" || raw.units === "metric") cfg.units = raw.units;
  else if (raw.units !== undefined) problems.push('plugins.navigation.units must be "metric" or "imperial"');
  if (raw.steps === "timed" || raw.steps === "list") cfg.steps = raw.steps;
  else if (raw.steps !== undefined) problems.push('plugins.navigation.steps must be "timed" or "list"');
  if (typeof raw.stepPace === "number" && raw.stepPace > 0) cfg.stepPace = raw.stepPace;

  const origin = raw.origin ?? "home";
  if (typeof origin === "string") {
    const p = findPlace(origin, places);
    if (p) cfg.origin = { lat: p.lat, lon: p.lon, label: p.label };
    else if (raw.origin !== undefined) problems.push(`plugins.navigation.origin: no saved place called "${origin}"`);
  } else if (origin && typeof origin === "object") {
    const { lat, lon } = origin as Record<string, unknown>;
    if (typeof lat === "number" && typeof lon === "number") cfg.origin = { lat, lon, label: "here" };
    else problems.push("plugins.navigation.origin must be a place name or {lat, lon}");
  }

  const servers: Partial<Record<Mode, string>> = {};
  const checkUrl = (u: unknown, key: string): string | undefined => {
    if (typeof u !== "string") {
      problems.push(`${key} must be a URL string`);
      return undefined;
    }
    try {
      const url = new URL(u);
      if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error("not http");
      return u;
    } catch {
      problems.push(`${key}: "${u}" is not an http(s) URL`);
      return undefined;
    }
  };
  if (typeof raw.osrm === "string") {
    const u = checkUrl(raw.osrm, "plugins.navigation.osrm");
    if (u) for (const m of ["driving", "walking", "cycling"] as Mode[]) servers[m] = u;
  } else if (raw.osrm && typeof raw.osrm === "object") {
    for (const [m, u] of Object.entries(raw.osrm as Record<string, unknown>)) {
      if (!MODES.includes(m as Mode)) {
        problems.push(`plugins.navigation.osrm.${m}: not a mode (${MODES.join(", ")})`);
        continue;
      }
      const ok = checkUrl(u, `plugins.navigation.osrm.${m}`);
      if (ok) servers[m as Mode] = ok;
    }
  } else if (raw.osrm !== undefined) problems.push("plugins.navigation.osrm must be a URL or a map of mode -> URL");
  if (Object.keys(servers).length > 0) {
    const timeoutMs = typeof raw.timeoutMs === "number" && raw.timeoutMs > 0 ? raw.timeoutMs : 3000;
    const profiles = raw.profiles && typeof raw.profiles === "object" ? (raw.profiles as Partial<Record<Mode, string>>) : {};
    cfg.osrm = new OsrmClient({ servers, profiles, timeoutMs });
  }
  return { config: cfg, problems };
}

interface Session {
  destination: string;
  mode: Mode;
  timers: NodeJS.Timeout[];
  routed: boolean;
}

type Ctx = Pick<PluginContext, "notify" | "log">;

export class Navigator {
  private readonly sessions = new Map<string, Session>();

  constructor(
    readonly config: NavConfig,
    private readonly ctx: Ctx,
  ) {}

  private resolve(destination: string): Place {
    const place = findPlace(destination ?? "", this.config.places);
    if (!place) {
      throw new ToolError(`I don't know where '${destination}' is. Add it under plugins.navigation.places.`, {
        known: this.config.places.map((p) => p.label),
      });
    }
    return place;
  }

  private mode(mode: unknown): Mode {
    return MODES.includes(mode as Mode) ? (mode as Mode) : this.config.defaultMode;
  }

  private async route(place: Place, mode: Mode, signal?: AbortSignal): Promise<Route> {
    const osrm = this.config.osrm!;
    if (!this.config.origin) {
      throw new ToolError("I don't know where you're starting from. Set plugins.navigation.origin or a place called home.");
    }
    try {
      return await osrm.route(mode, this.config.origin, place, signal);
    } catch (err) {
      if (err instanceof OsrmError && err.kind === "no-route") {
        throw new ToolError(`I couldn't find a route ${MODE_PHRASE[mode]} to ${place.label}.`);
      }
      throw err;
    }
  }

  async travelTime(args: { destination: string; mode?: string }, signal?: AbortSignal): Promise<Reply> {
    const place = this.resolve(args.destination);
    const mode = this.mode(args.mode);
    if (!this.config.osrm || !this.config.osrm.serverFor(mode)) {
      throw new ToolError(
        mode === "transit"
          ? "I can't plan transit trips offline."
          : `I can't estimate travel times without a routing server. Set plugins.navigation.osrm.`,
      );
    }
    let route: Route;
    try {
      route = await this.route(place, mode, signal);
    } catch (err) {
      if (err instanceof OsrmError) throw new ToolError(`${err.message} I can't tell how long it takes to ${place.label}.`);
      throw err;
    }
    return {
      say: `About ${spokenTravelTime(route.duration)} ${MODE_PHRASE[mode]} to ${place.label}.`,
      data: { destination: place.label, mode, duration: Math.round(route.duration), distance: Math.round(route.distance) },
    };
  }

  async navigate(device: string, args: { destination: string; mode?: string }, signal?: AbortSignal): Promise<Reply> {
    const place = this.resolve(args.destination);
    const mode = this.mode(args.mode);
    this.stopSession(device, false);
    const handOff = (why: string): Reply => {
      this.sessions.set(device, { destination: place.label, mode, timers: [], routed: false });
      this.send(device, {
        type: "navigation.start",
        say: `Directions to ${place.label}`,
        data: { destination: place.label, lat: place.lat, lon: place.lon, mode },
      });
      return {
        say: `${why}Sent ${place.label} to your device for directions ${MODE_PHRASE[mode]}.`,
        data: { destination: place.label, mode, handedOff: true },
      };
    };
    if (!this.config.osrm || !this.config.osrm.serverFor(mode)) return handOff("");
    let route: Route;
    try {
      route = await this.route(place, mode, signal);
    } catch (err) {
      if (err instanceof OsrmError && err.kind !== "aborted") {
        this.ctx.log.warn("navigation: routing failed; handing the destination to the device", { error: err.message });
        return handOff(`${err.message} `);
      }
      throw err;
    }
    const session: Session = { destination: place.label, mode, timers: [], routed: true };
    this.sessions.set(device, session);
    const steps = route.steps.map((s, i) => ({
      index: i,
      instruction: s.instruction,
      distance: Math.round(s.distance),
      duration: Math.round(s.duration),
      name: s.name,
      ...(s.location ? { location: s.location } : {}),
    }));
    this.send(device, {
      type: "navigation.route",
      say: `${spokenTravelTime(route.duration)} to ${place.label}`,
      data: { destination: place.label, mode, duration: Math.round(route.duration), distance: Math.round(route.distance), steps },
    });
    if (this.config.steps === "timed") this.scheduleSteps(device, session, route);
    return {
      say: `Starting directions to ${place.label}: ${spokenTravelTime(route.duration)} ${MODE_PHRASE[mode]}, ${spokenDistance(route.distance, this.config.units)}.`,
      data: { destination: place.label, mode, duration: Math.round(route.duration), distance: Math.round(route.distance), steps: steps.length },
    };
  }

  /** Each step's event when the previous steps' time has passed (first at once); the session ends after the last. */
  private scheduleSteps(device: string, session: Session, route: Route): void {
    let offset = 0;
    route.steps.forEach((step, i) => {
      const fire = () => {
        if (this.sessions.get(device) !== session) return;
        const next = route.steps[i + 1];
        const say = next && step.type !== "arrive" ? `${step.instruction}, then in ${spokenDistance(step.distance, this.config.units)} ${lowerFirst(next.instruction)}` : step.instruction;
        this.send(device, {
          type: "navigation.step",
          say: `${say}.`,
          haptic: "tap",
          data: { index: i, count: route.steps.length, instruction: step.instruction, distance: Math.round(step.distance), name: step.name },
        });
        if (i === route.steps.length - 1) this.sessions.delete(device);
      };
      const t = setTimeout(fire, offset * 1000 * this.config.stepPace);
      t.unref();
      session.timers.push(t);
      offset += step.duration;
    });
  }

  stop(device: string): Reply {
    const s = this.sessions.get(device);
    if (!s) return { say: "You're not navigating anywhere.", data: { stopped: false } };
    this.stopSession(device, true);
    return { say: `Stopped directions to ${s.destination}.`, data: { stopped: true, destination: s.destination } };
  }

  private stopSession(device: string, tell: boolean): void {
    const s = this.sessions.get(device);
    if (!s) return;
    for (const t of s.timers) clearTimeout(t);
    this.sessions.delete(device);
    if (tell) this.send(device, { type: "navigation.stop", say: "Directions stopped", data: { destination: s.destination } });
  }

  /** Ends every session without telling the devices (the daemon is stopping). */
  close(): void {
    for (const s of this.sessions.values()) for (const t of s.timers) clearTimeout(t);
    this.sessions.clear();
  }

  activeSessions(): number {
    return this.sessions.size;
  }

  private send(device: string, event: DeviceEvent): void {
    this.ctx.notify(device, event);
  }
}

function lowerFirst(s: string): string {
  return s ? s[0]!.toLowerCase() + s.slice(1) : s;
}

export function makeNavigator(ctx: Pick<PluginContext, "notify" | "log" | "config">, log: Logger = ctx.log): Navigator {
  const { config, problems } = readNavConfig(ctx.config);
  for (const p of problems) log.warn(`navigation config: ${p}`);
  return new Navigator(config, ctx);
}
