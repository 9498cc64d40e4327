import { describe, expect, it } from "vitest";
import { formatAgo, formatDuration, parseDuration } from "../tools/timers/duration.js";
import {
  formatClock,
  formatRecurring,
  nextOccurrence,
  parseTimeSpec,
  parseWhen,
  TimeParseError,
  toCron,
} from "../tools/timers/clock.js";

describe("parseDuration", () => {
  const cases: Array<[string, number]> = [
    ["five minutes", 300],
    ["5 minutes", 300],
    ["8 minutes", 480],
    ["an hour and a half", 5400],
    ["1 hour 15 minutes and 30 seconds", 4530],
    ["90 seconds", 90],
    ["a quarter of an hour", 900],
    ["quarter of an hour", 900],
    ["three quarters of an hour", 2700],
    ["half an hour", 1800],
    ["half a minute", 30],
    ["a minute and a half", 90],
    ["one and a half hours", 5400],
    ["5 and a half minutes", 330],
    ["1.5 hours", 5400],
    ["1h30m", 5400],
    ["2 hrs", 7200],
    ["ten second", 10],
    ["a ten second timer", 10],
    ["twenty five minutes", 1500],
    ["one hundred and twenty seconds", 120],
    ["an hour", 3600],
    ["a minute", 60],
    ["2 hours and 10 minutes", 7800],
    ["1 hour 30", 5400],
    ["five minutes thirty", 330],
    ["for 3 minutes", 180],
    ["a couple of minutes", 120],
    ["an hour and a quarter", 4500],
    ["Forty-five minutes", 2700],
    ["2 days", 172800],
    ["one minute, thirty seconds", 90],
  ];
  for (const [text, seconds] of cases) {
    it(`"${text}" -> ${seconds} s`, () => expect(parseDuration(text)).toBe(seconds));
  }
  for (const bad of ["", "pasta", "5", "half past seven", "minutes", "0 minutes", "five apples", "seven thirty"]) {
    it(`rejects "${bad}"`, () => expect(parseDuration(bad)).toBeUndefined());
  }
});

describe("formatDuration / formatAgo", () => {
  it("formats the two largest units", () => {
    expect(formatDuration(480)).toBe("8 minutes");
    expect(formatDuration(5400)).toBe("1 hour 30 minutes");
    expect(formatDuration(90)).toBe("1 minute 30 seconds");
    expect(formatDuration(1)).toBe("1 second");
    expect(formatDuration(3661)).toBe("1 hour 1 minute");
    expect(formatDuration(3605)).toBe("1 hour");
    expect(formatDuration(90061)).toBe("1 day 1 hour");
  });
  it("says how long ago, coarsely", () => {
    expect(formatAgo(3 * 60_000 + 10_000)).toBe("3 minutes");
    expect(formatAgo(42_000)).toBe("42 seconds");
    expect(formatAgo(60_000)).toBe("1 minute");
    expect(formatAgo(2 * 3600_000 + 60_000)).toBe("2 hours 1 minute");
  });
});

// Wednesday 5 March 2025, 10:00 local time
const NOW = new Date(2025, 2, 5, 10, 0, 0);
const local = (d: number, h: number, m = 0) => new Date(2025, 2, d, h, m, 0, 0);

