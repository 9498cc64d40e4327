// The smarthome plugin with a real plugin context and the daemon's real MQTT client, against a real
// mosquitto on a random port and the Zigbee2MQTT-shaped fixture program (which also publishes Home
// Assistant discovery configs and echoes their command topics).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Reply } from "../src/plugins/api.js";
import { ToolError } from "../src/plugins/api.js";
import { silentLogger } from "../src/daemon/log.js";
import { SharedMqttClient } from "../src/daemon/mqtt-client.js";
import { createPluginContext, type PluginContextHandle } from "../src/daemon/plugin-context.js";
import plugin from "../tools/smarthome/index.js";
import { startMosquitto, type Mosquitto } from "./helpers/mosquitto.js";
import { startZ2mFixture, type Z2mFixture } from "./helpers/zigbee2mqtt.js";

let broker: Mosquitto;
let fixture: Z2mFixture;
let stateDir: string;
let mqtt: SharedMqttClient | undefined;
let ctx: PluginContextHandle | undefined;

const TIMEOUT = 400;

async function boot(config: Record<string, unknown> = {}, url = broker.url): Promise<PluginContextHandle> {
  mqtt = new SharedMqttClient(url, { log: silentLogger() });
  if (url === broker.url) await mqtt.waitConnected(5000);
  ctx = await createPluginContext({ name: "smarthome", stateDir, config: { answerTimeoutMs: TIMEOUT, ...config }, mqtt });
  await plugin.start?.(ctx);
  return ctx;
}

function call(tool: string, args: Record<string, unknown>): Promise<Reply> {
  const def = plugin.tools.find((t) => t.name === tool)!;
  return Promise.resolve(def.handler(args, ctx!.forCall({ device: "watch-1" })));
}

