#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=1 --expose-gc
// The `needled` command. Each subcommand is a module in src/cli/ exporting run(argv, io) -> exit code.
import { fileURLToPath } from "node:url";
import { ConfigError } from "./daemon/config.js";
import { DaemonUnreachable, EXIT, UsageError, stdio, type Io } from "./cli/common.js";

type Command = { summary: string; load: () => Promise<{ run(argv: string[], io: Io): Promise<number> }> };

export const commands: Record<string, Command> = {
  start: { summary: "run the daemon in the foreground", load: () => import("./cli/start.js") },
  say: { summary: 'send text to the running daemon: say "set a timer for 5 minutes"', load: () => import("./cli/say.js") },
  call: { summary: "call a tool directly on the running daemon: call set_timer '{\"duration\":\"5 minutes\"}'", load: () => import("./cli/call.js") },
  tools: { summary: "list the tools the daemon loads", load: () => import("./cli/tools.js") },
  predict: { summary: "run the model on text (no daemon needed)", load: () => import("./cli/predict.js") },
  eval: { summary: "measure the model on an eval set", load: () => import("./cli/eval.js") },
  doctor: { summary: "check model, broker, state dir, ports, plugins, the service and device access", load: () => import("./cli/doctor.js") },
  plugin: { summary: "plugin new NAME [--dir DIR]: scaffold a plugin with a test", load: () => import("./cli/plugin.js") },
  listen: { summary: "speech in, reply out: listen [--wav FILE] (the microphone without --wav)", load: () => import("./cli/listen.js") },
  voice: { summary: "voice setup: download and verify the small English Vosk model", load: () => import("./cli/voice.js") },
  "device-sim": {
    summary: 'a reference wearable: device-sim --serial PATH --text "..." (or --mqtt URL --device ID); --wav, --listen',
    load: () => import("./cli/device-sim.js"),
  },
  "install-service": {
    summary: "run needled as a systemd service (own user, unit, config); --dry-run shows the steps",
    load: async () => {
      const m = await import("./cli/service.js");
      return { run: m.runInstall, usage: m.installUsage };
    },
  },
  "uninstall-service": {
    summary: "stop and remove the systemd service (--purge: config, state and user too)",
    load: async () => {
      const m = await import("./cli/service.js");
      return { run: m.runUninstall, usage: m.uninstallUsage };
    },
  },
};

function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  return [
    "usage: needled <command> [options]",
    "",
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    "",
    "needled <command> --help for a command's options",
  ].join("\n");
}

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.out(usage());
    return name ? EXIT.OK : EXIT.USAGE;
  }
  const cmd = commands[name];
  if (!cmd) {
    io.err(`needled: unknown command "${name}"\n\n${usage()}`);
    return EXIT.USAGE;
  }
  try {
    const mod = await cmd.load();
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out((mod as { usage?: string }).usage ?? cmd.summary);
      return EXIT.OK;
    }
    return await mod.run(rest, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return EXIT.USAGE;
    }
    if (err instanceof UsageError) {
      io.err(`needled ${name}: ${err.message}`);
      return EXIT.USAGE;
    }
    if (err instanceof DaemonUnreachable) {
      io.err(`needled ${name}: ${err.message}`);
      return EXIT.FAILED;
    }
    io.err(`needled ${name}: ${(err as Error)?.stack ?? err}`);
    return EXIT.FAILED;
  }
}

// Run when executed (not when imported by tests).
if (process.argv[1] && fileURLToPath(import.meta.url) === (await import("node:fs")).realpathSync(process.argv[1])) {
  const code = await main(process.argv.slice(2));
  process.exitCode = code;
  // The daemon has closed its handles by now; anything left (a stuck plugin timer) must not keep us up.
  setTimeout(() => process.exit(code), 200).unref();
}
