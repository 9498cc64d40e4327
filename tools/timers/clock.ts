// Spoken clock times and days -> concrete times ("half past seven", "tomorrow at 6", "7:30 pm on weekdays").
// Pure: every function that depends on the present takes `now`.
import { parseDuration } from "./duration.js";
import { isDigits, readNumber, tokenize } from "./words.js";

export interface ClockTime {
  /** 0-23 when known; for an ambiguous time the hour as said (1-12). */
  hour: number;
  minute: number;
  /** A bare hour without am/pm or a part of the day: either of hour and hour+12. */
  ambiguous: boolean;
}

/** 0 = Sunday ... 6 = Saturday (Date#getDay and cron). */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export type DaySpec =
  | { kind: "next" }
  | { kind: "today" }
  | { kind: "tomorrow" }
  | { kind: "weekday"; day: Weekday }
  | { kind: "recurring"; days: Weekday[] };

export class TimeParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TimeParseError";
  }
}

const WEEKDAYS: Record<string, Weekday> = {
  sunday: 0, sun: 0, monday: 1, mon: 1, tuesday: 2, tue: 2, tues: 2, wednesday: 3, wed: 3,
  thursday: 4, thu: 4, thur: 4, thurs: 4, friday: 5, fri: 5, saturday: 6, sat: 6,
};
const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const ALL_DAYS: Weekday[] = [0, 1, 2, 3, 4, 5, 6];
const WORK_DAYS: Weekday[] = [1, 2, 3, 4, 5];
const WEEKEND_DAYS: Weekday[] = [0, 6];

/** Words that carry no time information here ("at", "on", "the", "alarm"...). */
const NOISE = new Set(["at", "on", "the", "for", "by", "around", "about", "this", "and", "alarm", "an", "a", "set", "of", "me", "please", "every", "each", "next", "coming"]);

type Meridiem = "am" | "pm" | "night";

interface Extracted {
  day?: DaySpec;
  meridiem?: Meridiem;
  rest: string[];
}

function weekdayOf(token: string): { day: Weekday; plural: boolean } | undefined {
  if (token in WEEKDAYS) return { day: WEEKDAYS[token]!, plural: false };
  if (token.endsWith("s") && token.slice(0, -1) in WEEKDAYS && token.length > 4) {
    return { day: WEEKDAYS[token.slice(0, -1)]!, plural: true };
  }
  return undefined;
}

/** Pulls day words and parts of the day out of the tokens; what is left is the clock time. */
function extractDay(tokens: string[]): Extracted {
  const rest: string[] = [];
  let day: DaySpec | undefined;
  let meridiem: Meridiem | undefined;
  const recurringDays = new Set<Weekday>();
  let recurring = false;
  const setDay = (d: DaySpec) => {
    if (day && day.kind !== d.kind) throw new TimeParseError("That names two different days.");
    day = d;
  };
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const prev = tokens[i - 1];
    const every = prev === "every" || prev === "each";
    if (t === "today") setDay({ kind: "today" });
    else if (t === "tonight") {
      setDay({ kind: "today" });
      meridiem = "night";
    } else if (t === "tomorrow" || t === "tmrw" || t === "tomorrows") setDay({ kind: "tomorrow" });
    else if (t === "daily" || t === "everyday" || (every && t === "day") || (t === "days" && prev === "all")) {
      recurring = true;
      ALL_DAYS.forEach((d) => recurringDays.add(d));
    } else if (t === "weekdays" || t === "workdays" || t === "weekday" || t === "workday" || (t === "days" && prev === "work") || (t === "days" && prev === "week")) {
      recurring = true;
      WORK_DAYS.forEach((d) => recurringDays.add(d));
      if (rest[rest.length - 1] === "work" || rest[rest.length - 1] === "week") rest.pop();
    } else if (t === "weekends" || t === "weekend") {
      recurring = true;
      WEEKEND_DAYS.forEach((d) => recurringDays.add(d));
    } else if (t === "morning" || t === "mornings") {
      meridiem = "am";
      if (every || t === "mornings") {
        recurring = true;
        if (recurringDays.size === 0) ALL_DAYS.forEach((d) => recurringDays.add(d));
      }
    } else if (t === "afternoon" || t === "evening" || t === "afternoons" || t === "evenings") {
      meridiem = "pm";
      if (every || t.endsWith("s")) {
        recurring = true;
        if (recurringDays.size === 0) ALL_DAYS.forEach((d) => recurringDays.add(d));
      }
    } else if (t === "night" || t === "nights") {
      meridiem = "night";
      if (every || t === "nights") {
        recurring = true;
        if (recurringDays.size === 0) ALL_DAYS.forEach((d) => recurringDays.add(d));
      }
    } else if (weekdayOf(t)) {
      const w = weekdayOf(t)!;
      // "every monday", "mondays", "monday and wednesday" after an "every": recurring
      if (every || w.plural || recurring) {
        recurring = true;
        recurringDays.add(w.day);
      } else if (day && day.kind === "weekday") {
        // "monday and friday" without "every": still a set of days, taken as recurring
        recurring = true;
        recurringDays.add(day.day);
        recurringDays.add(w.day);
        day = undefined;
      } else setDay({ kind: "weekday", day: w.day });
    } else rest.push(t);
  }
  if (recurring) {
    if (day && day.kind !== "weekday") throw new TimeParseError("That mixes a single day with a repeating one.");
    if (day && day.kind === "weekday") recurringDays.add(day.day);
    day = { kind: "recurring", days: [...recurringDays].sort() as Weekday[] };
  }
  const out: Extracted = { rest };
  if (day) out.day = day;
  if (meridiem) out.meridiem = meridiem;
  return out;
}

