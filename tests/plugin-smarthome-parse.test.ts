// Pure parts of the smarthome plugin: target matching, colours, Zigbee2MQTT and HA discovery parsing.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parseColor } from "../tools/smarthome/colors.js";
import { buildCommand } from "../tools/smarthome/commands.js";
import {
  expandDiscovery,
  parseConfigDevices,
  parseDiscoveryTopic,
  parseHaDiscovery,
  parseZ2mDevices,
  parseZ2mGroups,
  type Device,
  type DeviceType,
} from "../tools/smarthome/devices.js";
import { resolveTarget, singular } from "../tools/smarthome/match.js";

const dev = (name: string, type: DeviceType, area?: string, deviceClass?: string): Device => ({
  id: name,
  name,
  type,
  source: "config",
  ...(area ? { area } : {}),
  ...(deviceClass ? { deviceClass } : {}),
});

const HOUSE: Device[] = [
  dev("Ceiling light", "light", "Kitchen"),
  dev("Pantry light", "light", "Kitchen"),
  dev("Sink spot", "light", "Kitchen"),
  dev("Coffee machine", "switch", "Kitchen"),
  dev("Bedroom lamp", "light", "Bedroom"),
  dev("Reading light", "light", "Bedroom"),
  dev("Electric blanket", "switch", "Bedroom"),
  dev("Bedroom blinds", "cover", "Bedroom", "blind"),
  dev("Bedroom fan", "fan", "Bedroom"),
  dev("Living room lamp", "light", "Living room"),
  dev("Desk fan", "fan", "Office"),
  dev("Front door", "lock", "Hallway"),
  dev("Back door", "lock", "Hallway"),
  dev("Garage door", "cover", "Garage", "garage"),
  dev("Thermostat", "climate", "Living room"),
];
const ON_OFF: DeviceType[] = ["light", "switch", "fan"];
const names = (target: string, kinds: DeviceType[] = ON_OFF, room: DeviceType[] = ["light", "switch"]) =>
  resolveTarget(target, HOUSE, kinds, room).devices.map((d) => d.name).sort();

describe("resolveTarget", () => {
  const cases: Array<[string, string[], DeviceType[]?]> = [
    ["kitchen lights", ["Ceiling light", "Pantry light", "Sink spot"]],
    ["the kitchen lights", ["Ceiling light", "Pantry light", "Sink spot"]],
    ["lights in the kitchen", ["Ceiling light", "Pantry light", "Sink spot"]],
    ["kitchen light", ["Ceiling light", "Pantry light", "Sink spot"]],
    ["kitchn lights", ["Ceiling light", "Pantry light", "Sink spot"]],
    ["bedroom", ["Bedroom lamp", "Electric blanket", "Reading light"]], // a room: its lights and switches, not the fan
    ["the bedroom", ["Bedroom lamp", "Electric blanket", "Reading light"]],
    ["bedroom lamp", ["Bedroom lamp"]],
    ["bedroom lamps", ["Bedroom lamp"]],
    ["the pantry light", ["Pantry light"]],
    ["pantry", ["Pantry light"]],
    ["panty light", ["Pantry light"]],
    ["coffee machine", ["Coffee machine"]],
    ["the fan", ["Bedroom fan", "Desk fan"]],
    ["desk fan", ["Desk fan"]],
    ["bedroom fan", ["Bedroom fan"]],
    ["living room lamp", ["Living room lamp"]],
    ["living room", ["Living room lamp"]],
    ["front door", ["Front door"], ["lock"]],
    ["the front dor", ["Front door"], ["lock"]],
    ["back door", ["Back door"], ["lock"]],
    ["garage door", ["Garage door"], ["cover"]],
    ["garage", ["Garage door"], ["cover"]],
    ["bedroom blinds", ["Bedroom blinds"], ["cover"]],
    ["blinds", ["Bedroom blinds"], ["cover"]],
    ["living room", ["Thermostat"], ["climate"]],
    ["thermostat", ["Thermostat"], ["climate"]],
    ["", ["Back door", "Front door"], ["lock"]],
    ["jacuzzi", []],
    ["garage door", [], ON_OFF],
  ];
  for (const [target, expected, kinds] of cases) {
    it(`"${target}"${kinds ? ` (${kinds.join("/")})` : ""} -> ${expected.join(", ") || "nothing"}`, () => {
      expect(names(target, kinds ?? ON_OFF, kinds ?? ["light", "switch"])).toEqual(expected);
    });
  }
  it("reports matches of the wrong kind (to say 'X can't be locked')", () => {
    const r = resolveTarget("pantry light", HOUSE, ["lock"]);
    expect(r.devices).toEqual([]);
    expect(r.anyKind.map((d) => d.name)).toEqual(["Pantry light"]);
  });
  it("singular", () => {
    expect(["lights", "blinds", "batteries", "switches", "glass", "lamp"].map(singular)).toEqual(["light", "blind", "battery", "switch", "glass", "lamp"]);
  });
});

