// The daemon's lifecycle: state dir, broker, MQTT client, engine, plugins, schedulers, channels; and the
// graceful way back down (stop intake, finish in-flight calls, stop plugins, flush state, close broker).
import { readFileSync } from "node:fs";
import { mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ToolCaller } from "../engine/types.js";
import type { DeviceEvent, PluginDefinition } from "../plugins/api.js";
import { argumentAjv, checkPlugin, type CheckedPlugin } from "../plugins/declaration.js";
import { Dispatcher } from "../plugins/dispatcher.js";
import { discoverPlugins, importPlugin, installNeedledResolver, type LoadFailure } from "../plugins/loader.js";
import { ConfirmationPolicy } from "../plugins/policy.js";
import { Registry } from "../plugins/registry.js";
import { startHttp, type HttpChannel } from "../channels/http.js";
import { startMqttChannel, type MqttChannel } from "../channels/mqtt.js";
import { startStdinChannel, type StdinChannel } from "../channels/stdin.js";
import { EmbeddedBroker } from "./broker.js";
import { ConfigError, type NeedledConfig } from "./config.js";
import { Core, type EngineSlot } from "./core.js";
import { EventBus, checkEvent } from "./events.js";
import type { DaemonLogger } from "./log.js";
import { SharedMqttClient, type MqttStatus } from "./mqtt-client.js";
import { createPluginContext, type PluginContextHandle } from "./plugin-context.js";
import type { StateProblem } from "./state-file.js";
import { writeFileAtomic } from "./atomic.js";

export interface EngineOptions {
  modelDir: string;
  maxToolsInPrompt?: number;
  threads?: number;
  /** false: string values need not be spans of the text (config model.span_values) */
  spanValues?: boolean;
  /** score the tools on every request (a configured model.min_tool_similarity needs the similarities) */
  scoreTools?: boolean;
}
export type EngineFactory = (opts: EngineOptions) => Promise<ToolCaller>;

export interface DaemonOptions {
  config: NeedledConfig;
  log: DaemonLogger;
  /** How to open the model; default: src/engine's openEngine. */
  engineFactory?: EngineFactory;
  /** Plugins given as objects, loaded after the discovered ones (embedding, tests). */
  plugins?: PluginDefinition[];
  /** More channels to run with the daemon (a serial link, a microphone ...); see src/channels/index.ts. */
  channels?: ChannelFactory[];
  /** Streams for the stdin channel (default process stdin/stdout). */
  stdio?: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream };
}

/** What a channel gets: the data path in (core.say), events out, the shared MQTT client, config, log. */
export interface ChannelContext {
  core: Core;
  events: EventBus;
  config: NeedledConfig;
  log: DaemonLogger;
  mqtt?: SharedMqttClient;
  /** The loaded tools (the speech channel builds its grammar from their vocabulary and examples). */
  registry?: Registry;
}

/** Starts a channel; returns how to stop it (called first on shutdown: no new work) and, optionally, its
 * state for GET /healthz (`channels.<name>`). */
export interface ChannelFactory {
  name: string;
  start(ctx: ChannelContext): Promise<{ close(): Promise<void> | void; health?(): unknown } | undefined>;
}

export interface PluginHealth {
  name: string;
  source: string;
  builtin: boolean;
  tools: string[];
}

export interface Health {
  status: "ok" | "degraded" | "stopping";
  pid: number;
  uptime_s: number;
  engine: { ok: boolean; model: string; error?: string };
  mqtt: (MqttStatus & { enabled: true; embeddedBroker: boolean }) | { enabled: false };
  http: { url?: string };
  plugins: { loaded: PluginHealth[]; failed: LoadFailure[] };
  tools: number;
  state: { dir: string; problems: StateProblem[] };
  inflight: number;
  /** Channels from DaemonOptions.channels that report their state (serial ports, satellites ...). */
  channels?: Record<string, unknown>;
}

/** The real engine (src/engine), loaded on first use so that commands which never predict skip onnxruntime. */
export const defaultEngineFactory: EngineFactory = async (opts) => {
  const { openEngine } = await import("../engine/index.js");
  return openEngine(opts);
};

