// The context a plugin gets: logger, its config section, an atomic store, a persistent scheduler, the shared
// MQTT client, notify() and an abort signal. The daemon builds one per plugin with this function; plugin
// tests build a real one the same way:
//
//   const ctx = await createPluginContext({ name: "timers", stateDir: tmp, notify: (d, e) => events.push(e) });
//   await plugin.start?.(ctx);
//   ctx.startScheduler();                    // stored jobs armed; late ones fire now
//   const reply = await tool.handler(args, ctx.forCall({ device: "watch-1" }));
//   await ctx.close();                       // timers stopped, files flushed
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { CallContext, DeviceEvent, Logger, PluginContext, PluginMqtt } from "../plugins/api.js";
import { silentLogger } from "./log.js";
import { NoMqtt } from "./mqtt-client.js";
import { PersistentScheduler } from "./scheduler.js";
import type { StateProblem } from "./state-file.js";
import { FileStore } from "./store.js";

export interface PluginContextOptions {
  /** The plugin's name; its files live in `<stateDir>/plugins/<name>/`. */
  name: string;
  stateDir: string;
  /** The plugin's config section (`plugins.<name>`). */
  config?: Record<string, unknown>;
  log?: Logger;
  /** The shared MQTT client; without one, publish/subscribe reject with a clear error. */
  mqtt?: PluginMqtt;
  /** Where events go (the daemon's event bus); without one they are logged. */
  notify?: (device: string | undefined, event: DeviceEvent) => void;
  /** Aborted when the daemon stops (close() aborts it too). */
  signal?: AbortSignal;
  /** Told when a corrupt store or jobs file was moved aside. */
  onStateProblem?: (problem: StateProblem) => void;
}

export interface CallOptions {
  device: string;
  utterance?: string;
  /** The call's own signal (timeout); the context's signal aborts it as well. */
  signal?: AbortSignal;
}

export interface PluginContextHandle extends PluginContext {
  readonly name: string;
  readonly store: FileStore;
  readonly scheduler: PersistentScheduler;
  /** Arms the stored jobs; jobs that fell due while nothing ran fire now with `late: true`. */
  startScheduler(): void;
  /** The context a tool handler gets for one call. */
  forCall(opts: CallOptions): CallContext;
  /** Stops the scheduler (waiting at most `timeoutMs` for running job handlers) and flushes the files. */
  close(timeoutMs?: number): Promise<void>;
}

const PLUGIN_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/;

export async function createPluginContext(opts: PluginContextOptions): Promise<PluginContextHandle> {
  if (!PLUGIN_NAME.test(opts.name)) {
    throw new TypeError(`plugin name "${opts.name}" must match ${PLUGIN_NAME} (it names a directory)`);
  }
  const log = opts.log ?? silentLogger();
  const dir = join(opts.stateDir, "plugins", opts.name);
  await mkdir(dir, { recursive: true });
  const fileOpts = { log, onProblem: opts.onStateProblem };
  const store = await FileStore.open(join(dir, "store.json"), fileOpts);
  const scheduler = await PersistentScheduler.open(join(dir, "jobs.json"), { ...fileOpts, log });

  const own = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, own.signal]) : own.signal;
  const config = Object.freeze({ ...(opts.config ?? {}) });
  const mqtt = opts.mqtt ?? new NoMqtt();
  const notify =
    opts.notify ??
    ((device: string | undefined, event: DeviceEvent) => log.info("event", { device, event: { ...event } }));

  const base: PluginContext = {
    log,
    config,
    store,
    scheduler,
    mqtt,
    notify: (device, event) => notify(device, event),
    signal,
  };

  return {
    ...base,
    name: opts.name,
    store,
    scheduler,
    startScheduler: () => scheduler.start(),
    forCall: ({ device, utterance, signal: callSignal }) => ({
      ...base,
      device,
      ...(utterance !== undefined ? { utterance } : {}),
      signal: callSignal ? AbortSignal.any([signal, callSignal]) : signal,
    }),
    close: async (timeoutMs = 5000) => {
      own.abort(new Error("plugin context closed"));
      await scheduler.stop(timeoutMs);
      await store.flush();
    },
  };
}
