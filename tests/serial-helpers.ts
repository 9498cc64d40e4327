// Real serial ports for the wearable tests: socat PTY pairs (`socat pty,raw,echo=0,link=A pty,...,link=B`,
// apt package socat, see .ci/run). Killing socat is an unplug; starting it again on the same link paths
// is a replug. Also: a raw device end that writes and reads SLIP frames.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_FRAME } from "../src/channels/link/frame.js";
import { decodeMessage, encodeMessage, type Frame, type Message } from "../src/channels/link/messages.js";
import { slipEncode, SlipDecoder } from "../src/channels/link/slip.js";
import { openSerialPort, type OpenPort } from "../src/channels/serial-port.js";

export interface PtyPair {
  /** The daemon's end. */
  a: string;
  /** The device's end. */
  b: string;
  dir: string;
  /** (Re)starts socat on the same link paths. */
  plug(): Promise<void>;
  /** Kills socat: both ends go away. */
  unplug(): Promise<void>;
  dispose(): Promise<void>;
}

export async function ptyPair(): Promise<PtyPair> {
  const dir = await mkdtemp(join(tmpdir(), "needled-pty-"));
  const a = join(dir, "hub");
  const b = join(dir, "dev");
  let proc: ChildProcess | undefined;
  const plug = async () => {
    proc = spawn("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += d));
    const t0 = Date.now();
    while (!(existsSync(a) && existsSync(b) && /starting data transfer loop/.test(stderr))) {
      if (proc.exitCode !== null) throw new Error(`socat exited: ${stderr}`);
      if (Date.now() - t0 > 5000) throw new Error(`socat did not make ${a} and ${b}: ${stderr}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const unplug = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once("exit", () => resolve());
      p.kill("SIGTERM");
    });
  };
  await plug();
  return {
    a,
    b,
    dir,
    plug,
    unplug,
    dispose: async () => {
      await unplug();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The device side, frame by frame, for tests that need raw bytes on the wire. */
export class RawDevice {
  readonly frames: Frame[] = [];
  bad = 0;
  private seq = 0;
  private open = true;
  private constructor(readonly port: OpenPort) {}

  static async open(path: string): Promise<RawDevice> {
    const d = new RawDevice(await openSerialPort(path, 115200));
    const dec = new SlipDecoder(MAX_FRAME);
    void (async () => {
      const buf = Buffer.alloc(4096);
      while (d.open) {
        let n: number;
        try {
          ({ bytesRead: n } = await d.port.read(buf, 0, buf.length));
        } catch {
          return;
        }
        for (const item of dec.push(buf.subarray(0, n))) {
          if (!("frame" in item)) {
            d.bad++;
            continue;
          }
          try {
            d.frames.push(decodeMessage(item.frame));
          } catch {
            d.bad++;
          }
        }
      }
    })();
    return d;
  }

  /** Encodes a message with the next seq (or `seq`), SLIP-frames it, writes it; returns the seq. */
  async send(msg: Message, seq?: number): Promise<number> {
    const s = seq ?? this.seq++;
    await this.port.write(slipEncode(encodeMessage(msg, s)));
    return s;
  }

  async write(bytes: Buffer): Promise<void> {
    await this.port.write(bytes);
  }

  async waitFor(test: (f: Frame) => boolean, timeoutMs = 10_000, what = "a frame"): Promise<Frame> {
    const t0 = Date.now();
    for (;;) {
      const f = this.frames.find(test);
      if (f) return f;
      if (Date.now() - t0 > timeoutMs) throw new Error(`no ${what} within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((x) => x.msg.type))}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    this.open = false;
    await this.port.close().catch(() => {});
  }
}

/** Polls until `test` passes (returns its value) or throws after timeoutMs. */
export async function until<T>(get: () => Promise<T> | T, test: (v: T) => boolean, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const t0 = Date.now();
  let last: T;
  for (;;) {
    last = await get();
    if (test(last)) return last;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what} not reached within ${timeoutMs} ms; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
