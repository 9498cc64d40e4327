// Timers, alarms and reminders on top of the context's persistent scheduler.
// Everything a job needs when it fires (label, device, duration) lives in the job's data, so the scheduler's
// one atomic jobs file is the whole state: no second file that a crash could leave out of step.
import type { DeviceEvent, FiredJob, PluginContext, Reply, ScheduledJob } from "../../src/plugins/api.js";
import { ToolError } from "../../src/plugins/api.js";
import {
  candidateHours,
  formatClock,
  formatDay,
  formatRecurring,
  nextOccurrence,
  parseDayOnly,
  parseTimeSpec,
  parseWhen,
  TimeParseError,
  toCron,
  type DaySpec,
  type Weekday,
} from "./clock.js";
import { formatAgo, formatDuration, isBareNumber, parseDuration } from "./duration.js";

export const MAX_TIMER_SECONDS = 7 * 86400;

export interface TimerData {
  kind: "timer";
  name?: string;
  seconds: number;
  device: string;
}
export interface AlarmData {
  kind: "alarm";
  hour: number;
  minute: number;
  /** Recurring alarms: the weekdays (0 = Sunday). */
  days?: number[];
  name?: string;
  device: string;
}
export interface ReminderData {
  kind: "reminder";
  text: string;
  device: string;
}

type Ctx = Pick<PluginContext, "scheduler" | "notify" | "log" | "config">;

interface Job<D> {
  id: string;
  data: D;
  due: number;
  at?: number;
  cron?: string;
}

function jobsOf<D extends { kind: string }>(ctx: Ctx, kind: D["kind"]): Array<Job<D>> {
  return ctx.scheduler
    .list()
    .filter((j: ScheduledJob) => (j.data as { kind?: unknown }).kind === kind)
    .map((j) => ({
      id: j.id,
      data: j.data as unknown as D,
      due: ctx.scheduler.nextRun(j.id) ?? j.at ?? 0,
      ...(j.at !== undefined ? { at: j.at } : {}),
      ...(j.cron !== undefined ? { cron: j.cron } : {}),
    }))
    .sort((a, b) => a.due - b.due);
}

function newId(kind: string): string {
  return `${kind}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

const capitalize = (s: string) => (s ? s[0]!.toUpperCase() + s.slice(1) : s);

/** "the Pasta Timer" -> "pasta"; "" when nothing is left. */
export function normalizeName(name: string | undefined): string {
  if (!name) return "";
  return name
    .toLowerCase()
    .replace(/[^\p{L}\p{N}' -]+/gu, " ")
    .split(/\s+/)
    .filter((w) => w && !["the", "a", "an", "my", "timer", "timers", "alarm", "alarms", "one"].includes(w))
    .join(" ")
    .trim();
}

const ALL_WORDS = /\b(all|every|everything|both)\b/i;

function listWords(items: string[]): string {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

// ---------------------------------------------------------------- timers

/** "pasta timer"; an unnamed one by its length: "8-minute timer", "1 hour 30 minutes timer". */
function timerLabel(t: TimerData): string {
  if (t.name) return `${t.name} timer`;
  const d = formatDuration(t.seconds);
  const single = /^(\d+) (\w+?)s?$/.exec(d);
  return single ? `${single[1]}-${single[2]} timer` : `${d} timer`;
}

function matchTimers(timers: Array<Job<TimerData>>, name: string): Array<Job<TimerData>> {
  const n = normalizeName(name);
  if (!n) return timers;
  const byName = timers.filter((t) => t.data.name && (t.data.name === n || t.data.name.includes(n) || n.includes(t.data.name)));
  if (byName.length > 0) return byName;
  // "the 10 minute timer": match an unnamed timer by its duration
  const seconds = parseDuration(n);
  if (seconds !== undefined) return timers.filter((t) => t.data.seconds === seconds);
  return [];
}

export async function setTimer(ctx: Ctx, device: string, args: { duration: string; name?: string }, now = Date.now()): Promise<Reply> {
  const seconds = parseDuration(args.duration);
  if (seconds === undefined) {
    if (isBareNumber(args.duration)) {
      throw new ToolError(`${args.duration} what? Say, for example, "${args.duration.trim()} minutes".`);
    }
    throw new ToolError(`I couldn't understand "${args.duration}" as a duration.`);
  }
  if (seconds > MAX_TIMER_SECONDS) throw new ToolError("Timers can run for at most 7 days; set an alarm instead.");
  const name = normalizeName(args.name) || undefined;
  const existing = name ? jobsOf<TimerData>(ctx, "timer").find((t) => t.data.name === name) : undefined;
  const id = existing?.id ?? newId("timer");
  const data: TimerData = { kind: "timer", seconds, device, ...(name ? { name } : {}) };
  await ctx.scheduler.schedule({ id, at: now + seconds * 1000, data: { ...data } });
  const label = name ? capitalize(`${name} timer`) : "Timer";
  const verb = existing ? "reset to" : "set for";
  return { say: `${label} ${verb} ${formatDuration(seconds)}.`, data: { id, seconds, name: name ?? null, endsAt: now + seconds * 1000 } };
}

