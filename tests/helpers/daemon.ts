// Real needled processes for tests: `node dist/src/cli.js start ...` (run `npm run build` first; `npm test`
// does), with a YAML config written to a temp dir, its log lines collected and parsed.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { LineCollector } from "./lines.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const CLI = join(ROOT, "dist", "src", "cli.js");
export const FIXTURE_PLUGINS = join(ROOT, "tests", "fixtures", "plugins");

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface DaemonProcess {
  proc: ChildProcess;
  /** stdout (JSON log lines, and stdin-channel replies). */
  out: LineCollector;
  err: LineCollector;
  /** http://127.0.0.1:PORT once ready. */
  url: string;
  dir: string;
  stateDir: string;
  configFile: string;
  exited: Promise<Exit>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<Exit>;
  /** POST/GET JSON to the daemon. */
  http(method: "GET" | "POST", path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any }>;
  /** Log records (parsed JSON lines). */
  logs(): Array<Record<string, any>>;
}

export interface SpawnOptions {
  /** Config merged over the test defaults (loopback HTTP on a random port, no MQTT, no built-ins). */
  config?: Record<string, unknown>;
  /** Raw config file text instead (no defaults). */
  configText?: string;
  /** Reuse a directory (and its state) from an earlier run. */
  dir?: string;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for the "needled ready" line (default true). */
  waitReady?: boolean;
  stdin?: "pipe" | "ignore";
}

/** A model dir that does not exist, for tests whose replies must not depend on a model. */
export const NO_MODEL = "/nonexistent/needled-test-model";

// The model is the default one (models/default) unless a test sets model.dir.
export const testDefaults = (stateDir: string) => ({
  http: { host: "127.0.0.1", port: 0 },
  mqtt: { enabled: false },
  builtin_plugins: false,
  state_dir: stateDir,
  log: { level: "debug" },
});

export async function spawnDaemon(opts: SpawnOptions = {}): Promise<DaemonProcess> {
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "needled-proc-")));
  const stateDir = join(dir, "state");
  const configFile = join(dir, "config.yaml");
  const text = opts.configText ?? stringify(deepMerge(testDefaults(stateDir), opts.config ?? {}));
  await writeFile(configFile, text);
  const proc = spawn(process.execPath, [CLI, "start", "--config", configFile, ...(opts.args ?? [])], {
    cwd: dir,
    env: { ...process.env, XDG_CONFIG_HOME: join(dir, "xdg"), NEEDLED_CONFIG: "", ...opts.env },
    stdio: [opts.stdin ?? "ignore", "pipe", "pipe"],
  });
  const out = new LineCollector();
  const err = new LineCollector();
  proc.stdout!.on("data", (d) => out.write(d));
  proc.stderr!.on("data", (d) => err.write(d));
  const exited = new Promise<Exit>((resolve) => proc.once("exit", (code, signal) => resolve({ code, signal })));
  const d: DaemonProcess = {
    proc,
    out,
    err,
    url: "",
    dir,
    stateDir,
    configFile,
    exited,
    stop: async (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
    http: async (method, path, body, headers = {}) => {
      const res = await fetch(`${d.url}${path}`, {
        method,
        headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
        ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
      const t = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(t);
      } catch {
        json = t;
      }
      return { status: res.status, json };
    },
    logs: () => out.json(),
  };
  if (opts.waitReady !== false) {
    const ready = out.waitFor((l) => l.includes('"needled ready"'), 30_000);
    const line = await Promise.race([
      ready,
      exited.then((e) => {
        throw new Error(`daemon exited before ready (${e.code ?? e.signal})\n${out.text()}\n${err.text()}`);
      }),
    ]);
    d.url = (JSON.parse(line) as { http?: string }).http ?? "";
  }
  return d;
}

/** Runs `needled ARGS` to completion. */
export function runCli(
  args: string[],
  opts: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NEEDLED_CONFIG: "", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    const t = setTimeout(() => {
      p.kill("SIGKILL");
      reject(new Error(`needled ${args.join(" ")} did not finish\n${stdout}\n${stderr}`));
    }, opts.timeoutMs ?? 30_000);
    p.once("exit", (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
    p.stdin.end(opts.input ?? "");
  });
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" && !Array.isArray(cur)
        ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}
