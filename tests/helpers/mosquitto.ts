// A real mosquitto broker on a random loopback port, for tests (apt package `mosquitto`, see .ci/run).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "./ports.js";

export interface Mosquitto {
  port: number;
  url: string;
  /** Stops the broker (SIGTERM) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port (after stop()). */
  restart(): Promise<void>;
  /** stop() and remove its temp dir. */
  dispose(): Promise<void>;
}

export async function startMosquitto(port?: number): Promise<Mosquitto> {
  const p = port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), "mosquitto-"));
  const conf = join(dir, "mosquitto.conf");
  await writeFile(conf, [`listener ${p} 127.0.0.1`, "allow_anonymous true", "persistence false", "log_dest none", ""].join("\n"));
  let proc: ChildProcess | undefined;
  const launch = async () => {
    proc = spawn("mosquitto", ["-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr?.on("data", (d) => (stderr += d));
    const exited = new Promise<never>((_, reject) =>
      proc!.once("exit", (code) => reject(new Error(`mosquitto exited (${code}): ${stderr}`))),
    );
    await Promise.race([waitForPort(p), exited]);
  };
  const stop = async () => {
    const p0 = proc;
    proc = undefined;
    if (!p0 || p0.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p0.once("exit", () => resolve());
      p0.kill("SIGTERM");
    });
  };
  await launch();
  return {
    port: p,
    url: `mqtt://127.0.0.1:${p}`,
    stop,
    restart: launch,
    dispose: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
