// The wearable link: codec and SLIP decoding speed (this project's decoder against
// @serialport/parser-slip-encoder's), and round trips through a real daemon process over a socat PTY pair
// (ping -> pong, text -> reply with whatever engine the daemon loads).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SlipDecoder as LibSlipDecoder } from "@serialport/parser-slip-encoder";
import { MAX_FRAME } from "../src/channels/link/frame.js";
import { decodeMessage, encodeMessage, type Message } from "../src/channels/link/messages.js";
import { slipEncode, SlipDecoder } from "../src/channels/link/slip.js";
import { SimDevice } from "../src/cli/device-sim.js";
import { loadProfiles } from "../src/channels/serial-profiles.js";
import type { BenchResult } from "./say-latency.js";

function stats(name: string, samples: number[], note?: string): BenchResult {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { name, runs: s.length, medianMs: at(0.5), p95Ms: at(0.95), ...(note ? { note } : {}) };
}

function timeEach(n: number, fn: () => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    fn();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Decodes `stream` (in 4 KB chunks, as a port delivers it) with the library's Transform; ms. */
function libDecodeMs(stream: Buffer): number {
  const dec = new LibSlipDecoder();
  let frames = 0;
  dec.on("data", () => frames++);
  const t0 = performance.now();
  for (let i = 0; i < stream.length; i += 4096) dec.write(stream.subarray(i, i + 4096));
  return performance.now() - t0;
}

function ownDecodeMs(stream: Buffer): number {
  const dec = new SlipDecoder(MAX_FRAME);
  const t0 = performance.now();
  for (let i = 0; i < stream.length; i += 4096) dec.push(stream.subarray(i, i + 4096));
  return performance.now() - t0;
}

export async function runLinkBench(root: string, log: (l: string) => void): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const reply: Message = {
    type: "reply",
    replyTo: 7,
    ok: true,
    confirm: false,
    truncated: false,
    kind: "set_timer",
    text: "",
    lines: ["Pasta timer set", "for 8 minutes."],
  };
  results.push(stats("codec: encode + CRC a reply frame", timeEach(20_000, () => encodeMessage(reply, 7))));
  const frame = encodeMessage(reply, 7);
  results.push(stats("codec: check CRC + decode a reply frame", timeEach(20_000, () => decodeMessage(frame))));

  // One second of audio in 20 ms chunks (50 frames of 640 bytes), and 4 KB frames.
  for (const [label, size, count] of [
    ["1 s of audio, 20 ms chunks", 640, 50],
    ["64 frames of 4 KB", 4090, 64],
  ] as const) {
    const pcm = Buffer.alloc(size);
    for (let i = 0; i < size; i++) pcm[i] = (i * 37) & 0xff; // includes C0 and DB bytes
    const stream = Buffer.concat(
      Array.from({ length: count }, (_, i) => slipEncode(encodeMessage({ type: "audio_chunk", stream: 1, index: i, pcm: pcm.subarray(0, size - 4) }, i))),
    );
    const own = Array.from({ length: 30 }, () => ownDecodeMs(stream));
    const lib = Array.from({ length: 30 }, () => libDecodeMs(stream));
    results.push(stats(`slip decode ${label} (${(stream.length / 1024).toFixed(0)} KB): needled`, own));
    results.push(stats(`slip decode ${label}: @serialport/parser-slip-encoder`, lib));
  }

  // Round trips through a daemon process over a PTY pair.
  const cli = join(root, "dist", "src", "cli.js");
  if (!existsSync(cli)) throw new Error("not built (npm run build)");
  const dir = await mkdtemp(join(tmpdir(), "needled-bench-link-"));
  const a = join(dir, "hub");
  const b = join(dir, "dev");
  let socat: ChildProcess | undefined;
  let daemon: ChildProcess | undefined;
  try {
    socat = spawn("socat", [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: "ignore" });
    for (let i = 0; !(existsSync(a) && existsSync(b)); i++) {
      if (i > 250) throw new Error("socat did not start (is it installed?)");
      await new Promise((r) => setTimeout(r, 20));
    }
    const config = [
      "http: {host: 127.0.0.1, port: 0}",
      "mqtt: {enabled: false}",
      `state_dir: ${JSON.stringify(join(dir, "state"))}`,
      "log: {level: info}",
      "stdin: false",
      `serial: {ports: [{path: ${JSON.stringify(a)}, device: bench-watch}]}`,
      "",
    ].join("\n");
    await writeFile(join(dir, "config.yaml"), config);
    daemon = spawn(process.execPath, [cli, "start", "--config", join(dir, "config.yaml")], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    daemon.stdout!.on("data", (d) => (out += d));
    for (let i = 0; !/serial port open/.test(out); i++) {
      if (i > 1500 || daemon.exitCode !== null) throw new Error(`daemon did not open the port:\n${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const engine = /"engine ready"/.test(out) ? "engine loaded" : "no model: ENGINE_UNAVAILABLE answers";
    const sim = await SimDevice.serial(b, 921600, "bench-watch", loadProfiles().get("watch")!);
    try {
      await sim.hello(5000);
      const pings: number[] = [];
      for (let i = 0; i < 300; i++) {
        const since = sim.received.length;
        const t0 = performance.now();
        await sim.send({ type: "ping", nonce: i });
        await sim.waitFor((f) => f.msg.type === "pong" && f.msg.nonce === i, 5000, "pong", since);
        pings.push(performance.now() - t0);
      }
      results.push(stats("serial PTY round trip: ping -> pong (daemon process)", pings.slice(20)));
      const says: number[] = [];
      for (let i = 0; i < 60; i++) {
        const t0 = performance.now();
        await sim.text("stop navigating", 10_000);
        says.push(performance.now() - t0);
      }
      results.push(stats(`serial PTY round trip: text -> reply (${engine})`, says.slice(10)));
    } finally {
      await sim.close();
    }
  } finally {
    daemon?.kill("SIGTERM");
    socat?.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    await rm(dir, { recursive: true, force: true });
  }
  for (const r of results) if (r.note) log(r.note);
  return results;
}