function timerList(timers: Array<Job<TimerData>>, now: number): string {
  return listWords(timers.map((t) => `${t.data.name ?? timerLabel(t.data)} (${formatDuration((t.due - now) / 1000)} left)`));
}

export async function cancelTimer(ctx: Ctx, args: { name?: string }, utterance?: string, now = Date.now()): Promise<Reply> {
  const timers = jobsOf<TimerData>(ctx, "timer");
  if (timers.length === 0) return { say: "There's no timer running.", data: { cancelled: [] } };
  const wantsAll = ALL_WORDS.test(args.name ?? "") || (!args.name && utterance !== undefined && ALL_WORDS.test(utterance));
  let targets: Array<Job<TimerData>>;
  if (wantsAll) targets = timers;
  else if (args.name && normalizeName(args.name)) {
    targets = matchTimers(timers, args.name);
    if (targets.length === 0) {
      throw new ToolError(`You have no ${normalizeName(args.name)} timer. Running: ${timerList(timers, now)}.`);
    }
  } else if (timers.length === 1) targets = timers;
  else {
    return {
      say: `You have ${timers.length} timers: ${timerList(timers, now)}. Which one should I cancel?`,
      data: { ambiguous: true, timers: timers.map((t) => ({ id: t.id, name: t.data.name ?? null, left: Math.round((t.due - now) / 1000) })) },
    };
  }
  for (const t of targets) await ctx.scheduler.cancel(t.id);
  const say =
    targets.length === 1
      ? `${capitalize(targets[0]!.data.name ? `${targets[0]!.data.name} timer` : "timer")} cancelled.`
      : `Cancelled ${targets.length} timers.`;
  return { say, data: { cancelled: targets.map((t) => t.id) } };
}

export function timerStatus(ctx: Ctx, args: { name?: string }, now = Date.now()): Reply {
  const timers = jobsOf<TimerData>(ctx, "timer");
  if (timers.length === 0) return { say: "There's no timer running.", data: { timers: [] } };
  let shown = timers;
  if (args.name && normalizeName(args.name)) {
    shown = matchTimers(timers, args.name);
    if (shown.length === 0) throw new ToolError(`You have no ${normalizeName(args.name)} timer. Running: ${timerList(timers, now)}.`);
  }
  const data = { timers: shown.map((t) => ({ id: t.id, name: t.data.name ?? null, left: Math.max(0, Math.round((t.due - now) / 1000)) })) };
  if (shown.length === 1) {
    const t = shown[0]!;
    const left = formatDuration((t.due - now) / 1000);
    return { say: t.data.name ? `${left} left on the ${t.data.name} timer.` : `${left} left.`, data };
  }
  const say = shown.map((t) => `${capitalize(t.data.name ?? timerLabel(t.data))}: ${formatDuration((t.due - now) / 1000)} left.`).join(" ");
  return { say, data };
}

// ---------------------------------------------------------------- alarms

function alarmWhen(a: Job<AlarmData>, now: Date): string {
  const clock = formatClock(a.data.hour, a.data.minute);
  if (a.data.days) return `${clock} ${formatRecurring(a.data.days as Weekday[])}`;
  const day = formatDay(new Date(a.due), now);
  return `${clock} ${day}`;
}

function timeError(err: unknown): never {
  if (err instanceof TimeParseError) throw new ToolError(err.message);
  throw err;
}

