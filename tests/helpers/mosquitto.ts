// A real mosquitto broker on a random loopback port, for tests (apt package `mosquitto`, see .ci/run).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitForPort } from "./ports.js";
import { Restartable, spawnReady } from "./process.js";

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
  const broker = new Restartable(() => spawnReady("mosquitto", ["-c", conf], () => waitForPort(p)));
  await broker.start();
  return {
    port: p,
    url: `mqtt://127.0.0.1:${p}`,
    stop: () => broker.stop(),
    restart: () => broker.start(),
    dispose: async () => {
      await broker.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
