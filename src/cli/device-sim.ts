// needled device-sim: a reference wearable speaking the link protocol (devices/PROTOCOL.md), on a serial
// port or over MQTT. It says hello, sends text (or a WAV file as audio frames), prints the reply frame as
// JSON and, with --listen, prints event frames (acking each) until --count events or --timeout.
import { readFile } from "node:fs/promises";
import mqtt, { type MqttClient } from "mqtt";
import wavefile from "wavefile";
import { MAX_FRAME } from "../channels/link/frame.js";
import { decodeMessage, encodeMessage, messageJson, type Capability, type Frame, type Message } from "../channels/link/messages.js";
import { slipEncode, SlipDecoder } from "../channels/link/slip.js";
import { openSerialPort, type OpenPort } from "../channels/serial-port.js";
import { baudRateFor, loadProfiles, type Profile } from "../channels/serial-profiles.js";
import { EXIT, parse, UsageError, type Io } from "./common.js";

export const usage = `needled device-sim (--serial PATH [--baud N] | --mqtt URL [--base-topic needled]) [options]
  --device ID        the id in the hello (default device-sim)
  --profile NAME     watch | glasses | hub-speaker | a profile in devices.profile_dirs (default watch)
  --text "..."       send a text command; prints the reply frame as JSON (repeatable)
  --wav FILE         send a WAV file as audio frames (converted to 16 kHz 16-bit mono); prints the reply
  --listen           then print event frames as JSON lines, acking each
  --count N          with --listen: stop after N events
  --timeout S        seconds to wait for each reply, or for events with --listen (default 30)
  --verbose          print every frame received (welcome, ack, haptic ...) on stderr
exit status: 0 a reply came (or --listen ended), 1 no reply / an error frame / no welcome, 2 usage`;

/** What carries frames: write one frame, get whole frames back. */
interface Transport {
  send(frame: Buffer): Promise<void>;
  /** Several frames at once (MQTT: one message, so a shared-subscription group hands them to one hub). */
  sendBatch(frames: Buffer[]): Promise<void>;
  close(): Promise<void>;
}

