// The live device registry: listens to Zigbee2MQTT's bridge topics and Home Assistant discovery on the
// context's MQTT client, keeps the devices, and runs commands that wait for the devices' state echo.
import type { Logger, PluginMqtt } from "../../src/plugins/api.js";
import { buildCommand, Unsupported, type Action } from "./commands.js";
import { parseDiscoveryTopic, parseHaDiscovery, parseZ2mDevices, parseZ2mGroups, type Device } from "./devices.js";

export interface RegistryOptions {
  base: string;
  discoveryPrefix: string;
  /** friendly_name (lower case) -> area, for Zigbee2MQTT devices whose name carries no `area/` prefix. */
  areas: Record<string, string>;
  configDevices: Device[];
}

export type Outcome = "ok" | "sent" | "no-answer" | "unsupported" | "failed";

export interface Result {
  device: Device;
  outcome: Outcome;
  reason?: string;
}

type Waiter = (payload: Buffer) => void;

export class Registry {
  private z2m: Device[] = [];
  private z2mGroups: Device[] = [];
  private readonly ha = new Map<string, Device>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly stateSubs = new Map<string, () => Promise<void>>();
  private readonly unsubscribes: Array<() => Promise<void>> = [];
  private seenBridge = false;
  private bridgeSeen!: () => void;
  private readonly bridge = new Promise<void>((r) => (this.bridgeSeen = r));

  constructor(
    private readonly mqtt: PluginMqtt,
    private readonly opts: RegistryOptions,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    const { base, discoveryPrefix } = this.opts;
    this.unsubscribes.push(await this.mqtt.subscribe(`${base}/#`, (t, p) => this.onZ2m(t, p)));
    for (const filter of [`${discoveryPrefix}/+/+/config`, `${discoveryPrefix}/+/+/+/config`]) {
      this.unsubscribes.push(await this.mqtt.subscribe(filter, (t, p) => this.onDiscovery(t, p)));
    }
    for (const d of this.opts.configDevices) await this.watchState(d);
  }

  async stop(): Promise<void> {
    for (const u of [...this.unsubscribes.splice(0), ...this.stateSubs.values()]) await u().catch(() => {});
    this.stateSubs.clear();
  }

  devices(): Device[] {
    return [...this.z2m, ...this.z2mGroups, ...this.ha.values(), ...this.opts.configDevices];
  }

  /** Waits (at most `ms`) for Zigbee2MQTT's retained device list after start-up. */
  async ready(ms: number): Promise<void> {
    if (this.seenBridge) return;
    await Promise.race([this.bridge, new Promise((r) => setTimeout(r, ms).unref())]);
  }

  private onZ2m(topic: string, payload: Buffer): void {
    const { base, areas } = this.opts;
    if (topic === `${base}/bridge/devices` || topic === `${base}/bridge/groups`) {
      try {
        const parsed = JSON.parse(payload.toString("utf8"));
        if (topic.endsWith("devices")) {
          this.z2m = parseZ2mDevices(parsed, base, areas);
          this.log.info("smarthome: Zigbee2MQTT devices", { count: this.z2m.length });
          this.seenBridge = true;
          this.bridgeSeen();
        } else this.z2mGroups = parseZ2mGroups(parsed, base);
      } catch (err) {
        this.log.warn("smarthome: ignoring a bad Zigbee2MQTT bridge message", { topic, error: (err as Error).message });
      }
      return;
    }
    this.dispatch(topic, payload);
  }

  private onDiscovery(topic: string, payload: Buffer): void {
    const t = parseDiscoveryTopic(topic, this.opts.discoveryPrefix);
    if (!t) return;
    if (payload.length === 0) {
      // an empty retained config removes the entity
      const gone = this.ha.get(topic);
      this.ha.delete(topic);
      if (gone) void this.unwatchUnused();
      return;
    }
    try {
      const dev = parseHaDiscovery(t, JSON.parse(payload.toString("utf8")));
      if (!dev) return;
      if (dev.ha!.templates.length > 0) {
        this.log.warn("smarthome: templates in a discovery config are not evaluated; raw values are used", { topic, templates: dev.ha!.templates });
      }
      this.ha.set(topic, dev);
      void this.watchState(dev);
    } catch (err) {
      this.log.warn("smarthome: ignoring a bad discovery config", { topic, error: (err as Error).message });
    }
  }

  private stateTopics(d: Device): string[] {
    if (!d.ha) return [];
    return [d.ha.stateTopic, d.ha.temperatureStateTopic].filter((t): t is string => !!t);
  }

  /** Subscribes to a discovered/config device's state topics (Zigbee2MQTT's are under `<base>/#` already). */
  private async watchState(d: Device): Promise<void> {
    for (const topic of this.stateTopics(d)) {
      if (this.stateSubs.has(topic) || topic === this.opts.base || topic.startsWith(`${this.opts.base}/`)) continue;
      this.stateSubs.set(topic, async () => {});
      try {
        this.stateSubs.set(topic, await this.mqtt.subscribe(topic, (t, p) => this.dispatch(t, p)));
      } catch (err) {
        this.stateSubs.delete(topic);
        this.log.warn("smarthome: could not subscribe to a state topic", { topic, error: (err as Error).message });
      }
    }
  }

  private async unwatchUnused(): Promise<void> {
    const used = new Set(this.devices().flatMap((d) => this.stateTopics(d)));
    for (const [topic, unsub] of this.stateSubs) {
      if (used.has(topic)) continue;
      this.stateSubs.delete(topic);
      await unsub().catch(() => {});
    }
  }

  private dispatch(topic: string, payload: Buffer): void {
    for (const w of this.waiters.get(topic) ?? []) w(payload);
  }

  /** Sends the action to each device at once and waits (at most `timeoutMs`) for each state echo. */
  async run(devices: Device[], action: Action, timeoutMs: number, signal?: AbortSignal): Promise<Result[]> {
    return Promise.all(devices.map((d) => this.runOne(d, action, timeoutMs, signal)));
  }

  private async runOne(device: Device, action: Action, timeoutMs: number, signal?: AbortSignal): Promise<Result> {
    let command;
    try {
      command = buildCommand(device, action);
    } catch (err) {
      if (err instanceof Unsupported) return { device, outcome: "unsupported", reason: err.message };
      throw err;
    }
    const expect = command.expect;
    let answered: Promise<boolean> = Promise.resolve(true);
    let cleanup = () => {};
    if (expect) {
      answered = new Promise<boolean>((resolve) => {
        const waiter: Waiter = (p) => {
          if (expect.confirms(p)) done(true);
        };
        const timer = setTimeout(() => done(false), timeoutMs);
        const onAbort = () => done(false);
        const done = (v: boolean) => {
          cleanup();
          resolve(v);
        };
        cleanup = () => {
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          const set = this.waiters.get(expect.topic);
          set?.delete(waiter);
          if (set?.size === 0) this.waiters.delete(expect.topic);
        };
        let set = this.waiters.get(expect.topic);
        if (!set) this.waiters.set(expect.topic, (set = new Set()));
        set.add(waiter);
        signal?.addEventListener("abort", onAbort, { once: true });
      });
    }
    try {
      for (const p of command.publishes) await this.mqtt.publish(p.topic, p.payload);
    } catch (err) {
      cleanup();
      return { device, outcome: "failed", reason: (err as Error).message };
    }
    const ok = await answered;
    return { device, outcome: expect ? (ok ? "ok" : "no-answer") : "sent" };
  }
}
