// The navigation plugin with a real plugin context, against an OSRM test double (a real HTTP server speaking
// OSRM's route API shape; no real OSRM with map data can run here) and without any server.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeviceEvent, Logger, Reply } from "../src/plugins/api.js";
import { ToolError } from "../src/plugins/api.js";
import { createPluginContext, type PluginContextHandle } from "../src/daemon/plugin-context.js";
import plugin from "../tools/navigation/index.js";
import { findPlace, parsePlaces } from "../tools/navigation/places.js";
import { instructionFor, spokenDistance, spokenTravelTime } from "../tools/navigation/osrm.js";
import { startOsrmDouble, type OsrmDouble } from "./fixtures/osrm/osrm-double.js";

interface Sent {
  device: string | undefined;
  event: DeviceEvent;
}

const PLACES = {
  home: { lat: 52.52, lon: 13.405, label: "Home" },
  work: { lat: 52.53, lon: 13.43, label: "Work", aliases: ["the office"] },
  "train station": { lat: 52.5251, lon: 13.3694, label: "Hauptbahnhof" },
  island: { lat: 52.6, lon: 13.6, label: "Island" },
};

let stateDir: string;
let ctx: PluginContextHandle | undefined;
let osrm: OsrmDouble | undefined;

async function boot(config: Record<string, unknown>, events: Sent[], warnings: string[] = []): Promise<PluginContextHandle> {
  const log: Logger = { debug() {}, info() {}, warn: (m) => void warnings.push(m), error: (m) => void warnings.push(m) };
  ctx = await createPluginContext({ name: "navigation", stateDir, config, log, notify: (device, event) => events.push({ device, event }) });
  await plugin.start?.(ctx);
  return ctx;
}

function call(tool: string, args: Record<string, unknown>, device = "watch-1"): Promise<Reply> {
  const def = plugin.tools.find((t) => t.name === tool)!;
  return Promise.resolve(def.handler(args, ctx!.forCall({ device })));
}

async function waitFor<T>(what: () => T | undefined, timeoutMs: number, label: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = what();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "needled-nav-"));
});
afterEach(async () => {
  await plugin.stop?.();
  await ctx?.close();
  ctx = undefined;
  await osrm?.close();
  osrm = undefined;
  await rm(stateDir, { recursive: true, force: true });
});

describe("saved places", () => {
  const { places } = parsePlaces(PLACES);
  it("match by name, label, alias, articles and a small typo", () => {
    expect(findPlace("work", places)?.label).toBe("Work");
    expect(findPlace("my work", places)?.label).toBe("Work");
    expect(findPlace("the office", places)?.label).toBe("Work");
    expect(findPlace("the train station", places)?.label).toBe("Hauptbahnhof");
    expect(findPlace("Hauptbahnhof", places)?.label).toBe("Hauptbahnhof");
    expect(findPlace("train staton", places)?.label).toBe("Hauptbahnhof");
    expect(findPlace("my house", places)?.label).toBe("Home");
    expect(findPlace("house", places)?.label).toBe("Home");
    expect(findPlace("the airport", places)).toBeUndefined();
  });
  it("skip bad entries with a reason", () => {
    const r = parsePlaces({ ok: { lat: 1, lon: 2 }, bad: { lat: "x", lon: 2 }, far: { lat: 95, lon: 0 }, nope: 3 });
    expect(r.places.map((p) => p.key)).toEqual(["ok"]);
    expect(r.problems).toHaveLength(3);
    expect(r.problems[0]).toMatch(/places\.bad: lat and lon must be numbers/);
  });
});

