// The timers plugin with a real plugin context (real files, the real persistent scheduler).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeviceEvent, Reply } from "../src/plugins/api.js";
import { ToolError } from "../src/plugins/api.js";
import { createPluginContext, type PluginContextHandle } from "../src/daemon/plugin-context.js";
import plugin from "../tools/timers/index.js";
import { setTimer } from "../tools/timers/service.js";

interface Sent {
  device: string | undefined;
  event: DeviceEvent;
}

let stateDir: string;
const open: PluginContextHandle[] = [];

async function boot(events: Sent[], config: Record<string, unknown> = {}, arm = true): Promise<PluginContextHandle> {
  const ctx = await createPluginContext({
    name: "timers",
    stateDir,
    config,
    notify: (device, event) => events.push({ device, event }),
  });
  open.push(ctx);
  await plugin.start?.(ctx);
  if (arm) ctx.startScheduler();
  return ctx;
}

async function call(ctx: PluginContextHandle, tool: string, args: Record<string, unknown>, device = "watch-1", utterance?: string): Promise<Reply> {
  const def = plugin.tools.find((t) => t.name === tool);
  if (!def) throw new Error(`no tool ${tool}`);
  return def.handler(args, ctx.forCall({ device, ...(utterance ? { utterance } : {}) }));
}

