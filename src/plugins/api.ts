// The plugin API: the one file a plugin author imports. Built-in plugins in tools/ use nothing else.
import type { JsonSchema } from "../engine/types.js";

export type { JsonSchema };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

/** A small persistent key-value store for one plugin; every write is atomic (temp file + rename + fsync). */
export interface PluginStore {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  keys(): string[];
}

/** A job the scheduler fires; it survives restarts because only its data is stored, not a closure. */
export interface ScheduledJob {
  id: string;
  /** Either a one-off time (ms since epoch) ... */
  at?: number;
  /** ... or a cron expression (node-cron syntax, local time), for recurring jobs. */
  cron?: string;
  /** Anything JSON the plugin needs when the job fires. */
  data: Record<string, unknown>;
}

export interface FiredJob extends ScheduledJob {
  /** True when the job fell due while the daemon was down and fires on start-up instead. */
  late: boolean;
  /** When it was due (ms since epoch). */
  dueAt: number;
}

export interface PluginScheduler {
  /** Adds or replaces the job with this id; persisted before the promise resolves. */
  schedule(job: ScheduledJob): Promise<void>;
  cancel(id: string): Promise<boolean>;
  list(): ScheduledJob[];
  /** Next due time of a job (ms since epoch), or undefined. */
  nextRun(id: string): number | undefined;
  /** Called when one of this plugin's jobs falls due (also for late jobs at start-up). */
  onFire(handler: (job: FiredJob) => void | Promise<void>): void;
}

/** The minimal MQTT surface a plugin gets (a shared client owned by the daemon). */
export interface PluginMqtt {
  publish(topic: string, payload: string | Buffer | object, options?: { retain?: boolean; qos?: 0 | 1 | 2 }): Promise<void>;
  /** Subscribes; returns an unsubscribe function. Wildcards `+` and `#` allowed. */
  subscribe(topic: string, handler: (topic: string, payload: Buffer) => void): Promise<() => Promise<void>>;
  readonly connected: boolean;
}

/** An event for a device (timer fired, navigation step). Also published on MQTT and logged by the daemon. */
export interface DeviceEvent {
  type: string;
  /** Short text for a small screen or speech. */
  say?: string;
  data?: Record<string, unknown>;
  /** Haptic pattern name from the device profile (e.g. "alarm", "tap"). */
  haptic?: string;
}

export interface PluginContext {
  readonly log: Logger;
  /** The plugin's section of the daemon config (`plugins.<name>`), or {}. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly store: PluginStore;
  readonly scheduler: PluginScheduler;
  readonly mqtt: PluginMqtt;
  /** Sends an event to one device (by id), or to every listener when device is undefined. */
  notify(device: string | undefined, event: DeviceEvent): void;
  /** Aborted when the daemon stops. */
  readonly signal: AbortSignal;
}

export interface CallContext extends PluginContext {
  /** The device the request came from ("cli", "http", a wearable id ...). */
  readonly device: string;
  /** The utterance, when the call came from text (absent for direct calls). */
  readonly utterance?: string;
  /** Aborted when the handler's timeout expires or the daemon stops. */
  readonly signal: AbortSignal;
}

export interface Reply {
  /** Text for a small screen / speech. */
  say: string;
  data?: Record<string, unknown>;
}

export interface ToolDefinition<Args = Record<string, any>> {
  name: string;
  description: string;
  /** JSON Schema for the arguments: `{type: "object", properties, required}`. */
  parameters: JsonSchema;
  /** Utterances that should produce this tool: documentation, tests and fine-tuning data. */
  examples?: string[];
  /**
   * Needs a confirmation on the same device, or a confidence above the configured threshold.
   * A function decides per call (e.g. open_cover is sensitive for a garage door, not for blinds).
   */
  sensitive?: boolean | ((args: Args) => boolean);
  /**
   * How a call reads in a confirmation prompt ("open the garage door"). Optional; by default the tool name
   * with spaces and the argument values ("open cover garage door").
   */
  describe?(args: Args): string;
  /** Handler timeout in ms (default from config, 5000). */
  timeoutMs?: number;
  handler(args: Args, ctx: CallContext): Promise<Reply> | Reply;
}

export interface PluginDefinition {
  name: string;
  version?: string;
  description?: string;
  tools: ToolDefinition[];
  start?(ctx: PluginContext): Promise<void> | void;
  stop?(): Promise<void> | void;
}

/** Identity at run time; gives plugin authors type checking and the loader one shape to check. */
export function definePlugin(plugin: PluginDefinition): PluginDefinition {
  return plugin;
}

/** Thrown by a handler for a clear user-facing failure ("no device called X"); its message is the reply. */
export class ToolError extends Error {
  constructor(message: string, readonly data?: Record<string, unknown>) {
    super(message);
    this.name = "ToolError";
  }
}
