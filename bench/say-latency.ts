// End-to-end `say` latency: a real daemon process (node dist/src/cli.js start) with the built-in plugins,
// the default model and an embedded broker; each utterance goes HTTP POST /v1/say -> engine -> policy ->
// handler -> reply (and, in a second pass, MQTT needled/<device>/say -> needled/<device>/reply).
// The utterances are the `examples` of the built-in tools' declarations (tools/*/tools.json), never the
// eval sets. Target: p50 <= 50 ms.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";

export interface BenchResult {
  name: string;
  runs: number;
  medianMs: number;
  p95Ms: number;
  note?: string;
}

export interface SayBenchOptions {
  modelDir?: string;
  /** Passes over all utterances after one warm-up pass. */
  rounds?: number;
}

/**
 * The model to time: opts.modelDir, $NEEDLED_BENCH_MODEL, models/default, or (until that is shipped) one exported
 * from the training checkpoint into a temp dir, labelled as such.
 */
function chooseModel(root: string, explicit?: string): { dir: string; label: string; cleanup(): void } {
  const given = explicit ?? process.env.NEEDLED_BENCH_MODEL;
  if (given) return { dir: given, label: given, cleanup: () => {} };
  const shipped = join(root, "models", "default");
  if (existsSync(join(shipped, "config.json"))) return { dir: shipped, label: "models/default", cleanup: () => {} };
  const ckpt = join(root, "training", "runs", "main", "last.pt");
  const tok = join(root, "training", "runs", "tok", "needle.model");
  if (!existsSync(ckpt) || !existsSync(tok)) throw new Error("no models/default and no training checkpoint to export one from");
  const tmp = mkdtempSync(join(tmpdir(), "needled-bench-model-"));
  const out = join(tmp, "model");
  const r = spawnSync("/usr/bin/python3", [join(root, "training", "export.py"), "--checkpoint", ckpt, "--tokenizer", tok, "--quant", "int8", "--out", out], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`exporting the checkpoint failed: ${r.stderr}`);
  return { dir: out, label: "checkpoint export (models/default not shipped yet)", cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

export async function runSayLatencyBench(root: string, opts: SayBenchOptions = {}): Promise<BenchResult[]> {
  const cli = join(root, "dist", "src", "cli.js");
  const model = chooseModel(root, opts.modelDir);
  try {
    return await timeSay(root, cli, model.dir, model.label, opts);
  } finally {
    model.cleanup();
  }
}

async function timeSay(root: string, cli: string, modelDir: string, label: string, opts: SayBenchOptions): Promise<BenchResult[]> {
  if (!existsSync(join(modelDir, "config.json"))) throw new Error(`no model in ${modelDir}`);
  if (!existsSync(join(root, "dist", "src", "engine", "index.js"))) throw new Error("the engine (src/engine/index.ts) is not built");

  const utterances = ["timers", "navigation", "smarthome"].flatMap((p) => {
    const file = join(root, "tools", p, "tools.json");
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Array<{ examples?: string[] }>).flatMap((t) => t.examples ?? []) : [];
  });
  const rounds = opts.rounds ?? 5;

  const dir = await mkdtemp(join(tmpdir(), "needled-bench-"));
  const brokerPort = await freePort();
  const config = [
    `model: {dir: ${JSON.stringify(modelDir)}}`,
    "http: {host: 127.0.0.1, port: 0}",
    `mqtt: {broker: {host: 127.0.0.1, port: ${brokerPort}}}`,
    `state_dir: ${JSON.stringify(join(dir, "state"))}`,
    "log: {level: info}",
    "stdin: false",
    "",
  ].join("\n");
  await writeFile(join(dir, "config.yaml"), config);
  const proc = spawn(process.execPath, [cli, "start", "--config", join(dir, "config.yaml")], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  proc.stdout.on("data", (d) => (out += d));
  proc.stderr.on("data", (d) => (out += d));
  // Smart-home devices that answer (the Zigbee2MQTT-shaped fixture the smarthome tests use), so that
  // turn_on & co. time a real command and its state echo, not the wait for a device that is not there.
  let z2m: ReturnType<typeof spawn> | undefined;
  try {
    const base = await waitReady(proc, () => out);
    const fixture = join(root, "tests", "fixtures", "zigbee2mqtt", "fixture.mjs");
    if (existsSync(fixture)) {
      z2m = spawn(process.execPath, [fixture, "--url", `mqtt://127.0.0.1:${brokerPort}`], { stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve, reject) => {
        let text = "";
        z2m!.stdout!.on("data", (d) => {
          text += d;
          if (/^ready$/m.test(text)) resolve();
        });
        z2m!.once("exit", (code) => reject(new Error(`zigbee2mqtt fixture exited (${code})`)));
      });
      await new Promise((r) => setTimeout(r, 500)); // the plugin reads the retained device list
    }
    const results: BenchResult[] = [];

    // HTTP: one warm-up pass, then timed rounds.
    const post = async (text: string) => {
      const res = await fetch(`${base}/v1/say`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text, device: "bench" }),
      });
      return (await res.json()) as { ms: number; say: string; confirm?: unknown };
    };
    for (const u of utterances) {
      const a = await post(u);
      if (a.confirm) await post("no"); // leave nothing pending
    }
    const logStart = out.length;
    const client: number[] = [];
    const server: number[] = [];
    for (let r = 0; r < rounds; r++) {
      for (const u of utterances) {
        const t0 = performance.now();
        const a = await post(u);
        client.push(performance.now() - t0);
        server.push(a.ms);
        if (a.confirm) await post("no");
      }
    }
    console.log(`model: ${label}`);
    results.push(stats(`HTTP say round trip (${utterances.length} utterances x ${rounds})`, client));
    results.push(stats("  of which in the daemon (text in -> reply out)", server));
    // The daemon logs each handled utterance with the engine's own time (predictMs).
    const predict = out
      .slice(logStart)
      .split("\n")
      .filter((l) => l.includes('"predictMs"') && l.includes('"source":"http"') && !l.includes('"text":"no"'))
      .map((l) => (JSON.parse(l) as { predictMs: number }).predictMs);
    if (predict.length > 0) results.push(stats("  of which engine.predict", predict));

    // MQTT: the path a wearable uses.
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0 });
    await c.subscribeAsync("needled/bench-mqtt/reply");
    const replies: Array<(v: { confirm?: unknown }) => void> = [];
    c.on("message", (_t, payload) => replies.shift()?.(JSON.parse(payload.toString())));
    const say = (text: string) =>
      new Promise<{ confirm?: unknown }>((resolve) => {
        replies.push(resolve);
        void c.publishAsync("needled/bench-mqtt/say", text);
      });
    const mq: number[] = [];
    for (let r = 0; r < Math.max(1, Math.floor(rounds / 2)); r++) {
      for (const u of utterances) {
        const t0 = performance.now();
        const a = await say(u);
        mq.push(performance.now() - t0);
        if (a.confirm) await say("no");
      }
    }
    await c.endAsync();
    results.push(stats("MQTT say -> reply round trip", mq));
    return results;
  } finally {
    z2m?.kill("SIGTERM");
    proc.kill("SIGTERM");
    await new Promise((r) => proc.once("exit", r));
    await rm(dir, { recursive: true, force: true });
  }
}

function stats(name: string, xs: number[]): BenchResult {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(s.length * q))]!;
  return { name, runs: s.length, medianMs: at(0.5), p95Ms: at(0.95) };
}

function waitReady(proc: ReturnType<typeof spawn>, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`daemon not ready after 60 s:\n${output()}`)), 60_000);
    const check = () => {
      const line = output()
        .split("\n")
        .find((l) => l.includes('"needled ready"'));
      if (line) {
        clearTimeout(t);
        proc.stdout?.off("data", check);
        resolve((JSON.parse(line) as { http: string }).http);
      }
    };
    proc.stdout?.on("data", check);
    proc.once("exit", (code) => {
      clearTimeout(t);
      reject(new Error(`daemon exited (${code}):\n${output()}`));
    });
    check();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
