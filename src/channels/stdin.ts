// Typing at the daemon: when it runs in a terminal (or stdin: true), each line is said as device "stdin";
// the reply and that device's events are printed as plain lines (logs stay JSON).
import { createInterface, type Interface } from "node:readline";
import type { Core } from "../daemon/core.js";
import type { EventBus } from "../daemon/events.js";

export interface StdinChannelOptions {
  core: Core;
  events: EventBus;
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  device?: string;
}

export interface StdinChannel {
  close(): void;
}

export function startStdinChannel(opts: StdinChannelOptions): StdinChannel {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const device = opts.device ?? "stdin";
  const rl: Interface = createInterface({ input, terminal: false });
  let closed = false;
  // Lines are handled one at a time, in order (a "yes" must follow the question it answers).
  let queue = Promise.resolve();
  rl.on("line", (line) => {
    const text = line.trim();
    if (!text || closed) return;
    queue = queue.then(async () => {
      const a = await opts.core.say({ text, device, source: "stdin" });
      if (!closed) output.write(`${a.say}\n`);
    });
  });
  const stopEvents = opts.events.subscribe((e) => {
    if (closed || (e.device !== undefined && e.device !== device)) return;
    if (e.event.say) output.write(`[${e.event.type}] ${e.event.say}\n`);
  });
  return {
    close: () => {
      closed = true;
      stopEvents();
      rl.close();
    },
  };
}
