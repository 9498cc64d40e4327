// The daemon's one MQTT connection (mqtt.js), shared by the MQTT channel and every plugin (as ctx.mqtt).
// It never throws the daemon over: a broker that is down is retried with exponential backoff, the state is
// logged and shown in /healthz, and subscriptions are made again on every (re)connect.
import mqtt, { type MqttClient } from "mqtt";
import type { Logger, PluginMqtt } from "../plugins/api.js";

export interface MqttStatus {
  url: string;
  connected: boolean;
  /** Last connection error, when not connected. */
  lastError?: string;
  /** ms since epoch of the last state change. */
  since: number;
  reconnects: number;
}

export interface SharedMqttOptions {
  log: Logger;
  clientId?: string;
  /** First retry delay; doubles up to maxBackoffMs. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Plugins see (topic, payload); the daemon's own channel also reads the retain flag. */
type Handler = (topic: string, payload: Buffer, meta: { retain: boolean }) => void;

export class SharedMqttClient implements PluginMqtt {
  private readonly client: MqttClient;
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly log: Logger;
  private backoff: number;
  private readonly minBackoff: number;
  private readonly maxBackoff: number;
  private state: MqttStatus;
  private closed = false;

  constructor(
    readonly url: string,
    opts: SharedMqttOptions,
  ) {
    this.log = opts.log;
    this.minBackoff = opts.minBackoffMs ?? 500;
    this.maxBackoff = opts.maxBackoffMs ?? 30_000;
    this.backoff = this.minBackoff;
    this.state = { url: redact(url), connected: false, since: Date.now(), reconnects: 0 };
    this.client = mqtt.connect(url, {
      clientId: opts.clientId ?? `needled-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
      reconnectPeriod: this.minBackoff,
      connectTimeout: 5_000,
      // We subscribe again ourselves on every connect (handlers may have been added while offline).
      resubscribe: false,
      clean: true,
    });
    this.client.on("connect", () => {
      this.backoff = this.minBackoff;
      this.client.options.reconnectPeriod = this.backoff;
      this.setState(true);
      this.log.info("mqtt connected", { url: this.state.url });
      for (const filter of this.handlers.keys()) {
        this.client.subscribeAsync(filter).catch((err) => this.log.warn("mqtt subscribe failed", { filter, err }));
      }
    });
    this.client.on("close", () => {
      if (this.state.connected && !this.closed) {
        this.log.warn("mqtt connection lost; reconnecting", { url: this.state.url });
      }
      this.setState(false);
      if (!this.closed) {
        this.client.options.reconnectPeriod = this.backoff;
        this.backoff = Math.min(this.backoff * 2, this.maxBackoff);
      }
    });
    this.client.on("reconnect", () => {
      this.state.reconnects++;
    });
    this.client.on("error", (err) => {
      const msg = err.message || String((err as NodeJS.ErrnoException).code ?? err);
      if (this.state.lastError !== msg) {
        this.log.warn("mqtt broker unreachable; will retry with backoff", { url: this.state.url, error: msg });
      }
      this.state.lastError = msg;
    });
    this.client.on("message", (topic, payload, packet) => {
      const meta = { retain: packet.retain === true };
      for (const [filter, set] of this.handlers) {
        if (!topicMatches(filter, topic)) continue;
        for (const h of set) {
          try {
            h(topic, payload, meta);
          } catch (err) {
            this.log.error("mqtt message handler threw", { topic, err });
          }
        }
      }
    });
  }

  get connected(): boolean {
    return this.client.connected;
  }

  status(): MqttStatus {
    return { ...this.state };
  }

  /** Resolves once connected, or rejects after `timeoutMs` with the last connection error. */
  waitConnected(timeoutMs: number): Promise<void> {
    if (this.connected) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.client.off("connect", ok);
        reject(new Error(`MQTT broker ${this.state.url} not reachable: ${this.state.lastError ?? "timed out"}`));
      }, timeoutMs);
      const ok = () => {
        clearTimeout(t);
        resolve();
      };
      this.client.once("connect", ok);
    });
  }

  async publish(
    topic: string,
    payload: string | Buffer | object,
    options: { retain?: boolean; qos?: 0 | 1 | 2 } = {},
  ): Promise<void> {
    if (!this.connected) {
      throw new Error(`MQTT not connected (broker ${this.state.url}${this.state.lastError ? `: ${this.state.lastError}` : ""})`);
    }
    const body = typeof payload === "string" || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    await this.client.publishAsync(topic, body, { qos: options.qos ?? 0, retain: options.retain ?? false });
  }

  async subscribe(filter: string, handler: Handler): Promise<() => Promise<void>> {
    if (typeof filter !== "string" || filter.length === 0) throw new TypeError("topic filter must be a non-empty string");
    let set = this.handlers.get(filter);
    const isNew = !set;
    if (!set) {
      set = new Set();
      this.handlers.set(filter, set);
    }
    set.add(handler);
    if (isNew && this.connected) await this.client.subscribeAsync(filter);
    return async () => {
      const s = this.handlers.get(filter);
      if (!s?.delete(handler) || s.size > 0) return;
      this.handlers.delete(filter);
      if (this.connected) await this.client.unsubscribeAsync(filter).catch(() => {});
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client.endAsync(false).catch(() => {});
  }

  private setState(connected: boolean): void {
    if (this.state.connected === connected) return;
    this.state = { ...this.state, connected, since: Date.now() };
    if (connected) delete this.state.lastError;
  }
}

/** MQTT topic filter matching (`+` one level, `#` the rest, `$`-topics only by explicit filters). */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith("$") && !filter.startsWith("$")) return false;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    const part = f[i];
    if (part === "#") return true;
    if (i >= t.length) return false;
    if (part !== "+" && part !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Hides a password in `mqtt://user:pass@host`. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString().replace(/\/$/, "");
  } catch {
    return url;
  }
}

/** A PluginMqtt for a context with no broker: never connected, publish/subscribe fail clearly. */
export class NoMqtt implements PluginMqtt {
  readonly connected = false;
  async publish(): Promise<void> {
    throw new Error("MQTT is not configured for this context");
  }
  async subscribe(): Promise<() => Promise<void>> {
    throw new Error("MQTT is not configured for this context");
  }
}
