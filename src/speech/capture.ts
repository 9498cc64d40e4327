// Microphone capture from ALSA: `arecord -f S16_LE -r RATE -c 1 -t raw` as a child process, its stdout
// cut into 16-bit samples. arecord exiting (a USB microphone unplugged, a device busy) restarts it with
// backoff; a missing arecord is reported once, with the package to install.
import { spawn, type ChildProcess } from "node:child_process";
import type { Logger } from "../plugins/api.js";

export interface CaptureOptions {
  /** ALSA device (-D), e.g. "default", "plughw:1,0". */
  device: string;
  sampleRate: number;
  /** More arguments for arecord (e.g. --buffer-time). */
  args?: string[];
  command?: string;
  log: Logger;
  onAudio(pcm: Int16Array): void;
  /** Backoff after an exit: first and longest wait (ms). */
  restartMs?: { first: number; max: number };
}

/** Little-endian 16-bit PCM bytes -> samples, carrying an odd trailing byte to the next chunk. */
export class PcmReader {
  private carry: Buffer | undefined;

  push(chunk: Buffer): Int16Array {
    const bytes = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const n = bytes.length >> 1;
    this.carry = bytes.length & 1 ? bytes.subarray(bytes.length - 1) : undefined;
    const out = new Int16Array(n);
    for (let i = 0; i < n; i++) out[i] = bytes.readInt16LE(i * 2);
    return out;
  }
}

export class ArecordCapture {
  private child: ChildProcess | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Set once arecord was found missing (no restarts then). */
  missing = false;

  constructor(private readonly opts: CaptureOptions) {}

  get args(): string[] {
    const o = this.opts;
    return ["-q", "-D", o.device, "-f", "S16_LE", "-r", String(o.sampleRate), "-c", "1", "-t", "raw", ...(o.args ?? [])];
  }

  start(): void {
    if (this.stopped || this.child) return;
    const { log } = this.opts;
    const reader = new PcmReader();
    const startedAt = Date.now();
    let stderr = "";
    const child = spawn(this.opts.command ?? "arecord", this.args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    child.stdout!.on("data", (d: Buffer) => {
      const pcm = reader.push(d);
      if (pcm.length > 0) this.opts.onAudio(pcm);
    });
    child.stderr!.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-500);
    });
    child.once("error", (err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") {
        this.missing = true;
        log.error("voice: arecord not found: install alsa-utils (apt install alsa-utils) for the microphone; wearables and `needled listen --wav` still work");
      } else {
        log.error("voice: arecord could not start", { error: err.message });
      }
    });
    child.once("close", (code, signal) => {
      this.child = undefined;
      if (this.stopped || this.missing) return;
      // A run that lasted a while resets the backoff.
      if (Date.now() - startedAt > 30_000) this.failures = 0;
      const { first, max } = this.opts.restartMs ?? { first: 1000, max: 30_000 };
      const wait = Math.min(max, first * 2 ** this.failures++);
      log.warn("voice: arecord stopped; restarting", { code, signal, stderr: stderr.trim() || undefined, retryMs: wait, device: this.opts.device });
      this.timer = setTimeout(() => this.start(), wait);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const child = this.child;
    if (!child) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        child.kill("SIGKILL");
      }, 2000);
      child.once("close", () => {
        clearTimeout(t);
        resolve();
      });
      child.kill("SIGTERM");
    });
  }
}
