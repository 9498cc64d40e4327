// One wearable on the link protocol, whatever carries the frames (a serial port, MQTT): hello -> welcome,
// text -> ack + core.say -> reply, audio -> speech hook -> core.say -> reply, button -> ack + hook,
// ping -> pong, events for the device -> event (+ haptic) frames. Damaged frames are counted and dropped.
// No I/O of its own: frames go out through `send`, text goes in through `core.say`.
import type { Answer, Core } from "../daemon/core.js";
import { checkDevice } from "../daemon/core.js";
import type { EventEnvelope } from "../daemon/events.js";
import type { Logger } from "../plugins/api.js";
import { clampUtf8, fitText } from "./link/fit.js";
import { FRAME_PROBLEMS, FrameError, LINK_VERSION, type FrameProblem } from "./link/frame.js";
import { currentAudioHandler, emitButton } from "./link/hooks.js";
import { decodeMessage, encodeMessage, type ErrorCode, type Frame, type Message, type MessageOf } from "./link/messages.js";
import type { Profile, ProfileSet } from "./serial-profiles.js";

/** Audio longer than this is refused (16 kHz * 2 bytes * 30 s). */
export const MAX_UTTERANCE_BYTES = 16_000 * 2 * 30;
/** Text commands of one device being answered at once. */
export const MAX_INFLIGHT = 4;
/** How long a text command's seq is remembered to spot a retransmission. */
const DUPLICATE_WINDOW_MS = 60_000;
/** Full reply text is cut to this many UTF-8 bytes (the frame limit is 4096). */
const MAX_TEXT_BYTES = 2048;

/** Counters for one channel (all its sessions), shown in GET /healthz. */
export class LinkStats {
  framesIn = 0;
  framesOut = 0;
  dropped: Record<FrameProblem, number> = Object.fromEntries(FRAME_PROBLEMS.map((p) => [p, 0])) as Record<FrameProblem, number>;
  commands = 0;
  replies = 0;
  events = 0;
  errorsSent = 0;
  utterances = 0;
  duplicates = 0;

  get droppedTotal(): number {
    return Object.values(this.dropped).reduce((a, b) => a + b, 0);
  }

  json(): Record<string, unknown> {
    return {
      framesIn: this.framesIn,
      framesOut: this.framesOut,
      dropped: { total: this.droppedTotal, ...this.dropped },
      commands: this.commands,
      replies: this.replies,
      events: this.events,
      errorsSent: this.errorsSent,
      utterances: this.utterances,
      duplicates: this.duplicates,
    };
  }
}

export interface SessionOptions {
  core: Pick<Core, "say">;
  profiles: ProfileSet;
  /** Writes one frame (before SLIP) to the device. */
  send: (frame: Buffer) => void;
  log: Logger;
  stats: LinkStats;
  /** "serial" or "mqtt": the Utterance source. */
  source: string;
  /** The hub's name in welcome frames. */
  hub: string;
  /** Who the device is until it says hello (config, or derived from the port / topic). */
  device: string;
  profile?: string;
  /** The id is fixed by the transport (an MQTT topic): a hello with another id is refused. */
  fixedDevice?: boolean;
  onHello?: (s: LinkSession, hello: MessageOf<"hello">) => void;
}

interface AudioStream {
  stream: number;
  chunks: Buffer[];
  bytes: number;
  received: number;
  next: number;
  missing: number;
}

export class LinkSession {
  device: string;
  profile: Profile;
  capabilities: string[] = [];
  firmware = "";
  helloAt: string | undefined;
  private seq = 0;
  private closed = false;
  private inflight = 0;
  private readonly recent = new Map<number, { at: number; frames?: Buffer[] }>();
  private audio: AudioStream | undefined;
  private readonly problemsSeen = new Map<FrameProblem, number>();

  constructor(private readonly opts: SessionOptions) {
    this.device = opts.device;
    this.profile = (opts.profile ? opts.profiles.get(opts.profile) : undefined) ?? opts.profiles.default;
  }

  close(): void {
    this.closed = true;
    this.audio = undefined;
  }

  /** The device restarted (it said hello, here or to another daemon of a group): forget its seqs and audio. */
  reset(): void {
    this.recent.clear();
    this.audio = undefined;
  }