export async function setAlarm(ctx: Ctx, device: string, args: { time: string; day?: string; name?: string }, now = new Date()): Promise<Reply> {
  let spec;
  try {
    spec = parseTimeSpec(args.time, args.day);
  } catch (err) {
    timeError(err);
  }
  const name = normalizeName(args.name) || undefined;
  const label = name ? capitalize(`${name} alarm`) : "Alarm";
  if (spec.day.kind === "recurring") {
    let cron;
    try {
      cron = toCron(spec, now);
    } catch (err) {
      timeError(err);
    }
    const id = `alarm-cron-${cron.cron.replace(/[^0-9*]+/g, "_")}`;
    const data: AlarmData = { kind: "alarm", hour: cron.hour, minute: cron.minute, days: spec.day.days, device, ...(name ? { name } : {}) };
    await ctx.scheduler.schedule({ id, cron: cron.cron, data: { ...data } });
    const when = `${formatClock(cron.hour, cron.minute)} ${formatRecurring(spec.day.days)}`;
    return { say: `${label} set for ${when}.`, data: { id, cron: cron.cron, next: ctx.scheduler.nextRun(id) ?? null } };
  }
  let at: Date;
  try {
    at = nextOccurrence(spec, now);
  } catch (err) {
    timeError(err);
  }
  const id = `alarm-at-${at.getTime()}`;
  const data: AlarmData = { kind: "alarm", hour: at.getHours(), minute: at.getMinutes(), device, ...(name ? { name } : {}) };
  await ctx.scheduler.schedule({ id, at: at.getTime(), data: { ...data } });
  return {
    say: `${label} set for ${formatClock(at.getHours(), at.getMinutes())} ${formatDay(at, now)}.`,
    data: { id, at: at.getTime() },
  };
}

function dayMatches(a: Job<AlarmData>, day: DaySpec, now: Date): boolean {
  const dueDay = new Date(a.due);
  const sameDate = (offset: number) => {
    const d = new Date(now.getFullYear(), now.getMonth(), now.getDate() + offset);
    return dueDay.getFullYear() === d.getFullYear() && dueDay.getMonth() === d.getMonth() && dueDay.getDate() === d.getDate();
  };
  switch (day.kind) {
    case "next":
      return true;
    case "today":
      return !a.data.days && sameDate(0);
    case "tomorrow":
      return !a.data.days && sameDate(1);
    case "weekday":
      return a.data.days ? a.data.days.includes(day.day) : dueDay.getDay() === day.day;
    case "recurring":
      return !!a.data.days && day.days.every((d) => a.data.days!.includes(d));
  }
}

export async function cancelAlarm(ctx: Ctx, args: { time?: string; day?: string }, utterance?: string, now = new Date()): Promise<Reply> {
  const alarms = jobsOf<AlarmData>(ctx, "alarm");
  if (alarms.length === 0) return { say: "You have no alarms.", data: { cancelled: [] } };
  let targets = alarms;
  let what = "";
  try {
    if (args.time) {
      const spec = parseTimeSpec(args.time, args.day);
      const hours = candidateHours(spec.clock);
      targets = targets.filter((a) => hours.includes(a.data.hour) && a.data.minute === spec.clock.minute);
      if (spec.day.kind !== "next") targets = targets.filter((a) => dayMatches(a, spec.day, now));
      what = ` at ${args.time}`;
    } else if (args.day) {
      const day = parseDayOnly(args.day);
      targets = targets.filter((a) => dayMatches(a, day, now));
      what = ` for ${args.day}`;
    }
  } catch (err) {
    timeError(err);
  }
  if (targets.length === 0) {
    throw new ToolError(`You have no alarm${what}. Set: ${listWords(alarms.map((a) => alarmWhen(a, now)))}.`);
  }
  if (!args.time && !args.day && targets.length > 1 && !(utterance && ALL_WORDS.test(utterance))) {
    return {
      say: `You have ${targets.length} alarms: ${listWords(targets.map((a) => alarmWhen(a, now)))}. Which one should I delete?`,
      data: { ambiguous: true, alarms: targets.map((a) => ({ id: a.id, when: alarmWhen(a, now) })) },
    };
  }
  for (const a of targets) await ctx.scheduler.cancel(a.id);
  const say =
    targets.length === 1 ? `Deleted the ${alarmWhen(targets[0]!, now)} alarm.` : `Deleted ${targets.length} alarms.`;
  return { say, data: { cancelled: targets.map((a) => a.id) } };
}

