// The navigation plugin: saved places, OSRM routes and travel times, turn-by-turn steps to the device,
// or the destination handed to the paired device when no routing server is configured.
import { definePlugin, type CallContext, type Reply, type ToolDefinition } from "../../src/plugins/api.js";
import declarations from "./tools.json" with { type: "json" };
import { makeNavigator, type Navigator } from "./navigator.js";

let nav: Navigator | undefined;

/** The navigator built in start(); a handler called without start() (a bare test harness) builds one. */
function navigator(ctx: CallContext): Navigator {
  nav ??= makeNavigator(ctx);
  return nav;
}

type Handler = (args: Record<string, any>, ctx: CallContext) => Promise<Reply> | Reply;

const handlers: Record<string, Handler> = {
  navigate: (args, ctx) => navigator(ctx).navigate(ctx.device, args as { destination: string; mode?: string }, ctx.signal),
  travel_time: (args, ctx) => navigator(ctx).travelTime(args as { destination: string; mode?: string }, ctx.signal),
  stop_navigation: (_args, ctx) => navigator(ctx).stop(ctx.device),
};

type Declaration = Omit<ToolDefinition, "handler">;

const tools: ToolDefinition[] = (declarations as unknown as Declaration[]).map((d) => {
  const handler = handlers[d.name];
  if (!handler) throw new Error(`navigation: tools.json declares "${d.name}" but the plugin has no handler for it`);
  return { ...d, handler };
});

export default definePlugin({
  name: "navigation",
  version: "1.0.0",
  description: "Routes and travel times to saved places (OSRM), turn-by-turn steps to the wearable",
  tools,
  start(ctx) {
    nav?.close();
    const mine = makeNavigator(ctx);
    nav = mine;
    ctx.signal.addEventListener("abort", () => mine.close(), { once: true });
  },
  stop() {
    nav?.close();
    nav = undefined;
  },
});