  /** One whole frame as received (after SLIP). Never throws. */
  receive(bytes: Buffer): void {
    if (this.closed) return;
    this.opts.stats.framesIn++;
    let frame: Frame;
    try {
      frame = decodeMessage(bytes);
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      this.problem(err.problem, err.message);
      // The CRC was fine, so the sender is a device that speaks the link and deserves to know why.
      if (err.header) {
        const code: ErrorCode = err.problem === "version" ? "UNSUPPORTED_VERSION" : err.problem === "type" ? "UNKNOWN_TYPE" : "BAD_PAYLOAD";
        this.sendError(err.header.seq, code, err.message);
      }
      return;
    }
    try {
      this.dispatch(frame);
    } catch (err) {
      this.opts.log.error("link: handling a frame failed", { device: this.device, type: frame.msg.type, error: String((err as Error)?.stack ?? err) });
      this.sendError(frame.seq, "INTERNAL", `internal error: ${(err as Error)?.message ?? err}`);
    }
  }

  /** A framing problem found below the frame layer (SLIP) or by decodeMessage: counted, logged sparingly. */
  problem(kind: FrameProblem, detail: string): void {
    this.opts.stats.dropped[kind]++;
    const n = (this.problemsSeen.get(kind) ?? 0) + 1;
    this.problemsSeen.set(kind, n);
    if (n === 1 || n % 100 === 0) {
      this.opts.log.warn("link: dropped a damaged frame", { device: this.device, problem: kind, detail, count: n });
    }
  }

  /** An event from the EventBus meant for this device (or for everyone). */
  deliverEvent(e: EventEnvelope): void {
    if (this.closed) return;
    this.post(eventMessage(e, this.profile));
    this.opts.stats.events++;
    if (e.event.haptic) {
      const h = hapticMessage(this.profile, e.event.haptic);
      if (h) this.post(h);
    }
  }

  private dispatch({ seq, msg }: Frame): void {
    switch (msg.type) {
      case "hello":
        return this.onHello(seq, msg);
      case "text":
        return this.onText(seq, msg.text);
      case "audio_start":
        return this.onAudioStart(seq, msg);
      case "audio_chunk":
        return this.onAudioChunk(seq, msg);
      case "audio_end":
        return this.onAudioEnd(seq, msg);
      case "button":
        return this.onButton(seq, msg);
      case "ping":
        return this.post({ type: "pong", nonce: msg.nonce });
      case "ack":
      case "pong":
        return;
      case "error":
        this.opts.log.warn("link: the device reports an error", { device: this.device, refSeq: msg.refSeq, code: msg.code, message: msg.message });
        return;
      case "welcome":
      case "reply":
      case "event":
      case "haptic":
        this.problem("type", `${msg.type} goes from the hub to devices, not back`);
        this.sendError(seq, "UNKNOWN_TYPE", `${msg.type} is a hub-to-device message`);
        return;
    }
  }

  private onHello(seq: number, hello: MessageOf<"hello">): void {
    if (hello.protocol < 1) {
      this.sendError(seq, "UNSUPPORTED_VERSION", `protocol ${hello.protocol} is not supported (this hub speaks ${LINK_VERSION})`);
      return;
    }
    const bad = checkDevice(hello.device);
    if (bad) {
      this.sendError(seq, "BAD_DEVICE", clampUtf8(bad, 255));
      return;
    }
    if (this.opts.fixedDevice && hello.device !== this.device) {
      this.sendError(seq, "BAD_DEVICE", `hello says "${hello.device}" but this link belongs to "${this.device}"`);
      return;
    }
    let profile = this.profile;
    if (hello.profile !== "") {
      const p = this.opts.profiles.get(hello.profile);
      if (p) profile = p;
      else {
        this.opts.log.warn("link: the device names an unknown profile; keeping the configured one", {
          device: hello.device,
          asked: hello.profile,
          using: profile.name,
          known: this.opts.profiles.names(),
        });
      }
    }
    if (hello.device !== this.device) this.opts.log.info("link: device identified", { was: this.device, device: hello.device });
    this.device = hello.device;
    this.profile = profile;
    this.capabilities = hello.capabilities;
    this.firmware = hello.firmware;
    this.helloAt = new Date().toISOString();
    // A device that restarts counts from 0 again: forget the old seqs.
    this.reset();
    this.post({
      type: "welcome",
      protocol: Math.min(hello.protocol, LINK_VERSION),
      hub: clampUtf8(this.opts.hub, 255),
      profile: profile.name,
      lines: profile.screen?.lines ?? 0,
      columns: profile.screen?.columns ?? 0,
    });
    this.opts.log.info("link: hello", {
      device: this.device,
      profile: profile.name,
      capabilities: hello.capabilities,
      firmware: hello.firmware,
      source: this.opts.source,
    });
    this.opts.onHello?.(this, hello);
  }