function minuteWord(tokens: string[], i: number): { value: number; next: number } | undefined {
  const t = tokens[i];
  if (t === "half") return { value: 30, next: i + 1 };
  if (t === "quarter") return { value: 15, next: i + 1 };
  const n = readNumber(tokens, i);
  if (!n) return undefined;
  let next = n.next;
  if (tokens[next] === "minutes" || tokens[next] === "minute" || tokens[next] === "mins" || tokens[next] === "min") next++;
  return { value: n.value, next };
}

/** Parses the clock part (tokens without day words). */
function parseClockTokens(tokensIn: string[], meridiemHint: Meridiem | undefined): ClockTime {
  let tokens = tokensIn.filter((t) => !NOISE.has(t));
  let meridiem: Meridiem | undefined = meridiemHint;
  // am / pm, also "a m"
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === "am" || t === "pm") meridiem = t;
    else if ((t === "a" || t === "p") && tokens[i + 1] === "m") {
      meridiem = t === "a" ? "am" : "pm";
      i++;
    } else if (t === "oclock" || t === "hours" || t === "hrs" || t === "in") continue;
    else out.push(t);
  }
  tokens = out;
  if (tokens.length === 0) throw new TimeParseError("I didn't hear a time.");

  let hour: number | undefined;
  let minute = 0;
  let exact = false;
  const [first] = tokens;
  if (tokens.length === 1 && (first === "noon" || first === "midday")) {
    return { hour: 12, minute: 0, ambiguous: false };
  }
  if (tokens.length === 1 && first === "midnight") return { hour: 0, minute: 0, ambiguous: false };

  let consumed = 0;
  const colon = first !== undefined ? /^(\d{1,2})[:.](\d{2})$/.exec(first) : null;
  if (colon) {
    hour = Number(colon[1]);
    minute = Number(colon[2]);
    consumed = 1;
  } else if (first !== undefined && /^\d{3,4}$/.test(first)) {
    const n = Number(first);
    hour = Math.floor(n / 100);
    minute = n % 100;
    consumed = 1;
    if (first.length === 4) exact = true; // "0730", "1930": a 24-hour clock
  } else {
    // "half past seven", "quarter to eight", "ten past six", "5 minutes to 9"
    const m = minuteWord(tokens, 0);
    const rel = m ? tokens[m.next] : undefined;
    if (m && (rel === "past" || rel === "after" || rel === "to" || rel === "till" || rel === "til" || rel === "before")) {
      const h = readNumber(tokens, m.next + 1) ?? ((tokens[m.next + 1] === "noon" || tokens[m.next + 1] === "midnight") ? { value: tokens[m.next + 1] === "noon" ? 12 : 0, next: m.next + 2 } : undefined);
      if (!h) throw new TimeParseError(`I couldn't tell the hour in "${tokensIn.join(" ")}".`);
      if (m.value < 1 || m.value > 59) throw new TimeParseError("Minutes must be between 1 and 59.");
      if (rel === "past" || rel === "after") {
        hour = h.value;
        minute = m.value;
      } else {
        // "quarter to one" -> 12:45 (either half of the day unless am/pm says); "to midnight" -> 23:xx
        hour = h.value === 0 ? 23 : h.value === 1 ? 12 : h.value - 1;
        minute = 60 - m.value;
      }
      if (tokens[m.next + 1] === "noon" || tokens[m.next + 1] === "midnight") exact = true;
      consumed = h.next;
    } else {
      const h = readNumber(tokens, 0);
      if (!h || !Number.isInteger(h.value)) throw new TimeParseError(`I couldn't understand "${tokensIn.join(" ")}" as a time.`);
      hour = h.value;
      consumed = h.next;
      // "seven thirty", "seven oh five", "6 45"
      if (tokens[consumed] === "oh" || tokens[consumed] === "o") {
        const m2 = readNumber(tokens, consumed + 1);
        if (!m2 || m2.value > 9) throw new TimeParseError(`I couldn't understand "${tokensIn.join(" ")}" as a time.`);
        minute = m2.value;
        consumed = m2.next;
      } else if (tokens[consumed] !== undefined) {
        const m2 = readNumber(tokens, consumed);
        if (m2) {
          minute = m2.value;
          consumed = m2.next;
        }
      }
    }
  }
  if (consumed < tokens.length) {
    throw new TimeParseError(`I couldn't understand "${tokensIn.join(" ")}" as a time.`);
  }
  if (hour === undefined || !Number.isInteger(hour) || !Number.isInteger(minute)) {
    throw new TimeParseError(`I couldn't understand "${tokensIn.join(" ")}" as a time.`);
  }
  if (hour > 23 || minute > 59 || hour < 0 || minute < 0) {
    throw new TimeParseError(`${hour}:${String(minute).padStart(2, "0")} is not a time of day.`);
  }
  if (meridiem === "am" || meridiem === "pm") {
    if (hour > 12) {
      if (meridiem === "am") throw new TimeParseError(`${hour} am is not a time of day.`);
      return { hour, minute, ambiguous: false };
    }
    if (hour === 0) return { hour: 0, minute, ambiguous: false };
    const h24 = meridiem === "am" ? hour % 12 : (hour % 12) + 12;
    return { hour: h24, minute, ambiguous: false };
  }
  if (meridiem === "night") {
    // "11 at night" -> 23:00, "12 at night" -> midnight, "2 at night" -> 02:00
    if (hour === 12) return { hour: 0, minute, ambiguous: false };
    if (hour >= 1 && hour < 5) return { hour, minute, ambiguous: false };
    return { hour: hour > 12 ? hour : hour + 12, minute, ambiguous: false };
  }
  if (exact || hour === 0 || hour > 12) return { hour, minute, ambiguous: false };
  return { hour, minute, ambiguous: true };
}