export class SimDevice {
  private seq = 0;
  private waiters: Array<{ test: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  readonly received: Frame[] = [];
  /** Frames that failed to decode (the sim keeps going, like a device should). */
  bad = 0;
  onFrame: ((f: Frame) => void) | undefined;

  private constructor(
    private readonly transport: Transport,
    readonly device: string,
    readonly profile: Profile,
  ) {}

  static async serial(path: string, baudRate: number, device: string, profile: Profile): Promise<SimDevice> {
    let port: OpenPort;
    try {
      port = await openSerialPort(path, baudRate);
    } catch (err) {
      throw new UsageError(`cannot open ${path}: ${(err as Error).message}`);
    }
    let sim: SimDevice | undefined;
    const decoder = new SlipDecoder(MAX_FRAME);
    let open = true;
    let writing = Promise.resolve();
    const transport: Transport = {
      send: (frame) => (writing = writing.then(() => port.write(slipEncode(frame)))),
      sendBatch: async (frames) => {
        for (const f of frames) await transport.send(f);
      },
      close: async () => {
        open = false;
        await writing.catch(() => {});
        await port.close().catch(() => {});
      },
    };
    sim = new SimDevice(transport, device, profile);
    void (async () => {
      const buf = Buffer.alloc(4096);
      while (open) {
        let n: number;
        try {
          ({ bytesRead: n } = await port.read(buf, 0, buf.length));
        } catch {
          return;
        }
        for (const item of decoder.push(buf.subarray(0, n))) {
          if ("frame" in item) sim!.deliver(item.frame);
          else sim!.bad++;
        }
      }
    })();
    return sim;
  }

  static async mqtt(url: string, base: string, device: string, profile: Profile): Promise<SimDevice> {
    let client: MqttClient;
    try {
      client = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, clientId: `device-sim-${device}-${process.pid}` });
    } catch (err) {
      throw new UsageError(`cannot reach the MQTT broker ${url}: ${(err as Error).message}`);
    }
    const transport: Transport = {
      send: async (frame) => {
        await client.publishAsync(`${base}/${device}/link/in`, frame, { qos: 1 });
      },
      sendBatch: async (frames) => {
        await client.publishAsync(`${base}/${device}/link/in`, Buffer.concat(frames), { qos: 1 });
      },
      close: async () => {
        await client.endAsync().catch(() => {});
      },
    };
    const sim = new SimDevice(transport, device, profile);
    client.on("message", (_topic, payload) => sim.deliver(payload));
    await client.subscribeAsync(`${base}/${device}/link/out`, { qos: 1 });
    return sim;
  }

  private deliver(bytes: Buffer): void {
    let f: Frame;
    try {
      f = decodeMessage(bytes);
    } catch {
      this.bad++;
      return;
    }
    this.received.push(f);
    this.onFrame?.(f);
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(f)) return true;
      w.resolve(f);
      return false;
    });
  }

  /** Resolves with the first frame (already received or coming) that passes `test`. */
  waitFor(test: (f: Frame) => boolean, timeoutMs: number, what: string, since = 0): Promise<Frame> {
    const had = this.received.slice(since).find(test);
    if (had) return Promise.resolve(had);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no ${what} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const done = (f: Frame) => {
        clearTimeout(t);
        resolve(f);
      };
      this.waiters.push({ test, resolve: done });
    });
  }

  frame(msg: Message): { seq: number; bytes: Buffer } {
    const seq = this.seq;
    this.seq = (this.seq + 1) & 0xffff;
    return { seq, bytes: encodeMessage(msg, seq) };
  }

  async send(msg: Message): Promise<number> {
    const { seq, bytes } = this.frame(msg);
    await this.transport.send(bytes);
    return seq;
  }

  async hello(timeoutMs: number): Promise<Frame> {
    const since = this.received.length;
    await this.send({
      type: "hello",
      protocol: 1,
      device: this.device,
      profile: this.profile.name,
      capabilities: capabilitiesOf(this.profile),
      firmware: "needled-device-sim/1",
    });
    return this.waitFor((f) => f.msg.type === "welcome" || f.msg.type === "error", timeoutMs, "welcome", since);
  }

  /** Sends text; resolves with the reply (or error) frame for it. */
  async text(text: string, timeoutMs: number): Promise<Frame> {
    const since = this.received.length;
    const seq = await this.send({ type: "text", text });
    return this.answerTo(seq, timeoutMs, since);
  }

  /** Sends 16 kHz mono PCM as audio frames (one batch); resolves with the reply (or error) frame. */
  async audio(pcm: Int16Array, timeoutMs: number, stream = 1): Promise<Frame> {
    const chunkSamples = Math.round((16_000 * (this.profile.audio.chunk_ms ?? 20)) / 1000);
    const frames: Buffer[] = [this.frame({ type: "audio_start", stream, sampleRate: 16_000, format: "s16le", channels: 1 }).bytes];
    let index = 0;
    for (let i = 0; i < pcm.length; i += chunkSamples) {
      const part = pcm.subarray(i, Math.min(pcm.length, i + chunkSamples));
      const bytes = Buffer.alloc(part.length * 2);
      for (let j = 0; j < part.length; j++) bytes.writeInt16LE(part[j]!, j * 2);
      frames.push(this.frame({ type: "audio_chunk", stream, index: index & 0xffff, pcm: bytes }).bytes);
      index++;
    }
    const end = this.frame({ type: "audio_end", stream, chunks: index & 0xffff, cancelled: false });
    frames.push(end.bytes);
    const since = this.received.length;
    await this.transport.sendBatch(frames);
    return this.answerTo(end.seq, timeoutMs, since);
  }

  private answerTo(seq: number, timeoutMs: number, since: number): Promise<Frame> {
    return this.waitFor(
      (f) => (f.msg.type === "reply" && f.msg.replyTo === seq) || (f.msg.type === "error" && f.msg.refSeq === seq),
      timeoutMs,
      `reply to frame ${seq}`,
      since,
    );
  }

  async ack(seq: number): Promise<void> {
    await this.send({ type: "ack", ackSeq: seq, status: 0 });
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}

export function capabilitiesOf(p: Profile): Capability[] {
  const caps: Capability[] = [];
  if (p.screen) caps.push("screen");
  if (p.haptics) caps.push("haptics");
  if (p.audio.microphone) caps.push("microphone");
  if (p.audio.speaker) caps.push("speaker");
  if (p.buttons?.push_to_talk !== undefined && p.buttons.push_to_talk !== null) caps.push("buttons");
  return caps;
}