  /** Retransmission of a command already seen? Then re-ack / resend the reply and say so. */
  private duplicate(seq: number): boolean {
    const now = Date.now();
    for (const [s, r] of this.recent) if (now - r.at > DUPLICATE_WINDOW_MS) this.recent.delete(s);
    const seen = this.recent.get(seq);
    if (!seen) return false;
    this.opts.log.info("link: a frame seen before (retransmission); answered from memory", { device: this.device, seq });
    this.opts.stats.duplicates++;
    this.post({ type: "ack", ackSeq: seq, status: 0 });
    for (const f of seen.frames ?? []) this.sendRaw(f);
    return true;
  }

  private onText(seq: number, text: string): void {
    if (this.duplicate(seq)) return;
    this.command(seq, async () => text);
  }

  /** Runs one command: ack now, the reply (to `seq`) when core.say answers. */
  private command(seq: number, getText: () => Promise<string | undefined>): void {
    if (this.inflight >= MAX_INFLIGHT) {
      this.sendError(seq, "BUSY", `${MAX_INFLIGHT} commands are still being answered; try again`);
      return;
    }
    this.recent.set(seq, { at: Date.now() });
    this.post({ type: "ack", ackSeq: seq, status: 0 });
    this.inflight++;
    this.opts.stats.commands++;
    void (async () => {
      try {
        let text: string | undefined;
        try {
          text = await getText();
        } catch (err) {
          this.sendError(seq, "INTERNAL", clampUtf8(`speech recognition failed: ${(err as Error)?.message ?? err}`, 255));
          this.recent.delete(seq);
          return;
        }
        const answer: Answer =
          text === undefined || text.trim() === ""
            ? { ok: false, say: "Sorry, I didn't catch that.", error: { code: "BAD_INPUT", message: "nothing was recognised" }, ms: 0 }
            : await this.opts.core.say({ text, device: this.device, source: this.opts.source });
        const frames = this.replyFrames(seq, answer);
        const entry = this.recent.get(seq);
        if (entry) entry.frames = frames;
        for (const f of frames) this.sendRaw(f);
        this.opts.stats.replies++;
      } finally {
        this.inflight--;
      }
    })();
  }

  private replyFrames(seq: number, answer: Answer): Buffer[] {
    const out: Buffer[] = [];
    const reply = replyMessage(answer, seq, this.profile);
    const r = this.encode(reply);
    if (r) out.push(r);
    const on = this.profile.haptics?.on_reply;
    const name = answer.confirm ? on?.confirm : answer.ok ? on?.ok : on?.error;
    const h = name ? hapticMessage(this.profile, name) : undefined;
    const hf = h ? this.encode(h) : undefined;
    if (hf) out.push(hf);
    return out;
  }

  private onAudioStart(seq: number, m: MessageOf<"audio_start">): void {
    if (m.sampleRate !== 16_000 || m.format !== "s16le" || m.channels !== 1) {
      this.audio = undefined;
      this.sendError(seq, "AUDIO", `audio must be 16000 Hz s16le mono (got ${m.sampleRate} Hz ${m.format} x${m.channels})`);
      return;
    }
    if (this.audio) this.opts.log.debug("link: a new audio stream replaces an unfinished one", { device: this.device, old: this.audio.stream });
    this.audio = { stream: m.stream, chunks: [], bytes: 0, received: 0, next: 0, missing: 0 };
  }

  private onAudioChunk(seq: number, m: MessageOf<"audio_chunk">): void {
    const a = this.audio;
    if (!a || a.stream !== m.stream) return; // a stream we refused or that was cancelled
    if (m.pcm.length % 2 !== 0) {
      this.sendError(seq, "BAD_PAYLOAD", "audio_chunk PCM must be whole 16-bit samples");
      this.audio = undefined;
      return;
    }
    if (a.bytes + m.pcm.length > MAX_UTTERANCE_BYTES) {
      this.sendError(seq, "TOO_LONG", `an utterance may be at most ${MAX_UTTERANCE_BYTES / 32_000} s`);
      this.audio = undefined;
      return;
    }
    a.missing += (m.index - a.next) & 0xffff;
    a.next = (m.index + 1) & 0xffff;
    a.received++;
    a.chunks.push(m.pcm);
    a.bytes += m.pcm.length;
  }