async function waitFor<T>(what: () => T | undefined, timeoutMs: number, label: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = what();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), "needled-timers-"));
});
afterEach(async () => {
  for (const ctx of open.splice(0)) await ctx.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe("timers plugin", () => {
  it("declares exactly the six catalogue tools from tools.json", () => {
    expect(plugin.tools.map((t) => t.name).sort()).toEqual(
      ["cancel_alarm", "cancel_timer", "set_alarm", "set_reminder", "set_timer", "timer_status"],
    );
    expect(plugin.tools.find((t) => t.name === "set_timer")?.parameters).toMatchObject({ required: ["duration"] });
  });

  it("a 2-second pasta timer fires timer.fired to the device that asked, then is gone", async () => {
    const events: Sent[] = [];
    const ctx = await boot(events);
    const reply = await call(ctx, "set_timer", { duration: "2 seconds", name: "pasta" }, "watch-7");
    expect(reply.say).toBe("Pasta timer set for 2 seconds.");
    expect((await call(ctx, "timer_status", {})).say).toMatch(/^[12] seconds? left on the pasta timer\.$/);
    const fired = await waitFor(() => events.find((e) => e.event.type === "timer.fired"), 5000, "timer.fired");
    expect(fired.device).toBe("watch-7");
    expect(fired.event.say).toBe("Your pasta timer is done.");
    expect(fired.event.data).toMatchObject({ name: "pasta", late: false, seconds: 2 });
    await waitFor(() => (ctx.scheduler.list().length === 0 ? true : undefined), 2000, "job removal");
    expect((await call(ctx, "timer_status", {})).say).toBe("There's no timer running.");
  });

  it("cancel and status with several timers and no name give a clear reply and cancel nothing", async () => {
    const ctx = await boot([]);
    await call(ctx, "set_timer", { duration: "8 minutes", name: "pasta" });
    await call(ctx, "set_timer", { duration: "ten minutes" });
    const ask = await call(ctx, "cancel_timer", {});
    expect(ask.say).toMatch(/^You have 2 timers: pasta \(8 minutes left\) and 10-minute timer \(10 minutes left\)\. Which one/);
    expect(ctx.scheduler.list()).toHaveLength(2);
    const status = await call(ctx, "timer_status", {});
    expect(status.say).toMatch(/^Pasta: 8 minutes left\. 10-minute timer: 10 minutes left\.$/);
    expect((await call(ctx, "cancel_timer", { name: "the pasta timer" })).say).toBe("Pasta timer cancelled.");
    expect(ctx.scheduler.list()).toHaveLength(1);
    // the unnamed one by its length
    expect((await call(ctx, "cancel_timer", { name: "10 minute" })).say).toBe("Timer cancelled.");
    expect(ctx.scheduler.list()).toHaveLength(0);
  });

  it("'cancel all my timers' cancels all of them", async () => {
    const ctx = await boot([]);
    await call(ctx, "set_timer", { duration: "1 minute", name: "eggs" });
    await call(ctx, "set_timer", { duration: "2 minutes", name: "tea" });
    const r = await call(ctx, "cancel_timer", {}, "watch-1", "cancel all my timers");
    expect(r.say).toBe("Cancelled 2 timers.");
    expect(ctx.scheduler.list()).toHaveLength(0);
  });

  it("setting a timer with a name in use resets it instead of adding a second", async () => {
    const ctx = await boot([]);
    await call(ctx, "set_timer", { duration: "5 minutes", name: "pasta" });
    const r = await call(ctx, "set_timer", { duration: "an hour and a half", name: "Pasta" });
    expect(r.say).toBe("Pasta timer reset to 1 hour 30 minutes.");
    expect(ctx.scheduler.list()).toHaveLength(1);
  });

  it("bad durations are clear errors, and nothing is scheduled", async () => {
    const ctx = await boot([]);
    await expect(call(ctx, "set_timer", { duration: "pasta" })).rejects.toThrow(ToolError);
    await expect(call(ctx, "set_timer", { duration: "pasta" })).rejects.toThrow(/couldn't understand "pasta" as a duration/);
    await expect(call(ctx, "set_timer", { duration: "5" })).rejects.toThrow(/5 what\?/);
    await expect(call(ctx, "set_timer", { duration: "30 days" })).rejects.toThrow(/at most 7 days/);
    expect(ctx.scheduler.list()).toHaveLength(0);
    await expect(call(ctx, "cancel_timer", { name: "pasta" })).resolves.toMatchObject({ say: "There's no timer running." });
  });

  it("timers survive a context restart; one that fell due while down fires at once, marked late", async () => {
    const first: Sent[] = [];
    // the jobs are stored, but the "process" dies before its scheduler runs anything
    const ctx1 = await boot(first, {}, false);
    // due 3 minutes ago, 10 s ago, and in an hour
    await setTimer(ctx1, "watch-2", { duration: "5 minutes", name: "pasta" }, Date.now() - 8 * 60_000);
    await call(ctx1, "set_timer", { duration: "1 hour", name: "bread" }, "watch-2");
    await call(ctx1, "set_alarm", { time: "7 am", day: "weekdays" }, "watch-2");
    await ctx1.close();
    expect(first).toHaveLength(0);
    open.splice(open.indexOf(ctx1), 1);

    const second: Sent[] = [];
    const ctx2 = await boot(second);
    const late = await waitFor(() => second.find((e) => e.event.type === "timer.fired"), 3000, "late timer");
    expect(late.device).toBe("watch-2");
    expect(late.event.say).toBe("Your pasta timer finished 3 minutes ago.");
    expect(late.event.data).toMatchObject({ late: true });
    const kinds = ctx2.scheduler.list().map((j) => j.data.kind).sort();
    await waitFor(() => (ctx2.scheduler.list().length === 2 ? true : undefined), 2000, "late job removed");
    expect(kinds).toContain("alarm");
    expect((await call(ctx2, "timer_status", { name: "bread" })).say).toMatch(/^(59 minutes \d+ seconds|1 hour) left on the bread timer\.$/);
  });

  it("one-off and recurring alarms: set, listed, cancelled by time", async () => {
    const ctx = await boot([]);
    const once = await call(ctx, "set_alarm", { time: "6:45", day: "tomorrow" });
    expect(once.say).toBe("Alarm set for 6:45 AM tomorrow.");
    const rec = await call(ctx, "set_alarm", { time: "seven thirty am", day: "weekdays", name: "work" });
    expect(rec.say).toBe("Work alarm set for 7:30 AM on weekdays.");
    const jobs = ctx.scheduler.list();
    expect(jobs.find((j) => j.cron)?.cron).toBe("30 7 * * 1,2,3,4,5");
    const tomorrow = new Date();
    tomorrow.setDate(tomorrow.getDate() + 1);
    tomorrow.setHours(6, 45, 0, 0);
    expect(jobs.find((j) => j.at)?.at).toBe(tomorrow.getTime());

    // listed by when they ring next: before 7:30 on a weekday the recurring one rings first
    const weekday = new Date();
    weekday.setHours(7, 30, 0, 0);
    while (weekday.getTime() <= Date.now() || weekday.getDay() === 0 || weekday.getDay() === 6) weekday.setDate(weekday.getDate() + 1);
    const order = weekday.getTime() < tomorrow.getTime()
      ? "7:30 AM on weekdays and 6:45 AM tomorrow"
      : "6:45 AM tomorrow and 7:30 AM on weekdays";
    const ask = await call(ctx, "cancel_alarm", {});
    expect(ask.say).toMatch(new RegExp(`^You have 2 alarms: ${order}\\. Which one`));
    await expect(call(ctx, "cancel_alarm", { time: "9 pm" })).rejects.toThrow(/no alarm at 9 pm/);
    expect((await call(ctx, "cancel_alarm", { time: "7:30" })).say).toBe("Deleted the 7:30 AM on weekdays alarm.");
    expect(ctx.scheduler.list()).toHaveLength(1);
    expect((await call(ctx, "cancel_alarm", {}, "watch-1", "turn off all my alarms")).say).toMatch(/^Deleted the 6:45 AM tomorrow alarm\.$/);
    expect(ctx.scheduler.list()).toHaveLength(0);
  });

  it("an unparseable alarm time is a clear error", async () => {
    const ctx = await boot([]);
    await expect(call(ctx, "set_alarm", { time: "banana" })).rejects.toThrow(/couldn't understand "banana" as a time/);
    await expect(call(ctx, "set_alarm", { time: "7", day: "someday" })).rejects.toThrow(/don't know the day "someday"/);
    expect(ctx.scheduler.list()).toHaveLength(0);
  });

  it("a reminder 'in 2 seconds' is due on the asking device; one without a time uses the configured default", async () => {
    const events: Sent[] = [];
    const ctx = await boot(events, { reminderDefaultMinutes: 30 });
    const r = await call(ctx, "set_reminder", { text: "call my mom", time: "in 2 seconds" }, "glasses-1");
    expect(r.say).toBe("I'll remind you to call your mom in 2 seconds.");
    const noTime = await call(ctx, "set_reminder", { text: "water the plants" });
    expect(noTime.say).toBe("I'll remind you to water the plants in 30 minutes.");
    const due = await waitFor(() => events.find((e) => e.event.type === "reminder.due"), 5000, "reminder.due");
    expect(due.device).toBe("glasses-1");
    expect(due.event.say).toBe("Reminder: call your mom.");
    expect(due.event.data).toMatchObject({ text: "call your mom", late: false });
    const clock = await call(ctx, "set_reminder", { text: "take out the bins", time: "tomorrow at 6" });
    expect(clock.say).toBe("I'll remind you to take out the bins tomorrow at 6:00 AM.");
  });
});