describe("spoken forms", () => {
  it("travel times and distances", () => {
    expect(spokenTravelTime(14.4 * 60)).toBe("14 minutes");
    expect(spokenTravelTime(20)).toBe("less than a minute");
    expect(spokenTravelTime(75 * 60)).toBe("1 hour 15 minutes");
    expect(spokenDistance(850)).toBe("850 m");
    expect(spokenDistance(3240)).toBe("3.2 km");
    expect(spokenDistance(3240, "imperial")).toBe("2.0 mi");
  });
  it("OSRM maneuvers", () => {
    expect(instructionFor({ name: "Baker Street", maneuver: { type: "turn", modifier: "left" } })).toBe("Turn left onto Baker Street");
    expect(instructionFor({ name: "Main St", maneuver: { type: "depart", bearing_after: 92 } })).toBe("Head east on Main St");
    expect(instructionFor({ name: "", maneuver: { type: "roundabout", exit: 3 } })).toBe("At the roundabout, take the 3rd exit");
    expect(instructionFor({ name: "A1", maneuver: { type: "fork", modifier: "slight right" } })).toBe("Keep right at the fork onto A1");
    expect(instructionFor({ name: "", maneuver: { type: "arrive" } })).toBe("Arrive at your destination");
  });
});

describe("navigation plugin with an OSRM test double", () => {
  it("travel_time asks the right profile from home to the place and answers in minutes", async () => {
    osrm = await startOsrmDouble();
    await boot({ places: PLACES, osrm: osrm.url }, []);
    const r = await call("travel_time", { destination: "work", mode: "cycling" });
    expect(osrm.requests).toHaveLength(1);
    expect(osrm.requests[0]).toMatchObject({ profile: "cycling", coordinates: [[13.405, 52.52], [13.43, 52.53]] });
    const minutes = Math.round((r.data!.duration as number) / 60);
    expect(minutes).toBeGreaterThan(5);
    expect(r.say).toBe(`About ${minutes} minutes by bike to Work.`);
    const drive = await call("travel_time", { destination: "the office" });
    expect(osrm.requests[1]!.profile).toBe("driving"); // the default mode
    expect(drive.say).toMatch(/^About \d+ minutes? by car to Work\.$/);
  });

  it("navigate sends the route, then each step over time, to the asking device", async () => {
    osrm = await startOsrmDouble();
    const events: Sent[] = [];
    await boot({ places: PLACES, osrm: osrm.url, stepPace: 0.0005 }, events);
    const r = await call("navigate", { destination: "the train station", mode: "walking" }, "glasses-2");
    expect(r.say).toMatch(/^Starting directions to Hauptbahnhof: \d+ minutes on foot, \d\.\d km\.$/);
    expect(osrm.requests[0]!.query.steps).toBe("true");
    const route = events.find((e) => e.event.type === "navigation.route")!;
    expect(route.device).toBe("glasses-2");
    expect((route.event.data!.steps as unknown[]).length).toBe(4);
    await waitFor(() => (events.filter((e) => e.event.type === "navigation.step").length === 4 ? true : undefined), 3000, "4 steps");
    const steps = events.filter((e) => e.event.type === "navigation.step");
    expect(steps.map((s) => s.event.data!.index)).toEqual([0, 1, 2, 3]);
    expect(steps.every((s) => s.device === "glasses-2")).toBe(true);
    expect(steps[0]!.event.say).toMatch(/^Head west on Station Road, then in \d\.\d km turn left onto Baker Street\.$/);
    expect(steps[3]!.event.say).toBe("Arrive; your destination is on the right.");
    // after arriving, the session is over
    expect((await call("stop_navigation", {}, "glasses-2")).say).toBe("You're not navigating anywhere.");
  });

  it("stop_navigation stops the steps and tells the device", async () => {
    osrm = await startOsrmDouble();
    const events: Sent[] = [];
    await boot({ places: PLACES, osrm: osrm.url }, events); // real pace: the second step is minutes away
    await call("navigate", { destination: "work" });
    await waitFor(() => events.find((e) => e.event.type === "navigation.step"), 1000, "first step");
    const r = await call("stop_navigation", {});
    expect(r.say).toBe("Stopped directions to Work.");
    expect(events.at(-1)!.event.type).toBe("navigation.stop");
    await new Promise((res) => setTimeout(res, 100));
    expect(events.filter((e) => e.event.type === "navigation.step")).toHaveLength(1);
  });

  it("an unknown place is a clear reply, and no request is made", async () => {
    osrm = await startOsrmDouble();
    await boot({ places: PLACES, osrm: osrm.url }, []);
    const p = call("navigate", { destination: "the moon" });
    await expect(p).rejects.toThrow(ToolError);
    await expect(call("travel_time", { destination: "the moon" })).rejects.toThrow(
      "I don't know where 'the moon' is. Add it under plugins.navigation.places.",
    );
    expect(osrm.requests).toHaveLength(0);
  });

  it("no route, a server that is down and one that is too slow give clear replies", async () => {
    osrm = await startOsrmDouble({ noRouteTo: ["52.6000,13.6000"] });
    const events: Sent[] = [];
    await boot({ places: PLACES, osrm: osrm.url, timeoutMs: 300 }, events);
    await expect(call("travel_time", { destination: "island" })).rejects.toThrow("I couldn't find a route by car to Island.");
    osrm.setDelay(2000);
    const t0 = Date.now();
    await expect(call("travel_time", { destination: "work" })).rejects.toThrow(/didn't answer within 0.3 s/);
    expect(Date.now() - t0).toBeLessThan(1500);
    await osrm.close();
    osrm = undefined;
    await expect(call("travel_time", { destination: "work" })).rejects.toThrow(/^The routing server isn't reachable \(connection (closed|refused)\)\. I can't tell how long it takes to Work\.$/);
  });

  it("a routing server that refuses connections: travel_time fails clearly, navigate hands off and says why", async () => {
    const gone = await startOsrmDouble();
    const url = gone.url;
    await gone.close(); // nothing listens on this port any more
    const events: Sent[] = [];
    await boot({ places: PLACES, osrm: url }, events);
    await expect(call("travel_time", { destination: "work" })).rejects.toThrow(/routing server isn't reachable \(connection refused\)/);
    const nav = await call("navigate", { destination: "work", mode: "walking" });
    expect(nav.say).toBe("The routing server isn't reachable (connection refused). Sent Work to your device for directions on foot.");
    expect(events.find((e) => e.event.type === "navigation.start")?.event.data).toMatchObject({ destination: "Work", mode: "walking" });
  });

  it("per-mode servers; transit is handed to the device", async () => {
    osrm = await startOsrmDouble();
    const events: Sent[] = [];
    await boot({ places: PLACES, osrm: { cycling: osrm.url }, profiles: { cycling: "bike" } }, events);
    await call("travel_time", { destination: "work", mode: "cycling" });
    expect(osrm.requests[0]!.profile).toBe("bike");
    const t = await call("navigate", { destination: "work", mode: "transit" });
    expect(t.say).toBe("Sent Work to your device for directions by transit.");
    await expect(call("travel_time", { destination: "work", mode: "transit" })).rejects.toThrow(/transit/);
    expect(osrm.requests).toHaveLength(1);
  });
});

describe("navigation plugin without a routing server", () => {
  it("hands destination and mode to the paired device; stop tells it", async () => {
    const events: Sent[] = [];
    const warnings: string[] = [];
    await boot({ places: { ...PLACES, broken: { lat: 200, lon: 0 } } }, events, warnings);
    expect(warnings.some((w) => /places\.broken/.test(w))).toBe(true);
    const r = await call("navigate", { destination: "home", mode: "cycling" }, "watch-9");
    expect(r.say).toBe("Sent Home to your device for directions by bike.");
    expect(events).toEqual([
      { device: "watch-9", event: expect.objectContaining({ type: "navigation.start", data: { destination: "Home", lat: 52.52, lon: 13.405, mode: "cycling" } }) },
    ]);
    await expect(call("travel_time", { destination: "home" })).rejects.toThrow(/without a routing server/);
    expect((await call("stop_navigation", {}, "watch-9")).say).toBe("Stopped directions to Home.");
    expect(events.at(-1)).toMatchObject({ device: "watch-9", event: { type: "navigation.stop" } });
  });
});
