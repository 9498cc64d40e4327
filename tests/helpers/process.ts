// Helper programs that tests start and stop (mosquitto, socat, fixture programs): start one and wait until it
// is ready, failing with what it printed if it exits first; stop it with SIGTERM and wait for the exit.
import { spawn, type ChildProcess } from "node:child_process";
import { LineCollector } from "./lines.js";

export interface ReadyProcess {
  proc: ChildProcess;
  out: LineCollector;
  err: LineCollector;
}

/**
 * Spawns `cmd args` (stdout and stderr collected) and resolves once `ready` does. If the program exits
 * first, rejects with its exit code and stderr; if `ready` fails, the program is stopped and the error passed on.
 */
export async function spawnReady(
  cmd: string,
  args: string[],
  ready: (p: ReadyProcess) => Promise<unknown>,
  name = cmd,
): Promise<ReadyProcess> {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
  const p: ReadyProcess = { proc, out: new LineCollector(), err: new LineCollector() };
  proc.stdout!.on("data", (d) => p.out.write(d));
  proc.stderr!.on("data", (d) => p.err.write(d));
  const exited = new Promise<never>((_, reject) => {
    proc.once("error", (e) => reject(new Error(`${name} did not start: ${e.message}`)));
    proc.once("exit", (code, signal) => reject(new Error(`${name} exited (${code ?? signal}): ${p.err.text()}`)));
  });
  const readied = Promise.resolve()
    .then(() => ready(p))
    .catch((e: unknown) => {
      const said = p.err.text();
      throw new Error(`${name} not ready: ${(e as Error)?.message ?? e}${said ? `\n${said}` : ""}`);
    });
  try {
    await Promise.race([readied, exited]);
  } catch (err) {
    await stopProcess(proc);
    throw err;
  }
  return p;
}

/** SIGTERM, and resolves when the program has exited (at once if it already has, or was never started). */
export function stopProcess(proc: ChildProcess | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null || proc.pid === undefined) return resolve();
    proc.once("exit", () => resolve());
    proc.kill("SIGTERM");
  });
}

/** One program started and stopped again (a broker that restarts, a serial cable unplugged and plugged in). */
export class Restartable {
  private current: ReadyProcess | undefined;
  constructor(private readonly launch: () => Promise<ReadyProcess>) {}

  async start(): Promise<void> {
    this.current = await this.launch();
  }

  async stop(): Promise<void> {
    const p = this.current;
    this.current = undefined;
    await stopProcess(p?.proc);
  }
}