describe("parseColor", () => {
  it("whites become colour temperatures", () => {
    expect(parseColor("warm white")).toMatchObject({ kind: "temperature", kelvin: 2700, mireds: 370 });
    expect(parseColor("cool white")).toMatchObject({ kind: "temperature", kelvin: 5000, mireds: 200 });
    expect(parseColor("daylight")).toMatchObject({ kind: "temperature", mireds: 154 });
  });
  it("colours become xy and hue/saturation", () => {
    const blue = parseColor("blue");
    expect(blue?.kind).toBe("color");
    if (blue?.kind !== "color") return;
    expect(blue.xy.x).toBeCloseTo(0.15, 2);
    expect(blue.xy.y).toBeCloseTo(0.06, 2);
    expect(blue.hs).toEqual({ hue: 240, saturation: 100 });
    const red = parseColor("Red");
    if (red?.kind === "color") expect(red.xy.x).toBeCloseTo(0.64, 2);
    else expect.fail("red is a colour");
    expect(parseColor("light blue")).toMatchObject({ kind: "color", rgb: [173, 216, 230] });
    expect(parseColor("dark grey")).toMatchObject({ kind: "color", rgb: [169, 169, 169] });
    expect(parseColor("sparkly")).toBeUndefined();
  });
});

describe("Zigbee2MQTT bridge/devices", () => {
  const devices = parseZ2mDevices(JSON.parse(readFileSync(new URL("./fixtures/zigbee2mqtt/devices.json", import.meta.url), "utf8")), "zigbee2mqtt");
  const by = (n: string) => devices.find((d) => d.name === n && d.type !== "scene");
  it("reads controllable devices with type, area from 'area/name', features; skips coordinator, sensors, disabled", () => {
    expect(devices.filter((d) => d.type !== "scene").map((d) => d.name).sort()).toEqual(
      ["Blinds", "Bedroom lamp", "Ceiling", "Ceiling light", "Coffee machine", "Front door", "Pantry light", "Sink light", "Thermostat"].sort(),
    );
    expect(by("Ceiling light")).toMatchObject({ type: "light", area: "kitchen", z2m: { topic: "zigbee2mqtt/kitchen/Ceiling light" } });
    expect(by("Ceiling light")!.z2m!.features).toEqual(expect.arrayContaining(["brightness", "color_temp", "color_xy"]));
    expect(by("Thermostat")).toMatchObject({ type: "climate", area: "living room", z2m: { setpoint: "occupied_heating_setpoint" } });
    expect(by("Front door")).toMatchObject({ type: "lock", deviceClass: "door" });
    expect(by("Bedroom lamp")!.area).toBeUndefined();
    expect(devices.find((d) => d.type === "scene")).toMatchObject({ name: "Cooking", z2m: { sceneId: 3 } });
  });
  it("areas from config override", () => {
    const d = parseZ2mDevices(JSON.parse(readFileSync(new URL("./fixtures/zigbee2mqtt/devices.json", import.meta.url), "utf8")), "z", { "bedroom lamp": "Bedroom" });
    expect(d.find((x) => x.name === "Bedroom lamp")?.area).toBe("Bedroom");
  });
  it("groups give scenes; bad payloads throw", () => {
    expect(parseZ2mGroups([{ friendly_name: "lr", scenes: [{ id: 1, name: "Movie night" }] }], "z2m")[0]).toMatchObject({
      type: "scene",
      name: "Movie night",
      z2m: { topic: "z2m/lr", sceneId: 1 },
    });
    expect(() => parseZ2mDevices({ not: "a list" }, "z")).toThrow(/not a JSON array/);
  });
  it("commands: on/off, brightness 0-254, colour xy, colour temperature, lock, cover, setpoint", () => {
    const light = by("Ceiling light")!;
    expect(buildCommand(light, { kind: "power", on: true }).publishes).toEqual([{ topic: "zigbee2mqtt/kitchen/Ceiling light/set", payload: '{"state":"ON"}' }]);
    expect(JSON.parse(buildCommand(light, { kind: "light", brightness: 50 }).publishes[0]!.payload)).toEqual({ state: "ON", brightness: 127 });
    expect(JSON.parse(buildCommand(light, { kind: "light", color: parseColor("warm white")! }).publishes[0]!.payload)).toEqual({ color_temp: 370, state: "ON" });
    expect(JSON.parse(buildCommand(light, { kind: "light", color: parseColor("red")! }).publishes[0]!.payload).color.x).toBeCloseTo(0.64, 2);
    expect(() => buildCommand(by("Pantry light")!, { kind: "light", color: parseColor("red")! })).toThrow(/can't change colour/);
    expect(buildCommand(by("Front door")!, { kind: "lock", locked: false }).publishes[0]!.payload).toBe('{"state":"UNLOCK"}');
    expect(buildCommand(by("Blinds")!, { kind: "cover", open: true }).publishes[0]!.payload).toBe('{"state":"OPEN"}');
    expect(buildCommand(by("Thermostat")!, { kind: "temperature", value: 21.5 }).publishes[0]!.payload).toBe('{"occupied_heating_setpoint":21.5}');
    const echo = buildCommand(by("Front door")!, { kind: "lock", locked: true }).expect!;
    expect(echo.topic).toBe("zigbee2mqtt/Front door");
    expect(echo.confirms(Buffer.from('{"state":"LOCK","lock_state":"locked"}'))).toBe(true);
    expect(echo.confirms(Buffer.from('{"state":"UNLOCK","lock_state":"unlocked"}'))).toBe(false);
  });
});

describe("Home Assistant discovery", () => {
  it("splits discovery topics with and without a node id", () => {
    expect(parseDiscoveryTopic("homeassistant/light/kitchen/config", "homeassistant")).toEqual({ component: "light", objectId: "kitchen" });
    expect(parseDiscoveryTopic("homeassistant/cover/garage/door/config", "homeassistant")).toEqual({ component: "cover", nodeId: "garage", objectId: "door" });
    expect(parseDiscoveryTopic("homeassistant/light/kitchen/state", "homeassistant")).toBeUndefined();
  });
  it("expands abbreviations and ~ at either end of a topic", () => {
    const c = expandDiscovery({ "~": "tasmota/fan/", cmd_t: "~cmnd/POWER", stat_t: "stat~", pl_on: "1", dev: { sa: "Office", ids: ["x"] } });
    expect(c).toMatchObject({ command_topic: "tasmota/fan/cmnd/POWER", state_topic: "stattasmota/fan/", payload_on: "1", device: { suggested_area: "Office", identifiers: ["x"] } });
  });
  it("builds devices with HA defaults; skips components it can't drive; rejects configs without a command topic", () => {
    const lock = parseHaDiscovery({ component: "lock", objectId: "back" }, { "~": "home/back", name: "Back door", cmd_t: "~/set", stat_t: "~/state", dev: { sa: "Hallway" } })!;
    expect(lock).toMatchObject({ type: "lock", area: "Hallway", deviceClass: "door", ha: { commandTopic: "home/back/set", stateTopic: "home/back/state", payloadLock: "LOCK", stateLocked: "LOCKED" } });
    expect(buildCommand(lock, { kind: "lock", locked: false }).publishes).toEqual([{ topic: "home/back/set", payload: "UNLOCK" }]);
    expect(buildCommand(lock, { kind: "lock", locked: false }).expect!.confirms(Buffer.from("UNLOCKED"))).toBe(true);
    const dimmer = parseHaDiscovery({ component: "light", objectId: "d" }, { name: "Dimmer", cmd_t: "d/set", bri_cmd_t: "d/bri", bri_scl: 100, stat_t: "d/state" })!;
    expect(buildCommand(dimmer, { kind: "light", brightness: 30 }).publishes).toEqual([{ topic: "d/bri", payload: "30" }]);
    expect(parseHaDiscovery({ component: "sensor", objectId: "t" }, { name: "T", stat_t: "t" })).toBeUndefined();
    expect(() => parseHaDiscovery({ component: "switch", objectId: "s" }, { name: "S" })).toThrow(/no command topic/);
    const garage = parseHaDiscovery({ component: "cover", objectId: "g" }, { name: "Door", dev_cla: "garage", cmd_t: "g/c" })!;
    expect(garage.deviceClass).toBe("garage");
  });
  it("config devices use HA's key names and are checked", () => {
    const { devices, problems } = parseConfigDevices([
      { name: "Porch light", type: "light", area: "Outside", command_topic: "porch/set", state_topic: "porch/state" },
      { name: "Movie time", type: "scene", steps: [{ target: "living room", state: "off" }] },
      { name: "Nope", type: "toaster", command_topic: "x" },
      { name: "No topic", type: "switch" },
    ]);
    expect(devices.map((d) => d.name)).toEqual(["Porch light", "Movie time"]);
    expect(problems).toEqual([
      expect.stringMatching(/devices\[2\] \(Nope\): "type" must be one of/),
      expect.stringMatching(/devices\[3\] \(No topic\): needs command_topic/),
    ]);
  });
});

describe("plugin config", () => {
  it("a malformed number names the key and keeps the default; good values are used", async () => {
    const { readConfig } = await import("../tools/smarthome/service.js");
    const bad = readConfig({ answerTimeoutMs: -5, maxTemperature: "hot" });
    expect(bad.config.answerTimeoutMs).toBe(2500);
    expect(bad.config.maxTemperature).toBe(30);
    expect(bad.problems).toEqual([
      "plugins.smarthome.answerTimeoutMs must be a positive number, not -5 (using 2500)",
      'plugins.smarthome.maxTemperature must be a number, not "hot" (using 30)',
    ]);
    const good = readConfig({ answerTimeoutMs: 4000 });
    expect(good.config.answerTimeoutMs).toBe(4000);
    expect(good.problems).toEqual([]);
  });
});
