// Link message types and their payloads (byte layouts in devices/PROTOCOL.md). Strings are UTF-8 with a
// length prefix: str8 = u8 length + bytes, str16 = u16 LE length + bytes. A receiver ignores payload bytes
// after the fields it knows (later 1.x revisions may append fields), except audio_chunk whose tail is PCM.
import { decodeFrame, encodeFrame, FrameError, LINK_VERSION, MAX_PAYLOAD } from "./frame.js";

export const TYPE = {
  hello: 0x01,
  text: 0x02,
  audio_start: 0x03,
  audio_chunk: 0x04,
  audio_end: 0x05,
  button: 0x06,
  welcome: 0x10,
  reply: 0x11,
  event: 0x12,
  haptic: 0x13,
  ack: 0x20,
  ping: 0x21,
  pong: 0x22,
  error: 0x23,
} as const;
export type MessageType = keyof typeof TYPE;
const TYPE_NAME = new Map<number, MessageType>(Object.entries(TYPE).map(([k, v]) => [v, k as MessageType]));

export const CAPABILITIES = ["screen", "haptics", "microphone", "speaker", "buttons", "keyboard"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const BUTTON_ACTIONS = ["down", "up", "click", "double", "long"] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

export const ERROR_CODES = {
  UNSUPPORTED_VERSION: 1,
  UNKNOWN_TYPE: 2,
  BAD_PAYLOAD: 3,
  BAD_DEVICE: 4,
  AUDIO: 5,
  NO_SPEECH: 6,
  BUSY: 7,
  TOO_LONG: 8,
  INTERNAL: 9,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;
const ERROR_NAME = new Map<number, ErrorCode>(Object.entries(ERROR_CODES).map(([k, v]) => [v, k as ErrorCode]));

export const AUDIO_FORMAT_S16LE = 1;

export type Message =
  | { type: "hello"; protocol: number; device: string; profile: string; capabilities: Capability[]; firmware: string }
  | { type: "text"; text: string }
  | { type: "audio_start"; stream: number; sampleRate: number; format: "s16le" | `format-${number}`; channels: number }
  | { type: "audio_chunk"; stream: number; index: number; pcm: Buffer }
  | { type: "audio_end"; stream: number; chunks: number; cancelled: boolean }
  | { type: "button"; button: number; action: ButtonAction | `action-${number}` }
  | { type: "welcome"; protocol: number; hub: string; profile: string; lines: number; columns: number }
  | { type: "reply"; replyTo: number; ok: boolean; confirm: boolean; truncated: boolean; kind: string; text: string; lines: string[] }
  | { type: "event"; id: number; name: string; plugin: string; text: string; lines: string[] }
  | { type: "haptic"; pattern: string; intensity: number; steps: Array<[on: number, off: number]> }
  | { type: "ack"; ackSeq: number; status: number }
  | { type: "ping"; nonce: number }
  | { type: "pong"; nonce: number }
  | { type: "error"; refSeq: number; code: ErrorCode | `code-${number}`; message: string };

export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

export interface Frame {
  seq: number;
  msg: Message;
}

// ------------------------------------------------------------------ writing

class Writer {
  private readonly parts: Buffer[] = [];
  u8(n: number): this {
    this.parts.push(Buffer.of(checkInt(n, 0xff)));
    return this;
  }
  u16(n: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(checkInt(n, 0xffff));
    this.parts.push(b);
    return this;
  }
  u32(n: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(checkInt(n, 0xffffffff));
    this.parts.push(b);
    return this;
  }
  str8(s: string): this {
    return this.str(s, 0xff, 1);
  }
  str16(s: string): this {
    return this.str(s, 0xffff, 2);
  }
  bytes(b: Uint8Array): this {
    this.parts.push(Buffer.from(b));
    return this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
  private str(s: string, max: number, width: 1 | 2): this {
    const b = Buffer.from(s, "utf8");
    if (b.length > max) throw new RangeError(`string of ${b.length} UTF-8 bytes exceeds ${max}: ${JSON.stringify(s.slice(0, 40))}`);
    return (width === 1 ? this.u8(b.length) : this.u16(b.length)).bytes(b);
  }
}

function checkInt(n: number, max: number): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${n} is not an integer in 0..${max}`);
  return n;
}

function named<T extends string>(list: readonly T[], value: string, what: string): number {
  const i = list.indexOf(value as T);
  if (i >= 0) return i;
  const m = /^[a-z]+-(\d+)$/.exec(value);
  if (m) return Number(m[1]);
  throw new RangeError(`unknown ${what} ${JSON.stringify(value)}`);
}

export function encodePayload(msg: Message): Buffer {
  const w = new Writer();
  switch (msg.type) {
    case "hello": {
      let caps = 0;
      for (const c of msg.capabilities) caps |= 1 << named(CAPABILITIES, c, "capability");
      return w.u8(msg.protocol).str8(msg.device).str8(msg.profile).u16(caps).str8(msg.firmware).done();
    }
    case "text":
      return w.str16(msg.text).done();
    case "audio_start":
      return w
        .u16(msg.stream)
        .u32(msg.sampleRate)
        .u8(msg.format === "s16le" ? AUDIO_FORMAT_S16LE : named([], msg.format, "audio format"))
        .u8(msg.channels)
        .done();
    case "audio_chunk":
      return w.u16(msg.stream).u16(msg.index).bytes(msg.pcm).done();
    case "audio_end":
      return w.u16(msg.stream).u16(msg.chunks).u8(msg.cancelled ? 1 : 0).done();
    case "button":
      return w.u8(msg.button).u8(named(BUTTON_ACTIONS, msg.action, "button action")).done();
    case "welcome":
      return w.u8(msg.protocol).str8(msg.hub).str8(msg.profile).u8(msg.lines).u8(msg.columns).done();
    case "reply": {
      const flags = (msg.ok ? 1 : 0) | (msg.confirm ? 2 : 0) | (msg.truncated ? 4 : 0);
      w.u16(msg.replyTo).u8(flags).str8(msg.kind).str16(msg.text).u8(msg.lines.length);
      for (const l of msg.lines) w.str8(l);
      return w.done();
    }
    case "event": {
      w.u32(msg.id).str8(msg.name).str8(msg.plugin).str16(msg.text).u8(msg.lines.length);
      for (const l of msg.lines) w.str8(l);
      return w.done();
    }
    case "haptic": {
      w.str8(msg.pattern).u8(msg.intensity).u8(msg.steps.length);
      for (const [on, off] of msg.steps) w.u16(on).u16(off);
      return w.done();
    }
    case "ack":
      return w.u16(msg.ackSeq).u8(msg.status).done();
    case "ping":
    case "pong":
      return w.u32(msg.nonce).done();
    case "error": {
      const code = ERROR_CODES[msg.code as ErrorCode] ?? named([], msg.code, "error code");
      return w.u16(msg.refSeq).u8(code).str8(msg.message).done();
    }
  }
}

/** The whole frame for a message (before SLIP). Throws RangeError when a field does not fit. */
export function encodeMessage(msg: Message, seq: number): Buffer {
  const payload = encodePayload(msg);
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`${msg.type} payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  return encodeFrame(TYPE[msg.type], seq, payload);
}

// ------------------------------------------------------------------ reading

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  private at = 0;
  constructor(
    private readonly b: Buffer,
    private readonly what: string,
  ) {}
  private need(n: number, field: string): void {
    if (this.at + n > this.b.length) throw new Error(`${this.what}: payload ends inside ${field}`);
  }
  u8(field: string): number {
    this.need(1, field);
    return this.b.readUInt8(this.at++);
  }
  u16(field: string): number {
    this.need(2, field);
    const v = this.b.readUInt16LE(this.at);
    this.at += 2;
    return v;
  }
  u32(field: string): number {
    this.need(4, field);
    const v = this.b.readUInt32LE(this.at);
    this.at += 4;
    return v;
  }
  str8(field: string): string {
    return this.str(this.u8(field), field);
  }
  str16(field: string): string {
    return this.str(this.u16(field), field);
  }
  rest(): Buffer {
    const out = Buffer.from(this.b.subarray(this.at));
    this.at = this.b.length;
    return out;
  }
  private str(n: number, field: string): string {
    this.need(n, field);
    const bytes = this.b.subarray(this.at, this.at + n);
    this.at += n;
    try {
      return utf8.decode(bytes);
    } catch {
      throw new Error(`${this.what}: ${field} is not valid UTF-8`);
    }
  }
}

export function decodePayload(type: MessageType, payload: Buffer): Message {
  const r = new Reader(payload, type);
  switch (type) {
    case "hello": {
      const protocol = r.u8("protocol");
      const device = r.str8("device");
      const profile = r.str8("profile");
      const bits = r.u16("capabilities");
      const capabilities: Capability[] = [];
      for (let i = 0; i < 16; i++) {
        if (bits & (1 << i)) capabilities.push((CAPABILITIES[i] ?? `bit-${i}`) as Capability);
      }
      return { type, protocol, device, profile, capabilities, firmware: r.str8("firmware") };
    }
    case "text":
      return { type, text: r.str16("text") };
    case "audio_start": {
      const stream = r.u16("stream");
      const sampleRate = r.u32("sample rate");
      const f = r.u8("format");
      return { type, stream, sampleRate, format: f === AUDIO_FORMAT_S16LE ? "s16le" : `format-${f}`, channels: r.u8("channels") };
    }
    case "audio_chunk":
      return { type, stream: r.u16("stream"), index: r.u16("index"), pcm: r.rest() };
    case "audio_end":
      return { type, stream: r.u16("stream"), chunks: r.u16("chunks"), cancelled: (r.u8("flags") & 1) === 1 };
    case "button": {
      const button = r.u8("button");
      const a = r.u8("action");
      return { type, button, action: BUTTON_ACTIONS[a] ?? `action-${a}` };
    }
    case "welcome":
      return { type, protocol: r.u8("protocol"), hub: r.str8("hub"), profile: r.str8("profile"), lines: r.u8("lines"), columns: r.u8("columns") };
    case "reply": {
      const replyTo = r.u16("reply-to");
      const flags = r.u8("flags");
      const kind = r.str8("kind");
      const text = r.str16("text");
      const n = r.u8("line count");
      const lines: string[] = [];
      for (let i = 0; i < n; i++) lines.push(r.str8(`line ${i}`));
      return { type, replyTo, ok: (flags & 1) !== 0, confirm: (flags & 2) !== 0, truncated: (flags & 4) !== 0, kind, text, lines };
    }
    case "event": {
      const id = r.u32("event id");
      const name = r.str8("event type");
      const plugin = r.str8("plugin");
      const text = r.str16("text");
      const n = r.u8("line count");
      const lines: string[] = [];
      for (let i = 0; i < n; i++) lines.push(r.str8(`line ${i}`));
      return { type, id, name, plugin, text, lines };
    }
    case "haptic": {
      const pattern = r.str8("pattern");
      const intensity = r.u8("intensity");
      const n = r.u8("step count");
      const steps: Array<[number, number]> = [];
      for (let i = 0; i < n; i++) steps.push([r.u16(`step ${i} on`), r.u16(`step ${i} off`)]);
      return { type, pattern, intensity, steps };
    }
    case "ack":
      return { type, ackSeq: r.u16("acked seq"), status: r.u8("status") };
    case "ping":
    case "pong":
      return { type, nonce: r.u32("nonce") };
    case "error": {
      const refSeq = r.u16("ref seq");
      const c = r.u8("code");
      return { type, refSeq, code: ERROR_NAME.get(c) ?? `code-${c}`, message: r.str8("message") };
    }
  }
}

/** A whole frame (before SLIP) -> seq + message. Throws FrameError naming the problem. */
export function decodeMessage(bytes: Uint8Array): Frame {
  const raw = decodeFrame(bytes);
  const header = { version: raw.version, type: raw.type, seq: raw.seq };
  if (raw.version !== LINK_VERSION) {
    throw new FrameError("version", `link version ${raw.version} is not supported (this hub speaks ${LINK_VERSION})`, header);
  }
  const type = TYPE_NAME.get(raw.type);
  if (!type) throw new FrameError("type", `unknown message type 0x${raw.type.toString(16).padStart(2, "0")}`, header);
  try {
    return { seq: raw.seq, msg: decodePayload(type, raw.payload) };
  } catch (err) {
    throw new FrameError("payload", (err as Error).message, header);
  }
}

/** A message as JSON-friendly data (PCM as its byte count). For logs and `needled device-sim`. */
export function messageJson(f: Frame): Record<string, unknown> {
  const { msg } = f;
  if (msg.type === "audio_chunk") return { seq: f.seq, type: msg.type, stream: msg.stream, index: msg.index, bytes: msg.pcm.length };
  return { seq: f.seq, ...msg };
}
