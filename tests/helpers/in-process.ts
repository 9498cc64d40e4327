// A real Daemon in this test process (real plugins, state files, HTTP/MQTT when enabled); only the engine
// may be a scripted test double. Logs are collected as parsed JSON lines.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { parseConfig } from "../../src/daemon/config.js";
import { Daemon, type EngineFactory } from "../../src/daemon/daemon.js";
import { createLogger } from "../../src/daemon/log.js";
import type { PluginDefinition } from "../../src/plugins/api.js";
import type { EventEnvelope } from "../../src/daemon/events.js";
import { LineCollector } from "./lines.js";
import { testDefaults } from "./daemon.js";

export interface TestDaemon {
  daemon: Daemon;
  lines: LineCollector;
  dir: string;
  events: EventEnvelope[];
  close(): Promise<void>;
}

export async function startTestDaemon(opts: {
  config?: Record<string, unknown>;
  engine?: EngineFactory;
  plugins?: PluginDefinition[];
  dir?: string;
}): Promise<TestDaemon> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "needled-inproc-")));
  const base = { ...testDefaults(join(dir, "state")), http: { enabled: false } };
  const config = parseConfig(stringify(merge(base, opts.config ?? {})), { env: {} });
  const lines = new LineCollector();
  const log = createLogger({ level: "debug", destination: lines });
  const engineFactory: EngineFactory =
    opts.engine ??
    (async () => {
      throw new Error("no engine in this test");
    });
  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ config, log, engineFactory, ...(opts.plugins ? { plugins: opts.plugins } : {}) });
  } catch (err) {
    if (!opts.dir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const events: EventEnvelope[] = [];
  daemon.events.subscribe((e) => events.push(e));
  return {
    daemon,
    lines,
    dir,
    events,
    close: async () => {
      await daemon.stop();
      if (!opts.dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" && !Array.isArray(cur)
        ? merge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
