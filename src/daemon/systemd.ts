// needled under systemd (Type=notify): READY=1 once the daemon is up, STATUS= lines that say how it is,
// WATCHDOG=1 pings from the main event loop at half of WatchdogSec, STOPPING=1 when it is asked to stop.
// Without $NOTIFY_SOCKET every call is a no-op, so `needled start` in a terminal is unchanged.
import type { Health } from "./daemon.js";
import type { DaemonLogger } from "./log.js";
import { NotifyError, NotifySocket, formatMessage, parseNotifySocket, watchdogIntervalMs } from "./systemd-notify.js";

const EAGAIN = 11;
const STATUS_REFRESH_MS = 5000;

export interface SystemdLink {
  /** True when $NOTIFY_SOCKET was given (we run as a Type=notify service). */
  readonly enabled: boolean;
  /** The watchdog ping interval in ms, when systemd asked for one. */
  readonly watchdogMs: number | undefined;
  /** Sends STATUS=text now. */
  status(text: string): void;
  /** READY=1 with the status; later pings refresh STATUS from `describe` whenever its text changes. */
  ready(describe: () => string): void;
  /** STOPPING=1 (with a status); pings go on until close() so a slow shutdown is not killed as hung. */
  stopping(text: string): void;
  /** Stops the pings and closes the socket. */
  close(): void;
}

export interface ConnectOptions {
  log: DaemonLogger;
  /** Defaults to process.env; the notify variables are then removed from it so child processes don't inherit them. */
  env?: NodeJS.ProcessEnv;
  pid?: number;
}

const disabled: SystemdLink = {
  enabled: false,
  watchdogMs: undefined,
  status: () => {},
  ready: () => {},
  stopping: () => {},
  close: () => {},
};

export function connectSystemd(opts: ConnectOptions): SystemdLink {
  const env = opts.env ?? process.env;
  const log = opts.log.child({ component: "systemd" });
  const raw = { socket: env.NOTIFY_SOCKET, usec: env.WATCHDOG_USEC, pid: env.WATCHDOG_PID };
  if (env === process.env) {
    delete process.env.NOTIFY_SOCKET;
    delete process.env.WATCHDOG_USEC;
    delete process.env.WATCHDOG_PID;
  }
  let socket: NotifySocket;
  let intervalMs: number | undefined;
  try {
    const address = parseNotifySocket(raw.socket);
    if (!address) return disabled;
    intervalMs = watchdogIntervalMs({ WATCHDOG_USEC: raw.usec, WATCHDOG_PID: raw.pid }, opts.pid ?? process.pid);
    socket = new NotifySocket(address);
  } catch (err) {
    log.warn("systemd notify is off: the service manager will not see READY or watchdog pings", {
      error: (err as Error).message,
    });
    return disabled;
  }

  let describe: (() => string) | undefined;
  let lastStatus: string | undefined;
  const reported = new Set<number>();
  const send = (fields: Record<string, string | number>): void => {
    try {
      socket.send(formatMessage(fields));
    } catch (err) {
      const errno = err instanceof NotifyError ? err.errno : -1;
      // A full queue drops one message (the next ping follows); anything else is said once per kind.
      if (errno === EAGAIN) log.debug("notify message dropped (socket queue full)", { fields: Object.keys(fields) });
      else if (!reported.has(errno)) {
        reported.add(errno);
        log.warn("cannot reach the service manager's notify socket", { error: (err as Error).message });
      }
    }
  };
  const statusFields = (text: string): Record<string, string> => {
    if (text === lastStatus) return {};
    lastStatus = text;
    return { STATUS: text };
  };

  // The ping runs on the main loop: while a handler (or anything) blocks it, no ping goes out. Without a
  // watchdog the same timer only refreshes STATUS.
  const timer = setInterval(() => {
    let fields: Record<string, string | number> = {};
    if (describe) {
      try {
        fields = statusFields(describe());
      } catch (err) {
        log.debug("status text failed", { error: String(err) });
      }
    }
    if (intervalMs !== undefined) fields = { WATCHDOG: 1, ...fields };
    if (Object.keys(fields).length > 0) send(fields);
  }, intervalMs ?? STATUS_REFRESH_MS);
  timer.unref();
  if (intervalMs !== undefined) log.debug("watchdog pings on", { interval_ms: intervalMs });

  return {
    enabled: true,
    watchdogMs: intervalMs,
    status: (text) => {
      const f = statusFields(text);
      if (f.STATUS !== undefined) send(f);
    },
    ready: (d) => {
      describe = d;
      lastStatus = undefined;
      send({ READY: 1, ...statusFields(d()) });
    },
    stopping: (text) => {
      describe = undefined;
      send({ STOPPING: 1, ...statusFields(text) });
    },
    close: () => {
      clearInterval(timer);
      socket.close();
    },
  };
}

/** One line for `systemctl status`: "ready: 18 tools, broker connected" or what is wrong. */
export function statusLine(h: Health): string {
  if (h.status === "stopping") return `stopping: ${h.inflight} call(s) in flight`;
  const parts = [`${h.tools} tool${h.tools === 1 ? "" : "s"}`];
  if (!h.engine.ok) parts.push(`engine unavailable (${shorten(h.engine.error ?? "unknown", 80)})`);
  if (h.mqtt.enabled) {
    const where = h.mqtt.embeddedBroker ? "embedded broker" : "broker";
    parts.push(h.mqtt.connected ? `${where} connected` : `${where} disconnected${h.mqtt.lastError ? ` (${shorten(h.mqtt.lastError, 60)})` : ""}`);
  } else {
    parts.push("MQTT off");
  }
  if (h.http.url) parts.push(`HTTP ${h.http.url.replace(/^http:\/\//, "")}`);
  if (h.plugins.failed.length > 0) parts.push(`${h.plugins.failed.length} plugin(s) failed to load`);
  if (h.state.problems.length > 0) parts.push(`${h.state.problems.length} corrupt state file(s) moved aside`);
  return `${h.status === "ok" ? "ready" : "degraded"}: ${parts.join(", ")}`;
}

function shorten(s: string, max: number): string {
  const line = s.split("\n")[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
