// Device events (timer fired, navigation step, confirmation expired) fan out from here to every channel:
// the device that asked (MQTT `<base>/<device>/event`), `<base>/events`, the HTTP event stream and the log.
import type { DeviceEvent } from "../plugins/api.js";

export interface EventEnvelope {
  /** Increasing id (the SSE event id). */
  id: number;
  /** ISO time it was emitted. */
  at: string;
  /** The device it is for; undefined: everyone. */
  device?: string;
  /** The plugin that sent it ("needled" for the daemon's own). */
  plugin: string;
  event: DeviceEvent;
}

export type EventListener = (e: EventEnvelope) => void;

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private nextId = 1;

  constructor(private readonly onListenerError: (err: unknown) => void = () => {}) {}

  emit(plugin: string, device: string | undefined, event: DeviceEvent): EventEnvelope {
    const env: EventEnvelope = {
      id: this.nextId++,
      at: new Date().toISOString(),
      ...(device !== undefined ? { device } : {}),
      plugin,
      event: structuredClone(event),
    };
    for (const l of this.listeners) {
      try {
        l(env);
      } catch (err) {
        this.onListenerError(err);
      }
    }
    return env;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Checks what a plugin passes to notify(); returns a reason when it is not a usable event. */
export function checkEvent(event: unknown): string | undefined {
  if (typeof event !== "object" || event === null || Array.isArray(event)) return "an event must be an object";
  const e = event as Record<string, unknown>;
  if (typeof e.type !== "string" || e.type === "") return 'an event needs a non-empty string "type"';
  if (e.say !== undefined && typeof e.say !== "string") return '"say" must be a string';
  if (e.haptic !== undefined && typeof e.haptic !== "string") return '"haptic" must be a string';
  if (e.data !== undefined && (typeof e.data !== "object" || e.data === null || Array.isArray(e.data))) {
    return '"data" must be an object';
  }
  try {
    JSON.stringify(e);
  } catch (err) {
    return `not JSON-serializable (${(err as Error).message})`;
  }
  return undefined;
}