export class Daemon {
  readonly registry = new Registry();
  readonly events: EventBus;
  readonly core: Core;
  private readonly contexts = new Map<string, PluginContextHandle>();
  private readonly failures: LoadFailure[] = [];
  private readonly stateProblems: StateProblem[] = [];
  private readonly stopController = new AbortController();
  private readonly policy: ConfirmationPolicy;
  private engine: ToolCaller | undefined;
  private engineProblem: string | undefined = "loading";
  private broker: EmbeddedBroker | undefined;
  private mqtt: SharedMqttClient | undefined;
  private http: HttpChannel | undefined;
  private mqttChannel: MqttChannel | undefined;
  private stdin: StdinChannel | undefined;
  private readonly extraChannels: Array<{ name: string; close(): Promise<void> | void; health?: () => unknown }> = [];
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private stopping: Promise<void> | undefined;
  private ownsPidFile = false;
  private readonly log: DaemonLogger;
  private readonly config: NeedledConfig;

  private constructor(private readonly opts: DaemonOptions) {
    this.log = opts.log;
    this.config = opts.config;
    this.events = new EventBus((err) => this.log.error("event listener threw", { error: String(err) }));
    this.policy = new ConfirmationPolicy({
      windowMs: this.config.policy.confirmWindowS * 1000,
      autoConfirmAbove: this.config.policy.autoConfirmConfidence,
      onExpire: (p) => {
        this.log.info("confirmation expired", { device: p.device, what: p.what });
        this.events.emit("needled", p.device, {
          type: "confirmation_expired",
          say: `Cancelled: ${p.what} (not confirmed in time).`,
        });
      },
    });
    const dispatcher = new Dispatcher({
      registry: this.registry,
      defaultTimeoutMs: this.config.handlerTimeoutMs,
      log: this.log,
      callContext: (plugin, o) => {
        const ctx = this.contexts.get(plugin);
        if (!ctx) throw new Error(`plugin "${plugin}" has no context`);
        return ctx.forCall(o);
      },
    });
    const slot: EngineSlot = { get: () => this.engine, problem: () => this.engineProblem };
    this.core = new Core({
      registry: this.registry,
      dispatcher,
      policy: this.policy,
      engine: slot,
      retrievalK: this.config.model.retrievalK,
      ...(this.config.model.minConfidence !== undefined ? { minConfidence: this.config.model.minConfidence } : {}),
      ...(this.config.model.minToolSimilarity !== undefined ? { minToolSimilarity: this.config.model.minToolSimilarity } : {}),
      log: this.log,
    });
    this.events.subscribe((e) => this.log.info("event", { device: e.device, plugin: e.plugin, event: e.event }));
  }

  /** Starts everything; a ConfigError (port in use, exposed without token, state dir) means nothing runs. */
  static async start(opts: DaemonOptions): Promise<Daemon> {
    const d = new Daemon(opts);
    try {
      await d.boot();
    } catch (err) {
      await d.stop().catch(() => {});
      throw err;
    }
    return d;
  }

  get httpUrl(): string | undefined {
    return this.http?.url;
  }

  get mqttUrl(): string | undefined {
    return this.mqtt?.url;
  }

  private async boot(): Promise<void> {
    const { config, log } = this;
    // Keeps the event loop alive even with every channel disabled.
    this.keepAlive = setInterval(() => {}, 1 << 30);
    await this.prepareStateDir();

    if (config.mqtt.enabled) {
      let url = config.mqtt.url;
      if (!url) {
        this.broker = await EmbeddedBroker.start({ ...config.mqtt.broker, log });
        url = this.broker.url;
      }
      this.mqtt = new SharedMqttClient(url, { log: log.child({ component: "mqtt" }) });
      if (this.broker) {
        await this.mqtt.waitConnected(5000);
      }
    }

    const engineReady = this.openEngine();
    await this.loadPlugins();
    await engineReady;

    for (const ctx of this.contexts.values()) ctx.startScheduler();

    if (this.mqtt) {
      this.mqttChannel = await startMqttChannel({
        client: this.mqtt,
        core: this.core,
        events: this.events,
        baseTopic: config.mqtt.baseTopic,
        log,
        // With a share group, `say` comes through src/channels/satellite.ts (one daemon of the group each).
        say: !config.mqtt.shareGroup,
      });
    }
    if (config.http.enabled) {
      this.http = await startHttp({
        host: config.http.host,
        port: config.http.port,
        ...(config.http.token ? { token: config.http.token } : {}),
        core: this.core,
        registry: this.registry,
        events: this.events,
        health: () => this.health(),
        log,
      });
    }
    const input = this.opts.stdio?.input ?? process.stdin;
    if (config.stdin === true || (config.stdin === "auto" && (input as { isTTY?: boolean }).isTTY)) {
      this.stdin = startStdinChannel({
        core: this.core,
        events: this.events,
        input,
        output: this.opts.stdio?.output ?? process.stdout,
      });
    }
    for (const factory of this.opts.channels ?? []) {
      const ch = await factory.start({
        core: this.core,
        events: this.events,
        config,
        log: log.child({ channel: factory.name }),
        ...(this.mqtt ? { mqtt: this.mqtt } : {}),
        registry: this.registry,
      });
      if (ch) this.extraChannels.push({ name: factory.name, close: () => ch.close(), ...(ch.health ? { health: () => ch.health!() } : {}) });
    }
    log.info("needled ready", {
      http: this.http?.url,
      mqtt: this.mqtt ? this.mqtt.status().url : "disabled",
      embeddedBroker: Boolean(this.broker),
      tools: this.registry.size,
      plugins: this.registry.pluginList().map((p) => p.def.name),
      failedPlugins: this.failures.length,
      engine: this.engine ? "ok" : this.engineProblem,
      stateDir: config.stateDir,
      config: config.file ?? "(defaults)",
    });
  }

