// The Zigbee2MQTT-shaped fixture program (tests/fixtures/zigbee2mqtt/fixture.mjs) against a broker.
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { spawnReady, stopProcess } from "./process.js";

const FIXTURE = fileURLToPath(new URL("../fixtures/zigbee2mqtt/fixture.mjs", import.meta.url));

export interface Z2mFixture {
  proc: ChildProcess;
  /** Its stdout lines: "ready", then one JSON line per command it received. */
  lines: string[];
  stop(): Promise<void>;
}

/** Starts the fixture against the broker at `url` and waits until it has published everything ("ready"). */
export async function startZ2mFixture(url: string, extra: string[] = []): Promise<Z2mFixture> {
  const { proc, out } = await spawnReady(
    process.execPath,
    [FIXTURE, "--url", url, ...extra],
    ({ out }) => out.waitFor((l) => l === "ready", 10_000),
    "z2m fixture",
  );
  return { proc, lines: out.lines, stop: () => stopProcess(proc) };
}
