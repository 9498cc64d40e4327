// Structured logs via pino: one JSON object per line on stdout, or, when stdout is the journal (running as a
// systemd service), "<N>message key=value" lines that journald reads priorities from (see journal-log.ts).
import { pino, type Logger as Pino, type DestinationStream } from "pino";
import type { Logger } from "../plugins/api.js";
import { journalDestination, logFormatFromEnv, type LogFormat } from "./journal-log.js";

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonLogger extends Logger {
  /** A logger whose lines all carry these fields (e.g. `{plugin: "timers"}`). */
  child(bindings: Record<string, unknown>): DaemonLogger;
  setLevel(level: LogLevel): void;
  /** Writes out anything buffered (call before exit). */
  flush(): void;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
  /** "journal": syslog-prefixed text lines. Default: $NEEDLED_LOG_FORMAT, else journal when stdout is the journal. */
  format?: LogFormat;
}

function wrap(p: Pino): DaemonLogger {
  const at =
    (level: "debug" | "info" | "warn" | "error") =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields) p[level](normalizeFields(fields), msg);
      else p[level](msg);
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (bindings) => wrap(p.child(bindings)),
    setLevel: (level) => {
      p.level = level;
    },
    flush: () => p.flush(),
  };
}

/** Errors put in `fields` keep their message (pino only serializes an Error under the key `err`). */
function normalizeFields(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (v instanceof Error && k !== "err") {
      out ??= { ...fields };
      out[k] = { type: v.name, message: v.message };
    }
  }
  return out ?? fields;
}

export function createLogger(opts: LoggerOptions = {}): DaemonLogger {
  const p = pino(
    {
      level: opts.level ?? "info",
      base: undefined,
      messageKey: "msg",
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    (opts.format ?? (opts.destination ? "json" : logFormatFromEnv())) === "journal"
      ? journalDestination(opts.destination)
      : (opts.destination ?? pino.destination({ dest: 1, sync: true })),
  );
  return wrap(p);
}

/** A logger that drops everything (library use where the caller passed none). */
export function silentLogger(): DaemonLogger {
  return createLogger({ level: "silent" });
}
