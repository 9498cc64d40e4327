// Real serial ports for the wearable tests: socat PTY pairs (`socat pty,raw,echo=0,link=A pty,...,link=B`,
// apt package socat, see .ci/run). Killing socat is an unplug; starting it again on the same link paths
// is a replug. Also: a raw device end that writes and reads SLIP frames.
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MAX_FRAME } from "../src/channels/link/frame.js";
import { decodeMessage, encodeMessage, type Frame, type Message } from "../src/channels/link/messages.js";
import { slipEncode, SlipDecoder } from "../src/channels/link/slip.js";
import { openSerialPort, type OpenPort } from "../src/channels/serial-port.js";
import { Restartable, spawnReady } from "./helpers/process.js";
import { until } from "./helpers/wait.js";

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
  const socat = new Restartable(() =>
    spawnReady("socat", ["-d", "-d", `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], ({ err }) =>
      until(() => existsSync(a) && existsSync(b) && /starting data transfer loop/.test(err.text()), Boolean, 5000, `socat making ${a} and ${b}`, 20),
    ),
  );
  await socat.start();
  return {
    a,
    b,
    dir,
    plug: () => socat.start(),
    unplug: () => socat.stop(),
    dispose: async () => {
      await socat.stop();
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
