// The daemon core's doctor checks: config, model directory, state directory, MQTT broker, HTTP port, plugins.
import { existsSync } from "node:fs";
import { readdir, readFile, unlink } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import mqtt from "mqtt";
import { writeFileAtomic } from "../../daemon/atomic.js";
import { isLoopback } from "../../channels/http.js";
import type { DoctorCheck, CheckResult } from "../doctor.js";
import { localTools } from "../tools.js";

export const checks: DoctorCheck[] = [
  {
    name: "config",
    run: ({ config }) => ({ status: "ok", detail: config.file ? `loaded ${config.file}` : "no config file; built-in defaults" }),
  },
  {
    name: "model",
    run: async ({ config }) => checkModelDir(config.model.dir),
  },
  {
    name: "state dir",
    run: async ({ config }) => {
      const dir = config.stateDir;
      try {
        await writeFileAtomic(join(dir, ".doctor-test"), "ok\n");
        await unlink(join(dir, ".doctor-test"));
      } catch (err) {
        return { status: "fail", detail: `${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? err}); set state_dir or --state-dir` };
      }
      const corrupt = await findCorrupt(dir);
      if (corrupt.length > 0) {
        return { status: "warn", detail: `${dir} is writable; corrupt state files were moved aside: ${corrupt.join(", ")}` };
      }
      return { status: "ok", detail: `${dir} is writable` };
    },
  },
  {
    name: "mqtt",
    run: async ({ config }) => {
      if (!config.mqtt.enabled) return { status: "skip", detail: "mqtt.enabled is false" };
      if (config.mqtt.url) return reachBroker(config.mqtt.url);
      const { host, port } = config.mqtt.broker;
      if (await portFree(host, port)) return { status: "ok", detail: `embedded broker can listen on ${host}:${port}` };
      const running = await reachBroker(`mqtt://${host.includes(":") ? `[${host}]` : host}:${port}`);
      if (running.status === "ok" && (await needledRunning(config))) {
        return { status: "ok", detail: `${host}:${port} is served by the running needled's embedded broker` };
      }
      return {
        status: "fail",
        detail: `port ${port} on ${host} is taken by another program: set mqtt.url to use that broker, or mqtt.broker.port to a free port`,
      };
    },
  },
  {
    name: "http",
    run: async ({ config }) => {
      const { enabled, host, port, token } = config.http;
      if (!enabled) return { status: "skip", detail: "http.enabled is false" };
      if (!isLoopback(host) && !token) {
        return { status: "fail", detail: `http.host ${host} is not loopback and http.token is not set; the daemon will refuse to start` };
      }
      if (await portFree(host, port)) return { status: "ok", detail: `can listen on ${host}:${port}` };
      if (await needledRunning(config)) return { status: "ok", detail: `needled is running on ${host}:${port}` };
      return { status: "fail", detail: `port ${port} on ${host} is taken by another program; set http.port or start with --http HOST:PORT` };
    },
  },
  {
    name: "plugins",
    run: async ({ config }) => {
      const { tools, failures } = await localTools(config.file);
      const plugins = [...new Set(tools.map((t) => t.plugin))];
      const summary = `${plugins.length} plugin(s) [${plugins.join(", ")}], ${tools.length} tool(s)`;
      if (failures.length > 0) {
        return { status: "warn", detail: `${summary}; skipped: ${failures.map((f) => `${f.source}: ${f.reason}`).join(" | ")}` };
      }
      return { status: tools.length > 0 ? "ok" : "warn", detail: tools.length > 0 ? summary : `${summary}: no tools (is the project built?)` };
    },
  },
];

export async function checkModelDir(dir: string): Promise<CheckResult> {
  const cfgPath = join(dir, "config.json");
  if (!existsSync(dir)) return { status: "fail", detail: `${dir} does not exist; set model.dir (\`say\` needs a model)` };
  let cfg: { format?: string; quantization?: string; files?: Record<string, string> };
  try {
    cfg = JSON.parse(await readFile(cfgPath, "utf8"));
  } catch (err) {
    return { status: "fail", detail: `${cfgPath}: ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : (err as Error).message}` };
  }
  if (cfg.format !== "needled-model/1") return { status: "fail", detail: `${cfgPath}: format is ${JSON.stringify(cfg.format)}, expected "needled-model/1"` };
  const files = cfg.files ?? { encoder: "encoder.onnx", decoder: "decoder.onnx", tokenizer: "tokenizer.model" };
  const missing = Object.values(files).filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) return { status: "fail", detail: `${dir} lacks ${missing.join(", ")}` };
  return { status: "ok", detail: `${dir} (${cfg.format}, ${cfg.quantization ?? "fp32"})` };
}

async function findCorrupt(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string, depth: number) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory() && depth < 3) await walk(join(d, e.name), depth + 1);
      else if (/\.corrupt-\d+$/.test(e.name)) out.push(join(d, e.name));
    }
  };
  await walk(dir, 0);
  return out;
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once("error", () => resolve(false));
    s.listen(port, host, () => s.close(() => resolve(true)));
  });
}

function reachBroker(url: string): Promise<CheckResult> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000 });
    const done = (r: CheckResult) => {
      c.end(true);
      resolve(r);
    };
    c.once("connect", () => done({ status: "ok", detail: `broker ${url} reachable` }));
    c.once("error", (err) => done({ status: "fail", detail: `broker ${url} not reachable (${err.message}); the daemon will retry, but MQTT devices get nothing` }));
    c.once("close", () => done({ status: "fail", detail: `broker ${url} closed the connection` }));
  });
}

async function needledRunning(config: { http: { host: string; port: number; token?: string } }): Promise<boolean> {
  const host = ["0.0.0.0", "::"].includes(config.http.host) ? "127.0.0.1" : config.http.host;
  try {
    const res = await fetch(`http://${host.includes(":") ? `[${host}]` : host}:${config.http.port}/healthz`, {
      headers: config.http.token ? { authorization: `Bearer ${config.http.token}` } : {},
      signal: AbortSignal.timeout(2000),
    });
    const body = (await res.json()) as { pid?: unknown };
    return typeof body.pid === "number";
  } catch {
    return false;
  }
}