export interface TimeSpec {
  clock: ClockTime;
  day: DaySpec;
}

/**
 * Parses an alarm's time and optional day, e.g. ("6:45", "tomorrow"), ("tomorrow at 6"), ("seven thirty",
 * "weekdays"), ("7 am", "every monday"). Throws TimeParseError with a user-facing message.
 */
export function parseTimeSpec(time: string, day?: string): TimeSpec {
  const fromTime = extractDay(tokenize(time));
  const fromDay = day ? extractDay(tokenize(day)) : undefined;
  if (fromDay && fromDay.rest.filter((t) => !NOISE.has(t)).length > 0 && !fromDay.day && !fromDay.meridiem) {
    throw new TimeParseError(`I don't know the day "${day}".`);
  }
  let d: DaySpec | undefined = fromTime.day;
  if (fromDay?.day) {
    if (d && JSON.stringify(d) !== JSON.stringify(fromDay.day)) {
      throw new TimeParseError("The time and the day name different days.");
    }
    d = fromDay.day;
  }
  const meridiem = fromTime.meridiem ?? fromDay?.meridiem;
  const clock = parseClockTokens(fromTime.rest, meridiem);
  return { clock, day: d ?? { kind: "next" } };
}

function startOfDay(now: Date, offsetDays: number): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + offsetDays, 0, 0, 0, 0);
}

function at(day: Date, hour: number, minute: number): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), hour, minute, 0, 0);
}