/** A WAV file as 16 kHz 16-bit mono samples (wavefile converts depth and rate; channels are averaged). */
export async function readWav(file: string): Promise<Int16Array> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new UsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  let wav: InstanceType<typeof wavefile.WaveFile>;
  try {
    wav = new wavefile.WaveFile(bytes);
  } catch (err) {
    throw new UsageError(`${file}: not a WAV file we can read (${(err as Error).message})`);
  }
  const fmt = wav.fmt as { numChannels: number; sampleRate: number };
  if (wav.bitDepth !== "16") wav.toBitDepth("16");
  if (fmt.sampleRate !== 16_000) wav.toSampleRate(16_000);
  const channels = fmt.numChannels;
  const samples = wav.getSamples(false, Int16Array) as unknown as Int16Array | Int16Array[];
  if (!Array.isArray(samples) || channels === 1) return Array.isArray(samples) ? samples[0]! : samples;
  const out = new Int16Array(samples[0]!.length);
  for (let i = 0; i < out.length; i++) {
    let sum = 0;
    for (const ch of samples) sum += ch[i]!;
    out[i] = Math.round(sum / samples.length);
  }
  return out;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    serial: { type: "string" },
    baud: { type: "string" },
    mqtt: { type: "string" },
    "base-topic": { type: "string" },
    device: { type: "string" },
    profile: { type: "string" },
    text: { type: "string", multiple: true },
    wav: { type: "string" },
    listen: { type: "boolean" },
    count: { type: "string" },
    timeout: { type: "string" },
    verbose: { type: "boolean" },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"\n${usage}`);
  if (Boolean(values.serial) === Boolean(values.mqtt)) throw new UsageError(`give exactly one of --serial PATH or --mqtt URL\n${usage}`);
  const texts = values.text ?? [];
  if (texts.length === 0 && !values.wav && !values.listen) throw new UsageError(`nothing to do: give --text, --wav or --listen\n${usage}`);
  const timeoutMs = seconds(values.timeout ?? "30", "--timeout") * 1000;
  const count = values.count !== undefined ? positiveInt(values.count, "--count") : undefined;
  const device = values.device ?? "device-sim";
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/.test(device)) throw new UsageError(`--device: "${device}" is not a usable id (letters, digits, _ . : @ -)`);
  const profiles = loadProfiles();
  const profile = profiles.get(values.profile ?? "watch");
  if (!profile) throw new UsageError(`--profile: no profile "${values.profile}" (known: ${profiles.names().join(", ")})`);
  const wav = values.wav ? await readWav(values.wav) : undefined;

  const sim = values.serial
    ? await SimDevice.serial(values.serial, values.baud ? positiveInt(values.baud, "--baud") : baudRateFor(profile), device, profile)
    : await SimDevice.mqtt(values.mqtt!, values["base-topic"] ?? "needled", device, profile);
  const show = (f: Frame) => JSON.stringify(messageJson(f));
  let events = 0;
  let finishListening: () => void = () => {};
  const listened = new Promise<void>((resolve) => (finishListening = resolve));
  sim.onFrame = (f) => {
    if (values.verbose) io.err(`<- ${show(f)}`);
    if (f.msg.type === "event" && values.listen) {
      io.out(show(f));
      void sim.ack(f.seq).catch(() => {});
      events++;
      // A haptic frame follows its event: give it a moment to arrive and be printed.
      if (count !== undefined && events === count) setTimeout(finishListening, 300);
    } else if (f.msg.type === "haptic" && values.listen) {
      io.out(show(f));
    }
  };
  let failed = false;
  try {
    const welcome = await sim.hello(Math.min(timeoutMs, 10_000)).catch((err: Error) => {
      throw new Error(`${err.message}: is needled listening on ${values.serial ?? values.mqtt}?`);
    });
    if (welcome.msg.type === "error") {
      io.out(show(welcome));
      return EXIT.FAILED;
    }
    for (const t of texts) {
      const r = await sim.text(t, timeoutMs);
      io.out(show(r));
      if (r.msg.type === "error") failed = true;
    }
    if (wav) {
      const r = await sim.audio(wav, timeoutMs);
      io.out(show(r));
      if (r.msg.type === "error") failed = true;
    }
    if (values.listen) {
      let timer: NodeJS.Timeout | undefined;
      const onSig = () => finishListening();
      process.once("SIGINT", onSig);
      process.once("SIGTERM", onSig);
      await Promise.race([listened, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      process.off("SIGINT", onSig);
      process.off("SIGTERM", onSig);
      if (count !== undefined && events < count) {
        io.err(`needled device-sim: ${events} of ${count} events within ${timeoutMs / 1000} s`);
        failed = true;
      }
    }
  } catch (err) {
    io.err(`needled device-sim: ${(err as Error).message}`);
    failed = true;
  } finally {
    await sim.close();
  }
  return failed ? EXIT.FAILED : EXIT.OK;
}

function seconds(v: string, opt: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${opt}: expected seconds > 0, got "${v}"`);
  return n;
}

function positiveInt(v: string, opt: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${opt}: expected a positive integer, got "${v}"`);
  return n;
}
