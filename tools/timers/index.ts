// The timers plugin: countdown timers, alarms (one-off and recurring) and reminders.
// Declarations come from the sibling tools.json (the contract shared with training); handlers attach by name.
import { definePlugin, type CallContext, type Reply, type ToolDefinition } from "../../src/plugins/api.js";
import declarations from "./tools.json" with { type: "json" };
import { cancelAlarm, cancelTimer, onFired, setAlarm, setReminder, setTimer, timerStatus } from "./service.js";

type Handler = (args: Record<string, any>, ctx: CallContext) => Promise<Reply> | Reply;

const handlers: Record<string, Handler> = {
  set_timer: (args, ctx) => setTimer(ctx, ctx.device, args as { duration: string; name?: string }),
  cancel_timer: (args, ctx) => cancelTimer(ctx, args as { name?: string }, ctx.utterance),
  timer_status: (args, ctx) => timerStatus(ctx, args as { name?: string }),
  set_alarm: (args, ctx) => setAlarm(ctx, ctx.device, args as { time: string; day?: string; name?: string }),
  cancel_alarm: (args, ctx) => cancelAlarm(ctx, args as { time?: string; day?: string }, ctx.utterance),
  set_reminder: (args, ctx) => setReminder(ctx, ctx.device, args as { text: string; time?: string }),
};

type Declaration = Omit<ToolDefinition, "handler">;

const tools: ToolDefinition[] = (declarations as unknown as Declaration[]).map((d) => {
  const handler = handlers[d.name];
  if (!handler) throw new Error(`timers: tools.json declares "${d.name}" but the plugin has no handler for it`);
  return { ...d, handler };
});

export default definePlugin({
  name: "timers",
  version: "1.0.0",
  description: "Countdown timers, alarms and reminders; they survive restarts and fire late if the hub was down",
  tools,
  start(ctx) {
    ctx.scheduler.onFire((job) => onFired(ctx, job));
  },
});