// ---------------------------------------------------------------- reminders

/** "to call my mom" -> "call your mom": the reminder is read back to the user. */
export function reminderText(text: string): string {
  const swaps: Record<string, string> = { my: "your", me: "you", i: "you", myself: "yourself", mine: "yours", "i'm": "you're", am: "are" };
  return text
    .trim()
    .replace(/^(remind me\s+)?(to|that|about)\s+/i, "")
    .replace(/[.!?]+$/, "")
    .split(/\s+/)
    .map((w) => swaps[w.toLowerCase()] ?? w)
    .join(" ");
}

export async function setReminder(ctx: Ctx, device: string, args: { text: string; time?: string }, now = new Date()): Promise<Reply> {
  const text = reminderText(args.text ?? "");
  if (!text) throw new ToolError("What should I remind you of?");
  let at: number;
  let when: string;
  if (!args.time || !args.time.trim()) {
    const minutes = Number(ctx.config.reminderDefaultMinutes ?? 60);
    const seconds = (Number.isFinite(minutes) && minutes > 0 ? minutes : 60) * 60;
    at = now.getTime() + seconds * 1000;
    when = `in ${formatDuration(seconds)}`;
  } else {
    let w;
    try {
      w = parseWhen(args.time);
      if (w.kind === "relative") {
        at = now.getTime() + w.seconds * 1000;
        when = `in ${formatDuration(w.seconds)}`;
      } else {
        const d = nextOccurrence(w.spec, now);
        at = d.getTime();
        const day = formatDay(d, now);
        when = `${day === "today" ? "at" : `${day} at`} ${formatClock(d.getHours(), d.getMinutes())}`;
      }
    } catch (err) {
      timeError(err);
    }
  }
  const id = newId("reminder");
  const data: ReminderData = { kind: "reminder", text, device };
  await ctx.scheduler.schedule({ id, at, data: { ...data } });
  return { say: `I'll remind you to ${text} ${when}.`, data: { id, at } };
}

// ---------------------------------------------------------------- firing

/** The event for a job that fell due (also for late jobs at start-up), sent to the device that asked. */
export function eventFor(job: FiredJob, now = Date.now()): { device: string | undefined; event: DeviceEvent } | undefined {
  const data = job.data as { kind?: unknown; device?: unknown };
  const device = typeof data.device === "string" ? data.device : undefined;
  const ago = formatAgo(now - job.dueAt);
  const common = { id: job.id, late: job.late, dueAt: job.dueAt };
  switch (data.kind) {
    case "timer": {
      const t = job.data as unknown as TimerData;
      const label = timerLabel(t);
      return {
        device,
        event: {
          type: "timer.fired",
          say: job.late ? `Your ${label} finished ${ago} ago.` : `Your ${label} is done.`,
          haptic: "alarm",
          data: { ...common, name: t.name ?? null, seconds: t.seconds },
        },
      };
    }
    case "alarm": {
      const a = job.data as unknown as AlarmData;
      const clock = formatClock(a.hour, a.minute);
      const label = a.name ? `${a.name} alarm` : "alarm";
      return {
        device,
        event: {
          type: "alarm.fired",
          say: job.late ? `Your ${clock} ${label} went off ${ago} ago.` : `It's ${clock}: ${label}.`,
          haptic: "alarm",
          data: { ...common, name: a.name ?? null, hour: a.hour, minute: a.minute, recurring: !!a.days },
        },
      };
    }
    case "reminder": {
      const r = job.data as unknown as ReminderData;
      return {
        device,
        event: {
          type: "reminder.due",
          say: job.late ? `Reminder (due ${ago} ago): ${r.text}.` : `Reminder: ${r.text}.`,
          haptic: "tap",
          data: { ...common, text: r.text },
        },
      };
    }
    default:
      return undefined;
  }
}

export function onFired(ctx: Ctx, job: FiredJob): void {
  const out = eventFor(job);
  if (!out) {
    ctx.log.warn("timers: a job of an unknown kind fell due; ignored", { id: job.id });
    return;
  }
  ctx.log.info("timers: fired", { id: job.id, type: out.event.type, late: job.late, device: out.device });
  ctx.notify(out.device, out.event);
}
