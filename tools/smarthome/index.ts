// The smarthome plugin: devices from Zigbee2MQTT, Home Assistant MQTT discovery and config; commands over
// the daemon's MQTT client, each confirmed by the device's state echo.
import { definePlugin, type CallContext, type Reply, type ToolDefinition } from "../../src/plugins/api.js";
import declarations from "./tools.json" with { type: "json" };
import { makeSmartHome, type SmartHome } from "./service.js";

let home: SmartHome | undefined;
let starting: Promise<SmartHome> | undefined;

/** The instance start() built; a handler called without start() (a bare test harness) starts one. */
function smartHome(ctx: CallContext): Promise<SmartHome> {
  if (home) return Promise.resolve(home);
  starting ??= (async () => {
    const h = makeSmartHome(ctx);
    await h.registry.start();
    home = h;
    return h;
  })();
  return starting;
}

type Handler = (args: Record<string, any>, ctx: CallContext) => Promise<Reply>;

const handlers: Record<string, Handler> = {
  turn_on: async (a, ctx) => (await smartHome(ctx)).turnOn(a.target, ctx.signal),
  turn_off: async (a, ctx) => (await smartHome(ctx)).turnOff(a.target, ctx.signal),
  set_light: async (a, ctx) => (await smartHome(ctx)).setLight(a, ctx.signal),
  set_temperature: async (a, ctx) => (await smartHome(ctx)).setTemperature(a as { temperature: number; target?: string }, ctx.signal),
  lock: async (a, ctx) => (await smartHome(ctx)).lock(a.target, ctx.signal),
  unlock: async (a, ctx) => (await smartHome(ctx)).unlock(a.target, ctx.signal),
  open_cover: async (a, ctx) => (await smartHome(ctx)).openCover(a.target, ctx.signal),
  close_cover: async (a, ctx) => (await smartHome(ctx)).closeCover(a.target, ctx.signal),
  activate_scene: async (a, ctx) => (await smartHome(ctx)).activateScene(a.scene, ctx.signal),
};

/** Opening a garage door or a gate needs a confirmation; blinds and curtains don't. */
function openCoverSensitive(args: Record<string, any>): boolean {
  const target = typeof args.target === "string" ? args.target : undefined;
  if (target && /\b(garage|gate)s?\b/i.test(target)) return true;
  return home?.isGarageOrGate(target) ?? false;
}

type Declaration = Omit<ToolDefinition, "handler">;

const tools: ToolDefinition[] = (declarations as unknown as Declaration[]).map((d) => {
  const handler = handlers[d.name];
  if (!handler) throw new Error(`smarthome: tools.json declares "${d.name}" but the plugin has no handler for it`);
  return d.name === "open_cover" ? { ...d, sensitive: openCoverSensitive, handler } : { ...d, handler };
});

export default definePlugin({
  name: "smarthome",
  version: "1.0.0",
  description: "Lights, switches, locks, covers, thermostats and scenes over MQTT (Zigbee2MQTT, Home Assistant discovery)",
  tools,
  async start(ctx) {
    await home?.registry.stop();
    const h = makeSmartHome(ctx);
    home = h;
    starting = Promise.resolve(h);
    await h.registry.start();
  },
  async stop() {
    await home?.registry.stop();
    home = undefined;
    starting = undefined;
  },
});
