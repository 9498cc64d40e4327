// Log lines for journald: when stdout is the journal (systemd sets $JOURNAL_STREAM to its device:inode),
// each record becomes one plain-text line "<N>message key=value ..." where <N> is the syslog priority
// (journald reads it into PRIORITY=, so `journalctl -p warning` and the colours work). journald stamps the
// time and the unit itself, so neither is repeated. pino still builds the record; this only re-renders it.
import { fstatSync } from "node:fs";
import { pino, type DestinationStream } from "pino";

export type LogFormat = "json" | "journal";

/** pino level number -> syslog priority (debug 7, info 6, warn 4, error 3, fatal 2). */
export function syslogPriority(level: number): number {
  if (level >= 60) return 2;
  if (level >= 50) return 3;
  if (level >= 40) return 4;
  if (level >= 30) return 6;
  return 7;
}

const LEVEL_NUMBERS: Record<string, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };
const SKIP = new Set(["level", "time", "msg"]);

/** One pino JSON record -> one journal line (no trailing newline). Lines that are not JSON pass through as info. */
export function journalLine(json: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return `<6>${json.trim().replace(/\n/g, "\\n")}`;
  }
  const level = typeof rec.level === "number" ? rec.level : LEVEL_NUMBERS[String(rec.level)] ?? 30;
  const parts = [typeof rec.msg === "string" ? rec.msg.replace(/\n/g, "\\n") : ""];
  for (const [k, v] of Object.entries(rec)) {
    if (SKIP.has(k) || v === undefined) continue;
    parts.push(`${k}=${renderValue(v)}`);
  }
  return `<${syslogPriority(level)}>${parts.filter((p) => p !== "").join(" ")}`;
}

function renderValue(v: unknown): string {
  if (typeof v === "string") return /^[^\s"=\\]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return String(v);
  return JSON.stringify(v) ?? String(v);
}

/** Is file descriptor `fd` the journal stream named by $JOURNAL_STREAM ("DEVICE:INODE")? */
export function isJournalStream(env: NodeJS.ProcessEnv = process.env, fd = 1): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? "");
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/**
 * The format for stdout: $NEEDLED_LOG_FORMAT (json | journal) when set, else journal when stdout is the
 * journal stream. (Only the check of the actual descriptor is trusted: a JOURNAL_STREAM inherited by a
 * process whose stdout was redirected elsewhere, as in tests run from a service, keeps JSON.)
 */
export function logFormatFromEnv(env: NodeJS.ProcessEnv = process.env, fd = 1): LogFormat {
  const forced = env.NEEDLED_LOG_FORMAT;
  if (forced === "json" || forced === "journal") return forced;
  return isJournalStream(env, fd) ? "journal" : "json";
}

/** A pino destination that writes journal lines to `inner` (stdout, synchronously, by default). */
export function journalDestination(inner?: DestinationStream): DestinationStream & { flush?: () => void } {
  const out = inner ?? pino.destination({ dest: 1, sync: true });
  return {
    write(chunk: string): void {
      let text = "";
      for (const line of chunk.split("\n")) if (line.trim() !== "") text += `${journalLine(line)}\n`;
      if (text) out.write(text);
    },
    flush(): void {
      (out as { flushSync?: () => void }).flushSync?.();
    },
  };
}