  private async prepareStateDir(): Promise<void> {
    const dir = this.config.stateDir;
    try {
      await mkdir(dir, { recursive: true });
      await writeFileAtomic(join(dir, ".write-test"), "ok\n");
      await unlink(join(dir, ".write-test"));
    } catch (err) {
      throw new ConfigError([
        `state_dir: ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); set state_dir or --state-dir`,
      ]);
    }
    // One daemon per state directory: a live pid in needled.pid means another one owns it.
    const pidFile = join(dir, "needled.pid");
    const other = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
    if (Number.isInteger(other) && other > 0 && other !== process.pid && isNeedled(other)) {
      throw new ConfigError([`state_dir: ${dir} is in use by another needled (pid ${other})`]);
    }
    await writeFile(pidFile, `${process.pid}\n`);
    this.ownsPidFile = true;
  }

  private async openEngine(): Promise<void> {
    const factory = this.opts.engineFactory ?? defaultEngineFactory;
    const { model } = this.config;
    try {
      this.engine = await factory({
        modelDir: model.dir,
        maxToolsInPrompt: model.retrievalK,
        ...(model.threads ? { threads: model.threads } : {}),
        ...(model.spanValues ? {} : { spanValues: false }),
        ...((model.minToolSimilarity ?? 0) > 0 ? { scoreTools: true } : {}),
      });
      this.engineProblem = undefined;
      this.log.info("engine ready", { model: model.dir });
    } catch (err) {
      this.engineProblem = (err as Error).message ?? String(err);
      this.log.error("engine unavailable: `say` will answer with an error until it is fixed", {
        model: model.dir,
        error: this.engineProblem,
      });
    }
  }

  private async loadPlugins(): Promise<void> {
    const { config, log } = this;
    installNeedledResolver();
    const ajv = argumentAjv();
    const found = await discoverPlugins({ builtin: config.builtinPlugins, dirs: config.pluginDirs });
    for (const f of found.failures) this.reportFailure(f);
    const loaded: Array<{ checked: CheckedPlugin; source: string; builtin: boolean }> = [];
    for (const src of found.sources) {
      try {
        loaded.push({ checked: await importPlugin(src, ajv), source: src.entry, builtin: src.builtin });
      } catch (err) {
        this.reportFailure({ source: src.entry, reason: (err as Error).message ?? String(err) });
      }
    }
    for (const def of this.opts.plugins ?? []) {
      try {
        loaded.push({ checked: checkPlugin(def, ajv), source: "(inline)", builtin: false });
      } catch (err) {
        this.reportFailure({ source: "(inline)", reason: (err as Error).message });
      }
    }
    for (const { checked, source, builtin } of loaded) {
      const name = checked.def.name;
      try {
        this.registry.add(checked, source, builtin);
      } catch (err) {
        this.reportFailure({ source, reason: (err as Error).message });
        continue;
      }
      let ctx: PluginContextHandle | undefined;
      try {
        ctx = await createPluginContext({
          name,
          stateDir: config.stateDir,
          config: config.plugins[name] ?? {},
          log: log.child({ plugin: name }),
          ...(this.mqtt ? { mqtt: this.mqtt } : {}),
          notify: (device, event) => this.notify(name, device, event),
          signal: this.stopController.signal,
          onStateProblem: (p) => this.stateProblems.push(p),
        });
        this.contexts.set(name, ctx);
        if (checked.def.start) await withTimeout(Promise.resolve().then(() => checked.def.start!(ctx!)), 10_000, "start() took longer than 10 s");
        log.info("plugin loaded", { plugin: name, tools: checked.tools.map((t) => t.def.name), source });
      } catch (err) {
        this.registry.remove(name);
        this.contexts.delete(name);
        await ctx?.close(1000).catch(() => {});
        this.reportFailure({ source, reason: `plugin "${name}" start() failed: ${(err as Error)?.message ?? err}` });
      }
    }
  }