/** Commands the fixture received since `from` (its stdout lines). */
function received(from: number): Array<{ set: string; payload: string }> {
  return fixture.lines.slice(from).filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

async function silence(names: string[]): Promise<void> {
  await mqtt!.publish("zigbee2mqtt/fixture/silent", JSON.stringify(names), { qos: 1 });
  await new Promise((r) => setTimeout(r, 100));
}

beforeAll(async () => {
  broker = await startMosquitto();
  fixture = await startZ2mFixture(broker.url, ["--ha", "ha.json"]);
  stateDir = await mkdtemp(join(tmpdir(), "needled-home-"));
});
afterAll(async () => {
  await fixture?.stop();
  await broker?.dispose();
  await rm(stateDir, { recursive: true, force: true });
});
afterEach(async () => {
  if (mqtt?.connected) await silence([]);
  await plugin.stop?.();
  await ctx?.close();
  await mqtt?.close();
  ctx = undefined;
  mqtt = undefined;
});

describe("smarthome plugin against mosquitto + the Zigbee2MQTT fixture", () => {
  it("discovers devices from bridge/devices, bridge/groups and Home Assistant discovery", async () => {
    await boot();
    await call("turn_on", { target: "coffee machine" }); // waits for the registry's first device list
    // ask through the tools: every source answers
    expect((await call("turn_off", { target: "ceiling fan" })).say).toBe("Turned off the ceiling fan."); // HA switch, ~ topics
    expect((await call("lock", { target: "back door" })).say).toBe("Locked the back door."); // HA lock
    expect((await call("close_cover", { target: "garage door" })).say).toBe("Closed the garage door."); // HA cover
    expect((await call("activate_scene", { scene: "movie night" })).say).toBe("Activated movie night."); // Z2M group scene
    expect((await call("activate_scene", { scene: "good night" })).say).toBe("Activated good night."); // HA scene
    await expect(call("turn_on", { target: "hallway sensor" })).rejects.toThrow("There's no device called 'hallway sensor'.");
    await expect(call("turn_on", { target: "desk fan" })).rejects.toThrow(/no device called 'desk fan'/); // disabled in Z2M
  });

  it("turns on a room's lights with the Z2M JSON, and each one answers", async () => {
    await boot();
    const from = fixture.lines.length;
    const r = await call("turn_on", { target: "kitchen lights" });
    expect(r.say).toBe("Turned on 3 kitchen lights.");
    const sets = received(from).sort((a, b) => a.set.localeCompare(b.set));
    expect(sets).toEqual([
      { set: "zigbee2mqtt/kitchen/Ceiling light/set", payload: '{"state":"ON"}' },
      { set: "zigbee2mqtt/kitchen/Pantry light/set", payload: '{"state":"ON"}' },
      { set: "zigbee2mqtt/kitchen/Sink light/set", payload: '{"state":"ON"}' },
    ]);
    expect((r.data!.devices as Array<{ outcome: string }>).every((d) => d.outcome === "ok")).toBe(true);
    const bedroom = await call("turn_off", { target: "bedroom" });
    expect(bedroom.say).toBe("Turned off 2 devices in the bedroom.");
  });

  it("says which device did not answer", async () => {
    await boot();
    await call("turn_off", { target: "kitchen lights" });
    await silence(["kitchen/Pantry light"]);
    const t0 = Date.now();
    const r = await call("turn_on", { target: "the kitchen lights" });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(TIMEOUT - 20);
    expect(r.say).toBe("Turned on 2 of 3 kitchen lights; the pantry light didn't answer.");
    await expect(call("turn_off", { target: "pantry light" })).rejects.toThrow("The pantry light didn't answer.");
  });

  it("unknown devices and wrong kinds are clear replies", async () => {
    await boot();
    await expect(call("turn_on", { target: "jacuzzi" })).rejects.toThrow(ToolError);
    await expect(call("turn_on", { target: "jacuzzi" })).rejects.toThrow("There's no device called 'jacuzzi'.");
    await expect(call("lock", { target: "pantry light" })).rejects.toThrow("The pantry light can't be locked.");
    await expect(call("activate_scene", { scene: "disco" })).rejects.toThrow("There's no scene called 'disco'.");
    await expect(call("set_light", { target: "kitchen", color: "sparkly" })).rejects.toThrow("I don't know the colour 'sparkly'.");
  });

  it("lock and unlock payloads, Z2M and Home Assistant; unlock with no target and two locks asks which", async () => {
    await boot();
    let from = fixture.lines.length;
    expect((await call("lock", { target: "the front dor" })).say).toBe("Locked the front door.");
    expect(received(from)).toEqual([{ set: "zigbee2mqtt/Front door/set", payload: '{"state":"LOCK"}' }]);
    from = fixture.lines.length;
    expect((await call("unlock", { target: "back door" })).say).toBe("Unlocked the back door.");
    expect(received(from)).toEqual([{ set: "home/back_door/set", payload: "UNLOCK" }]);
    await expect(call("unlock", {})).rejects.toThrow("Which one? You have the front door and the back door.");
    expect((await call("lock", {})).say).toBe("Locked 2 locks.");
  });

  it("unlock is sensitive; open_cover only for garage doors and gates", () => {
    const unlock = plugin.tools.find((t) => t.name === "unlock")!;
    const open = plugin.tools.find((t) => t.name === "open_cover")!;
    expect(unlock.sensitive).toBe(true);
    expect(typeof open.sensitive).toBe("function");
    const s = open.sensitive as (a: Record<string, unknown>) => boolean;
    expect(s({ target: "garage door" })).toBe(true);
    expect(s({ target: "the front gate" })).toBe(true);
    expect(s({ target: "bedroom blinds" })).toBe(false);
  });

  it("Home Assistant devices: json-schema light, climate, fan switch; covers and thermostats over Z2M", async () => {
    await boot();
    let from = fixture.lines.length;
    expect((await call("set_light", { target: "tv strip", brightness: 50 })).say).toBe("Set the tv strip to 50%.");
    expect(received(from)).toEqual([{ set: "tv/strip/set", payload: '{"state":"ON","brightness":128}' }]);
    from = fixture.lines.length;
    expect((await call("set_temperature", { temperature: 21, target: "office" })).say).toBe("Set the office radiator to 21 degrees.");
    expect(received(from)).toEqual([{ set: "office/trv/target/set", payload: "21" }]);
    from = fixture.lines.length;
    expect((await call("set_temperature", { temperature: 20.5, target: "living room" })).say).toBe("Set the thermostat to 20.5 degrees.");
    expect(received(from)).toEqual([{ set: "zigbee2mqtt/living room/Thermostat/set", payload: '{"occupied_heating_setpoint":20.5}' }]);
    await expect(call("set_temperature", { temperature: 45 })).rejects.toThrow(/outside 5-30/);
    from = fixture.lines.length;
    expect((await call("open_cover", { target: "bedroom blinds" })).say).toBe("Opened the blinds.");
    expect(received(from)).toEqual([{ set: "zigbee2mqtt/bedroom/Blinds/set", payload: '{"state":"OPEN"}' }]);
    from = fixture.lines.length;
    expect((await call("turn_on", { target: "ceiling fan" })).say).toBe("Turned on the ceiling fan.");
    expect(received(from)).toEqual([{ set: "tasmota/fan/cmnd/POWER", payload: "ON" }]);
  });

  it("colours: warm white as colour temperature, blue as xy, a white-only bulb says it can't", async () => {
    await boot();
    let from = fixture.lines.length;
    expect((await call("set_light", { target: "kitchen ceiling", color: "warm white" })).say).toBe("Set the ceiling light to warm white.");
    expect(JSON.parse(received(from)[0]!.payload)).toEqual({ color_temp: 370, state: "ON" });
    from = fixture.lines.length;
    const r = await call("set_light", { target: "kitchen lights", color: "blue", brightness: 30 });
    expect(r.say).toBe("Set 1 of 3 kitchen lights to blue at 30%; the pantry light can't change colour; the sink light can't change colour.");
    const sent = JSON.parse(received(from)[0]!.payload);
    expect(sent).toMatchObject({ state: "ON", brightness: 76 });
    expect(sent.color.x).toBeCloseTo(0.15, 2);
  });

  it("config devices and config scenes; a config device nobody answers for", async () => {
    await boot({
      devices: [
        { name: "Porch light", type: "light", area: "Outside", command_topic: "porch/set", state_topic: "porch/state" },
        { name: "Breakfast", type: "scene", steps: [{ target: "kitchen lights", state: "on" }, { target: "coffee machine" }] },
      ],
    });
    await expect(call("turn_on", { target: "porch light" })).rejects.toThrow("The porch light didn't answer.");
    const from = fixture.lines.length;
    const r = await call("activate_scene", { scene: "breakfast" });
    expect(r.say).toBe("Activated breakfast.");
    expect(received(from).map((x) => x.set).sort()).toEqual([
      "zigbee2mqtt/kitchen/Ceiling light/set",
      "zigbee2mqtt/kitchen/Coffee machine/set",
      "zigbee2mqtt/kitchen/Pantry light/set",
      "zigbee2mqtt/kitchen/Sink light/set",
    ]);
  });

  it("without a reachable broker: a clear reply, and the plugin keeps running", async () => {
    const dead = await startMosquitto();
    const url = dead.url;
    await dead.dispose();
    await boot({}, url);
    await expect(call("turn_on", { target: "kitchen lights" })).rejects.toThrow("I can't reach the smart home: MQTT isn't connected.");
  });
});