describe("clock times with a fixed now (Wed 10:00)", () => {
  const cases: Array<[string, string | undefined, Date]> = [
    ["half past seven", undefined, local(5, 19, 30)], // 7:30 has passed today; next is 19:30
    ["quarter to eight", undefined, local(5, 19, 45)],
    ["quarter past 11", undefined, local(5, 11, 15)],
    ["ten past six", undefined, local(5, 18, 10)],
    ["twenty to nine", undefined, local(5, 20, 40)],
    ["5 minutes to 9", undefined, local(5, 20, 55)],
    ["7:30 pm", undefined, local(5, 19, 30)],
    ["7:30 am", undefined, local(6, 7, 30)],
    ["7:30pm", undefined, local(5, 19, 30)],
    ["7 p.m.", undefined, local(5, 19, 0)],
    ["7 a m", undefined, local(6, 7, 0)],
    ["seven thirty", undefined, local(5, 19, 30)],
    ["seven oh five", undefined, local(5, 19, 5)],
    ["six forty five", undefined, local(5, 18, 45)],
    ["noon", undefined, local(5, 12, 0)],
    ["midnight", undefined, local(6, 0, 0)],
    ["6 in the morning", undefined, local(6, 6, 0)],
    ["8 in the evening", undefined, local(5, 20, 0)],
    ["11 at night", undefined, local(5, 23, 0)],
    ["tomorrow at 6", undefined, local(6, 6, 0)],
    ["6", "tomorrow", local(6, 6, 0)],
    ["6:45", "tomorrow", local(6, 6, 45)],
    ["10:30", undefined, local(5, 10, 30)], // bare hour: the next occurrence is this morning
    ["9", undefined, local(5, 21, 0)],
    ["11", undefined, local(5, 11, 0)],
    ["10", undefined, local(5, 22, 0)], // exactly now is not "next"
    ["12", undefined, local(5, 12, 0)],
    ["18:00", undefined, local(5, 18, 0)],
    ["0730", undefined, local(6, 7, 30)],
    ["7 o'clock", undefined, local(5, 19, 0)],
    ["seven", "monday", local(10, 7, 0)],
    ["8 pm", "friday", local(7, 20, 0)],
    ["9 am", "wednesday", local(12, 9, 0)], // today's 9 am has passed: next week's Wednesday
    ["1 pm", "wednesday", local(5, 13, 0)],
    ["tonight at 8", undefined, local(5, 20, 0)],
    ["tomorrow morning at 7", undefined, local(6, 7, 0)],
    ["quarter to one", undefined, local(5, 12, 45)],
    ["at five pm", undefined, local(5, 17, 0)],
    ["12 am", undefined, local(6, 0, 0)],
    ["12:30 pm", undefined, local(5, 12, 30)],
  ];
  for (const [time, day, expected] of cases) {
    it(`"${time}"${day ? ` + "${day}"` : ""} -> ${expected.toString().slice(0, 21)}`, () => {
      expect(nextOccurrence(parseTimeSpec(time, day), NOW).getTime()).toBe(expected.getTime());
    });
  }

  it("a bare hour is marked ambiguous, a stated am/pm is not", () => {
    expect(parseTimeSpec("7").clock).toEqual({ hour: 7, minute: 0, ambiguous: true });
    expect(parseTimeSpec("7 pm").clock).toEqual({ hour: 19, minute: 0, ambiguous: false });
  });

  it("rejects what is not a time, with a clear message", () => {
    for (const bad of ["pasta", "25:00", "7:75", "13 am", "", "seven bananas"]) {
      expect(() => parseTimeSpec(bad), bad).toThrow(TimeParseError);
    }
    expect(() => parseTimeSpec("7", "someday")).toThrow(/day "someday"/);
  });

  it("'today' with a time that has passed is an error, not tomorrow", () => {
    expect(() => nextOccurrence(parseTimeSpec("7 am", "today"), NOW)).toThrow(/already passed/);
  });
});

describe("recurring days -> cron", () => {
  const cases: Array<[string, string | undefined, string, string]> = [
    ["7 am", "weekdays", "0 7 * * 1,2,3,4,5", "on weekdays"],
    ["seven thirty am", "every weekday", "30 7 * * 1,2,3,4,5", "on weekdays"],
    ["9 am", "weekends", "0 9 * * 0,6", "on weekends"],
    ["6:15 am", "daily", "15 6 * * *", "every day"],
    ["6:15 am", "every day", "15 6 * * *", "every day"],
    ["8 am", "every monday", "0 8 * * 1", "every Monday"],
    ["8 am", "mondays", "0 8 * * 1", "every Monday"],
    ["8 am", "every monday and friday", "0 8 * * 1,5", "every Monday and Friday"],
    ["7 am on weekdays", undefined, "0 7 * * 1,2,3,4,5", "on weekdays"],
    ["7", "weekdays", "0 19 * * 1,2,3,4,5", "on weekdays"], // bare hour: next occurrence from Wed 10:00
  ];
  for (const [time, day, cron, said] of cases) {
    it(`"${time}" + "${day}" -> ${cron}`, () => {
      const spec = parseTimeSpec(time, day);
      expect(spec.day.kind).toBe("recurring");
      expect(toCron(spec, NOW).cron).toBe(cron);
      if (spec.day.kind === "recurring") expect(formatRecurring(spec.day.days)).toBe(said);
    });
  }
});

describe("parseWhen (reminders)", () => {
  it("reads relative times", () => {
    expect(parseWhen("in 20 minutes")).toEqual({ kind: "relative", seconds: 1200 });
    expect(parseWhen("in an hour")).toEqual({ kind: "relative", seconds: 3600 });
    expect(parseWhen("20 minutes from now")).toEqual({ kind: "relative", seconds: 1200 });
    expect(parseWhen("half an hour")).toEqual({ kind: "relative", seconds: 1800 });
  });
  it("reads clock times", () => {
    const w = parseWhen("at 5 pm");
    expect(w.kind).toBe("clock");
    if (w.kind === "clock") expect(nextOccurrence(w.spec, NOW).getTime()).toBe(local(5, 17).getTime());
    const t = parseWhen("tomorrow at 6");
    if (t.kind === "clock") expect(nextOccurrence(t.spec, NOW).getTime()).toBe(local(6, 6).getTime());
    else expect.fail("tomorrow at 6 is a clock time");
  });
});

describe("formatClock", () => {
  it("uses a 12-hour clock", () => {
    expect(formatClock(7, 30)).toBe("7:30 AM");
    expect(formatClock(19, 5)).toBe("7:05 PM");
    expect(formatClock(0, 15)).toBe("12:15 AM");
    expect(formatClock(12, 0)).toBe("12:00 PM");
  });
});