  private reportFailure(f: LoadFailure): void {
    this.failures.push(f);
    this.log.error("plugin skipped", { source: f.source, reason: f.reason });
  }

  private notify(plugin: string, device: string | undefined, event: DeviceEvent): void {
    const bad = checkEvent(event);
    if (bad) {
      this.log.warn("plugin sent an unusable event; dropped", { plugin, reason: bad });
      return;
    }
    if (device !== undefined && typeof device !== "string") {
      this.log.warn("plugin sent an event for a non-string device; dropped", { plugin });
      return;
    }
    this.events.emit(plugin, device, event);
  }

  health(): Health {
    const stopping = this.stopping !== undefined;
    const mqtt = this.mqtt?.status();
    const degraded = !this.engine || (mqtt && !mqtt.connected) || this.failures.length > 0;
    return {
      status: stopping ? "stopping" : degraded ? "degraded" : "ok",
      pid: process.pid,
      uptime_s: Math.round((Date.now() - this.startedAt) / 1000),
      engine: {
        ok: Boolean(this.engine),
        model: this.config.model.dir,
        ...(this.engineProblem ? { error: this.engineProblem } : {}),
      },
      mqtt: mqtt ? { enabled: true, embeddedBroker: Boolean(this.broker), ...mqtt } : { enabled: false },
      http: this.http ? { url: this.http.url } : {},
      plugins: {
        loaded: this.registry.pluginList().map((p) => ({ name: p.def.name, source: p.source, builtin: p.builtin, tools: p.tools })),
        failed: [...this.failures],
      },
      tools: this.registry.size,
      state: { dir: this.config.stateDir, problems: [...this.stateProblems] },
      inflight: this.core.busy,
      ...(this.extraChannels.some((c) => c.health) ? { channels: this.channelHealth() } : {}),
    };
  }

  private channelHealth(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const c of this.extraChannels) {
      if (!c.health) continue;
      try {
        out[c.name] = c.health();
      } catch (err) {
        out[c.name] = { error: String((err as Error)?.message ?? err) };
      }
    }
    return out;
  }

  /** Graceful stop; safe to call more than once (later calls wait for the first). */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const { log } = this;
    const budget = this.config.shutdownTimeoutMs;
    log.info("stopping", { inflight: this.core.busy });
    // 1. No new work: channels stop taking requests (HTTP answers 503 while closing).
    this.stdin?.close();
    for (const ch of this.extraChannels.reverse()) {
      await Promise.resolve()
        .then(() => ch.close())
        .catch((err) => log.warn("channel close failed", { channel: ch.name, error: String(err) }));
    }
    await this.mqttChannel?.close().catch((err) => log.warn("mqtt channel close failed", { error: String(err) }));
    const httpClosed = this.http?.close().catch((err) => log.warn("http close failed", { error: String(err) }));
    // 2. Calls in flight finish (bounded).
    const drained = await this.core.drain(budget);
    if (!drained) log.warn("shutdown: calls still running after the timeout; stopping anyway", { inflight: this.core.busy });
    if (httpClosed) await withTimeout(httpClosed, 2000, "").catch(() => {});
    // 3. Plugins stop, their schedulers stop and their files are flushed.
    this.stopController.abort(new Error("needled is stopping"));
    this.policy.clear();
    for (const [name, ctx] of [...this.contexts].reverse()) {
      const def = this.registry.plugin(name)?.def;
      if (def?.stop) {
        await withTimeout(Promise.resolve().then(() => def.stop!()), 5000, "stop() took longer than 5 s").catch((err) =>
          log.warn("plugin stop failed", { plugin: name, error: String((err as Error)?.message ?? err) }),
        );
      }
      await ctx.close(2000).catch((err) => log.warn("plugin state flush failed", { plugin: name, error: String(err) }));
    }
    // 4. Engine, MQTT client, broker.
    await this.engine?.close().catch((err) => log.warn("engine close failed", { error: String(err) }));
    await this.mqtt?.close();
    await this.broker?.close().catch((err) => log.warn("broker close failed", { error: String(err) }));
    if (this.ownsPidFile) await unlink(join(this.config.stateDir, "needled.pid")).catch(() => {});
    clearInterval(this.keepAlive);
    log.info("stopped");
  }
}

/** Is `pid` a running needled? (After a power cut the pid in needled.pid may belong to anything.) */
function isNeedled(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    return /needled|cli\.js/.test(cmdline);
  } catch {
    return true; // no /proc: trust the pid
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