  private onAudioEnd(seq: number, m: MessageOf<"audio_end">): void {
    const a = this.audio;
    if (this.duplicate(seq)) return;
    if (!a || a.stream !== m.stream) {
      if (!m.cancelled) this.sendError(seq, "AUDIO", `no audio stream ${m.stream} is open`);
      return;
    }
    this.audio = undefined;
    if (m.cancelled) {
      this.post({ type: "ack", ackSeq: seq, status: 0 });
      return;
    }
    const lost = a.missing + ((m.chunks - a.next) & 0xffff);
    if (lost > 0) {
      this.sendError(seq, "AUDIO", `${lost} audio chunk(s) of ${m.chunks} were lost; say it again`);
      return;
    }
    const handler = currentAudioHandler();
    if (!handler) {
      this.sendError(seq, "NO_SPEECH", "speech recognition is not installed on this hub; send text");
      return;
    }
    const all = Buffer.concat(a.chunks);
    const pcm = new Int16Array(all.length / 2);
    for (let i = 0; i < pcm.length; i++) pcm[i] = all.readInt16LE(i * 2);
    this.opts.stats.utterances++;
    const device = this.device;
    this.command(seq, async () => (await handler({ device, source: this.opts.source, pcm, sampleRate: 16_000 })) ?? undefined);
  }

  private onButton(seq: number, m: MessageOf<"button">): void {
    this.post({ type: "ack", ackSeq: seq, status: 0 });
    const ptt = this.profile.buttons?.push_to_talk;
    emitButton(
      { device: this.device, source: this.opts.source, button: m.button, action: m.action, pushToTalk: ptt !== undefined && ptt !== null && ptt === m.button },
      (err) => this.opts.log.error("button handler threw", { error: String(err) }),
    );
    this.opts.log.debug("link: button", { device: this.device, button: m.button, action: m.action });
  }

  private sendError(refSeq: number, code: ErrorCode, message: string): void {
    this.opts.stats.errorsSent++;
    this.post({ type: "error", refSeq, code, message: clampUtf8(message, 255) });
  }

  private encode(msg: Message): Buffer | undefined {
    try {
      const f = encodeMessage(msg, this.seq);
      this.seq = (this.seq + 1) & 0xffff;
      return f;
    } catch (err) {
      this.opts.log.error("link: cannot encode a frame", { device: this.device, type: msg.type, error: String(err) });
      return undefined;
    }
  }

  private post(msg: Message): void {
    const f = this.encode(msg);
    if (f) this.sendRaw(f);
  }

  private sendRaw(frame: Buffer): void {
    if (this.closed) return;
    this.opts.stats.framesOut++;
    try {
      this.opts.send(frame);
    } catch (err) {
      this.opts.log.warn("link: send failed", { device: this.device, error: String(err) });
    }
  }

  status(): Record<string, unknown> {
    return {
      device: this.device,
      profile: this.profile.name,
      ...(this.helloAt ? { helloAt: this.helloAt, capabilities: this.capabilities, firmware: this.firmware } : {}),
      inflight: this.inflight,
    };
  }
}

/** The reply frame for an Answer, fitted to the profile's screen. */
export function replyMessage(answer: Answer, replyTo: number, profile: Profile): MessageOf<"reply"> {
  const say = answer.say ?? "";
  const fitted = profile.screen ? fitText(say, profile.screen) : { lines: [], truncated: false };
  const kind = answer.error?.code ?? answer.calls?.[0]?.name ?? "";
  return {
    type: "reply",
    replyTo,
    ok: answer.ok,
    confirm: answer.confirm !== undefined,
    truncated: fitted.truncated,
    kind: clampUtf8(kind, 255),
    text: wantsFullText(profile) ? clampUtf8(say, MAX_TEXT_BYTES) : "",
    lines: fitted.lines.map((l) => clampUtf8(l, 255)),
  };
}

/** The event frame for an EventBus envelope, fitted to the profile's screen. */
export function eventMessage(e: EventEnvelope, profile: Profile): MessageOf<"event"> {
  const say = e.event.say ?? "";
  const fitted = profile.screen && say !== "" ? fitText(say, profile.screen) : { lines: [] };
  return {
    type: "event",
    id: e.id >>> 0,
    name: clampUtf8(e.event.type, 255),
    plugin: clampUtf8(e.plugin, 255),
    text: wantsFullText(profile) ? clampUtf8(say, MAX_TEXT_BYTES) : "",
    lines: fitted.lines.map((l) => clampUtf8(l, 255)),
  };
}

/** The haptic frame for a pattern name, or undefined when the profile has no motor or no such pattern. */
export function hapticMessage(profile: Profile, name: string): MessageOf<"haptic"> | undefined {
  const h = profile.haptics;
  if (!h) return undefined;
  const use = h.patterns[name] ? name : h.default && h.patterns[h.default] ? h.default : undefined;
  if (!use) return undefined;
  return { type: "haptic", pattern: use, intensity: h.intensity ?? 255, steps: h.patterns[use]!.map(([on, off]) => [on, off]) };
}

function wantsFullText(p: Profile): boolean {
  return p.screen === null || p.screen.full_text === true || p.audio.speaker === true;
}
