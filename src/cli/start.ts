// needled start [--config FILE] [--state-dir DIR] [--http HOST:PORT] [--mqtt URL]
// Runs in the foreground (systemd-friendly); SIGTERM/SIGINT stop it gracefully, exit 0.
import { channels } from "../channels/index.js";
import { ConfigError, loadConfig } from "../daemon/config.js";
import { Daemon, type EngineFactory } from "../daemon/daemon.js";
import { createLogger } from "../daemon/log.js";
import { connectSystemd, statusLine } from "../daemon/systemd.js";
import { EXIT, parse, type Io } from "./common.js";

export const usage = "needled start [--config FILE] [--state-dir DIR] [--http HOST:PORT] [--mqtt URL]";

export async function run(argv: string[], io: Io, engineFactory?: EngineFactory): Promise<number> {
  const { values, positionals } = parse(argv, {
    config: { type: "string" },
    "state-dir": { type: "string" },
    http: { type: "string" },
    mqtt: { type: "string" },
  });
  if (positionals.length > 0) throw new ConfigError([`start takes no arguments (got "${positionals[0]}")\nusage: ${usage}`]);
  const config = await loadConfig({
    ...(values.config !== undefined ? { file: values.config } : {}),
    ...(values["state-dir"] !== undefined ? { stateDir: values["state-dir"] } : {}),
    ...(values.http !== undefined ? { http: values.http } : {}),
    ...(values.mqtt !== undefined ? { mqtt: values.mqtt } : {}),
  });
  const log = createLogger({ level: config.log.level });

  // A plugin's stray async error must not take the hub down: log it and go on.
  process.on("unhandledRejection", (reason) => {
    log.error("unhandled promise rejection (kept running)", { error: String((reason as Error)?.stack ?? reason) });
  });
  process.on("uncaughtException", (err) => {
    log.error("uncaught exception (kept running)", { error: String(err?.stack ?? err) });
  });

  // Under systemd (Type=notify): READY/STATUS/WATCHDOG/STOPPING; a no-op elsewhere.
  const systemd = connectSystemd({ log });
  systemd.status("starting: loading plugins and the model");

  let daemon: Daemon;
  try {
    daemon = await Daemon.start({ config, log, channels, ...(engineFactory ? { engineFactory } : {}) });
  } catch (err) {
    systemd.status(`cannot start: ${((err as Error)?.message ?? String(err)).split("\n")[0]}`);
    systemd.close();
    if (err instanceof ConfigError) {
      log.error("cannot start", { error: err.message });
      log.flush();
      io.err(err.message);
      return EXIT.USAGE;
    }
    log.error("cannot start", { error: String((err as Error)?.stack ?? err) });
    log.flush();
    io.err(`needled: cannot start: ${(err as Error)?.message ?? err}`);
    return EXIT.FAILED;
  }

  systemd.ready(() => statusLine(daemon.health()));

  return await new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        log.warn("second signal: exiting now", { signal: sig });
        log.flush();
        resolve(EXIT.FAILED);
        return;
      }
      log.info("signal received; shutting down", { signal: sig });
      systemd.stopping(`stopping (${sig}): ${daemon.core.busy} call(s) in flight`);
      daemon
        .stop()
        .then(() => resolve(EXIT.OK))
        .catch((err) => {
          log.error("shutdown failed", { error: String(err) });
          resolve(EXIT.FAILED);
        })
        .finally(() => {
          systemd.close();
          log.flush();
        });
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  });
}