/** The hours a clock time can mean: one, or two for a bare hour (7 -> 7:00 and 19:00; 12 -> 12:00 and 0:00). */
export function candidateHours(clock: ClockTime): number[] {
  if (!clock.ambiguous) return [clock.hour];
  return [clock.hour % 12, (clock.hour % 12) + 12];
}

function allowedOffsets(day: DaySpec, now: Date): number[] {
  switch (day.kind) {
    case "next":
      return [0, 1];
    case "today":
      return [0];
    case "tomorrow":
      return [1];
    case "weekday": {
      const delta = (day.day - now.getDay() + 7) % 7;
      return delta === 0 ? [0, 7] : [delta];
    }
    case "recurring": {
      const out: number[] = [];
      for (let k = 0; k <= 7; k++) if (day.days.includes(((now.getDay() + k) % 7) as Weekday)) out.push(k);
      return out;
    }
  }
}

/** The first moment strictly after `now` that the spec names; a bare hour resolves to its next occurrence. */
export function nextOccurrence(spec: TimeSpec, now: Date): Date {
  let best: Date | undefined;
  for (const offset of allowedOffsets(spec.day, now)) {
    for (const hour of candidateHours(spec.clock)) {
      const when = at(startOfDay(now, offset), hour, spec.clock.minute);
      if (when.getTime() > now.getTime() && (!best || when < best)) best = when;
    }
    if (best) break;
  }
  if (!best) {
    throw new TimeParseError(`${formatClock(spec.clock.hour, spec.clock.minute)} has already passed today.`);
  }
  return best;
}

/** For a recurring spec: the concrete hour (resolving a bare hour to its next occurrence) and a node-cron line. */
export function toCron(spec: TimeSpec, now: Date): { cron: string; hour: number; minute: number } {
  if (spec.day.kind !== "recurring") throw new Error("toCron needs a recurring day");
  const first = nextOccurrence(spec, now);
  const hour = first.getHours();
  const minute = spec.clock.minute;
  const days = spec.day.days.length === 7 ? "*" : spec.day.days.join(",");
  return { cron: `${minute} ${hour} * * ${days}`, hour, minute };
}

/** "7:30 AM", "12:00 PM", "12:15 AM". */
export function formatClock(hour: number, minute: number): string {
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  return `${h12}:${String(minute).padStart(2, "0")} ${hour < 12 ? "AM" : "PM"}`;
}

/** "" for today, "tomorrow", "on Monday", or a date beyond a week. */
export function formatDay(when: Date, now: Date): string {
  const days = Math.round((startOfDay(when, 0).getTime() - startOfDay(now, 0).getTime()) / 86_400_000);
  if (days === 0) return "today";
  if (days === 1) return "tomorrow";
  if (days < 7) return `on ${WEEKDAY_NAMES[when.getDay()]}`;
  return `on ${when.toDateString()}`;
}

/** "every day", "on weekdays", "on weekends", "every Monday and Friday". */
export function formatRecurring(days: Weekday[]): string {
  const key = [...days].sort().join(",");
  if (key === "0,1,2,3,4,5,6") return "every day";
  if (key === "1,2,3,4,5") return "on weekdays";
  if (key === "0,6") return "on weekends";
  const names = [...days].sort().map((d) => WEEKDAY_NAMES[d]!);
  const list = names.length > 1 ? `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}` : names[0];
  return `every ${list}`;
}

/** A day name from a `day` argument alone, for matching alarms to cancel ("monday", "weekdays", "tomorrow"). */
export function parseDayOnly(day: string): DaySpec {
  const e = extractDay(tokenize(day));
  if (!e.day) throw new TimeParseError(`I don't know the day "${day}".`);
  return e.day;
}

export type When =
  | { kind: "relative"; seconds: number }
  | { kind: "clock"; spec: TimeSpec };

/** A reminder's "when": "in 20 minutes", "20 minutes from now", "at 5 pm", "tomorrow at 6". */
export function parseWhen(text: string): When {
  const tokens = tokenize(text);
  const core = [...tokens];
  if (core[0] === "in" || core[0] === "after") core.shift();
  if (core.length >= 2 && core[core.length - 2] === "from" && core[core.length - 1] === "now") core.splice(-2, 2);
  else if (core[core.length - 1] === "later") core.pop();
  const seconds = parseDuration(core.join(" "));
  if (seconds !== undefined && !(core.length === 1 && isDigits(core[0]))) return { kind: "relative", seconds };
  return { kind: "clock", spec: parseTimeSpec(text) };
}
