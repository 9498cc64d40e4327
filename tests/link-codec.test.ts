// The link codec (src/channels/link): CRC-32 test vectors, the byte-exact examples of devices/PROTOCOL.md,
// property tests (fast-check) for message round trips, SLIP against @serialport/parser-slip-encoder in
// both directions, resync after garbage, and decoding of arbitrary bytes failing only with FrameError.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { SlipDecoder as LibSlipDecoder, SlipEncoder as LibSlipEncoder } from "@serialport/parser-slip-encoder";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32 } from "../src/channels/link/crc.js";
import { decodeFrame, encodeFrame, FrameError, MAX_FRAME, MAX_PAYLOAD, splitFrames } from "../src/channels/link/frame.js";
import {
  BUTTON_ACTIONS,
  CAPABILITIES,
  decodeMessage,
  encodeMessage,
  ERROR_CODES,
  type ErrorCode,
  type Message,
} from "../src/channels/link/messages.js";
import { END, ESC, slipEncode, SlipDecoder } from "../src/channels/link/slip.js";

const ROOT = join(import.meta.dirname, "..");
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ""), "hex");
const spaced = (b: Buffer) => b.toString("hex").replace(/(..)(?!$)/g, "$1 ");

function problemOf(bytes: Uint8Array): string | undefined {
  try {
    decodeMessage(bytes);
    return undefined;
  } catch (err) {
    if (!(err instanceof FrameError)) throw err;
    return err.problem;
  }
}

describe("CRC-32/ISO-HDLC", () => {
  it("gives the catalogued check value and other known vectors", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
    expect(crc32(Buffer.from("a"))).toBe(0xe8b7be43);
    expect(crc32(Buffer.from("The quick brown fox jumps over the lazy dog"))).toBe(0x414fa339);
  });
});

// The examples in devices/PROTOCOL.md, byte for byte.
const EXAMPLES: Array<{ seq: number; msg: Message; hex: string }> = [
  { seq: 7, msg: { type: "ping", nonce: 0x12345678 }, hex: "01 21 07 00 04 00 78 56 34 12 69 86 bf 86" },
  {
    seq: 0,
    msg: { type: "hello", protocol: 1, device: "watch-1", profile: "watch", capabilities: ["screen", "haptics", "microphone", "buttons"], firmware: "fw 0.3" },
    hex: "01 01 00 00 18 00 01 07 77 61 74 63 68 2d 31 05 77 61 74 63 68 17 00 06 66 77 20 30 2e 33 39 6c 20 b2",
  },
  { seq: 0, msg: { type: "welcome", protocol: 1, hub: "pi", profile: "watch", lines: 4, columns: 16 }, hex: "01 10 00 00 0c 00 01 02 70 69 05 77 61 74 63 68 04 10 11 5b f4 c8" },
  {
    seq: 1,
    msg: { type: "text", text: "set a timer for 5 minutes" },
    hex: "01 02 01 00 1b 00 19 00 73 65 74 20 61 20 74 69 6d 65 72 20 66 6f 72 20 35 20 6d 69 6e 75 74 65 73 47 0d 0c 49",
  },
  { seq: 1, msg: { type: "ack", ackSeq: 1, status: 0 }, hex: "01 20 01 00 03 00 01 00 00 e8 79 11 e8" },
  {
    seq: 2,
    msg: { type: "reply", replyTo: 1, ok: true, confirm: false, truncated: false, kind: "set_timer", text: "", lines: ["Timer set for 5", "minutes."] },
    hex: "01 11 02 00 29 00 01 00 01 09 73 65 74 5f 74 69 6d 65 72 00 00 02 0f 54 69 6d 65 72 20 73 65 74 20 66 6f 72 20 35 08 6d 69 6e 75 74 65 73 2e 3b f3 c2 a3",
  },
  {
    seq: 5,
    msg: { type: "event", id: 3, name: "timer.fired", plugin: "timers", text: "", lines: ["Your timer is", "done."] },
    hex: "01 12 05 00 2e 00 03 00 00 00 0b 74 69 6d 65 72 2e 66 69 72 65 64 06 74 69 6d 65 72 73 00 00 02 0d 59 6f 75 72 20 74 69 6d 65 72 20 69 73 05 64 6f 6e 65 2e 3b 99 e6 02",
  },
  { seq: 6, msg: { type: "haptic", pattern: "tap", intensity: 200, steps: [[40, 0]] }, hex: "01 13 06 00 0a 00 03 74 61 70 c8 01 28 00 00 00 49 e7 35 16" },
  { seq: 2, msg: { type: "audio_start", stream: 1, sampleRate: 16000, format: "s16le", channels: 1 }, hex: "01 03 02 00 08 00 01 00 80 3e 00 00 01 01 62 39 85 ac" },
  {
    seq: 3,
    msg: { type: "audio_chunk", stream: 1, index: 0, pcm: hex("00 00 ff 7f 00 80 c0 db") },
    hex: "01 04 03 00 0c 00 01 00 00 00 00 00 ff 7f 00 80 c0 db 93 2c 51 c7",
  },
  { seq: 4, msg: { type: "audio_end", stream: 1, chunks: 1, cancelled: false }, hex: "01 05 04 00 05 00 01 00 01 00 00 44 98 56 7f" },
  { seq: 9, msg: { type: "button", button: 0, action: "down" }, hex: "01 06 09 00 02 00 00 00 8e 73 5e 47" },
  {
    seq: 8,
    msg: { type: "error", refSeq: 4, code: "NO_SPEECH", message: "no recognizer" },
    hex: "01 23 08 00 11 00 04 00 06 0d 6e 6f 20 72 65 63 6f 67 6e 69 7a 65 72 38 4c c9 3a",
  },
  { seq: 3, msg: { type: "pong", nonce: 0x12345678 }, hex: "01 22 03 00 04 00 78 56 34 12 56 b4 78 3b" },
];

describe("the examples in devices/PROTOCOL.md", () => {
  const doc = readFileSync(join(ROOT, "devices", "PROTOCOL.md"), "utf8");
  for (const ex of EXAMPLES) {
    it(`${ex.msg.type}: encodes to the documented bytes and back`, () => {
      const bytes = encodeMessage(ex.msg, ex.seq);
      expect(spaced(bytes)).toBe(ex.hex);
      expect(decodeMessage(bytes)).toEqual({ seq: ex.seq, msg: ex.msg });
      expect(doc).toContain(ex.hex);
    });
  }
  it("the SLIP example escapes C0 and DB", () => {
    const slip = "c0 01 04 03 00 0c 00 01 00 00 00 00 00 ff 7f 00 80 db dc db dd 93 2c 51 c7 c0";
    expect(spaced(slipEncode(hex(EXAMPLES.find((e) => e.msg.type === "audio_chunk")!.hex)))).toBe(slip);
    expect(doc).toContain(slip);
  });
});

// ------------------------------------------------------------------ arbitraries

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
/** A string of at most `max` UTF-8 bytes (any code points, including astral and multi-byte). */
const str = (max: number) => fc.string({ unit: "binary", maxLength: Math.floor(max / 4) });
const deviceId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,20}$/);
const errorCode = fc.constantFrom(...(Object.keys(ERROR_CODES) as ErrorCode[]));

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant("hello" as const),
    protocol: u8,
    device: deviceId,
    profile: str(64),
    capabilities: fc.subarray([...CAPABILITIES]),
    firmware: str(64),
  }),
  fc.record({ type: fc.constant("text" as const), text: str(1000) }),
  fc.record({ type: fc.constant("audio_start" as const), stream: u16, sampleRate: u32, format: fc.constant("s16le" as const), channels: u8 }),
  fc.record({
    type: fc.constant("audio_chunk" as const),
    stream: u16,
    index: u16,
    pcm: fc.uint8Array({ maxLength: 1280 }).map((a) => Buffer.from(a)),
  }),
  fc.record({ type: fc.constant("audio_end" as const), stream: u16, chunks: u16, cancelled: fc.boolean() }),
  fc.record({ type: fc.constant("button" as const), button: u8, action: fc.constantFrom(...BUTTON_ACTIONS) }),
  fc.record({ type: fc.constant("welcome" as const), protocol: u8, hub: str(64), profile: str(32), lines: u8, columns: u8 }),
  fc.record({
    type: fc.constant("reply" as const),
    replyTo: u16,
    ok: fc.boolean(),
    confirm: fc.boolean(),
    truncated: fc.boolean(),
    kind: str(64),
    text: str(1000),
    lines: fc.array(str(60), { maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant("event" as const),
    id: u32,
    name: str(64),
    plugin: str(32),
    text: str(1000),
    lines: fc.array(str(60), { maxLength: 8 }),
  }),
  fc.record({
    type: fc.constant("haptic" as const),
    pattern: str(32),
    intensity: u8,
    steps: fc.array(fc.tuple(u16, u16), { maxLength: 32 }),
  }),
  fc.record({ type: fc.constant("ack" as const), ackSeq: u16, status: u8 }),
  fc.record({ type: fc.constant("ping" as const), nonce: u32 }),
  fc.record({ type: fc.constant("pong" as const), nonce: u32 }),
  fc.record({ type: fc.constant("error" as const), refSeq: u16, code: errorCode, message: str(200) }),
);

/** Splits bytes into random chunks, as a serial port delivers them. */
function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of at) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

async function libEncode(frames: Buffer[]): Promise<Buffer> {
  const enc = new LibSlipEncoder({ bluetoothQuirk: true });
  const parts: Buffer[] = [];
  enc.on("data", (d: Buffer) => parts.push(d));
  for (const f of frames) enc.write(f);
  enc.end();
  await new Promise((r) => enc.on("end", r));
  return Buffer.concat(parts);
}

async function libDecode(bytes: Buffer): Promise<Buffer[]> {
  const dec = new LibSlipDecoder();
  const out: Buffer[] = [];
  dec.on("data", (d: Buffer) => {
    if (d.length > 0) out.push(Buffer.from(d));
  });
  Readable.from([bytes]).pipe(dec);
  await new Promise((r) => dec.on("end", r));
  return out;
}

// ------------------------------------------------------------------ properties

describe("messages", () => {
  it("every message survives encode -> decode, at any seq", () => {
    fc.assert(
      fc.property(message, u16, (msg, seq) => {
        const bytes = encodeMessage(msg, seq);
        expect(bytes.length).toBeLessThanOrEqual(MAX_FRAME);
        expect(decodeMessage(bytes)).toEqual({ seq, msg });
      }),
      { numRuns: 2000 },
    );
  });

  it("any single flipped bit is caught (CRC-32 finds every 1-bit error)", () => {
    fc.assert(
      fc.property(message, u16, fc.nat(), fc.integer({ min: 0, max: 7 }), (msg, seq, pos, bit) => {
        const bytes = encodeMessage(msg, seq);
        bytes[pos % bytes.length]! ^= 1 << bit;
        expect(["crc", "length", "short"]).toContain(problemOf(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it("arbitrary bytes either decode or fail with a FrameError, never anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        problemOf(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it("arbitrary payloads behind a valid header and CRC fail only as 'payload' (or parse)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0x01, max: 0x23 }), fc.uint8Array({ maxLength: 64 }), (type, payload) => {
        const p = problemOf(encodeFrame(type, 1, payload));
        expect([undefined, "payload", "type"]).toContain(p);
      }),
      { numRuns: 5000 },
    );
  });

  it("names each kind of damage", () => {
    const good = encodeMessage({ type: "ping", nonce: 1 }, 1);
    expect(problemOf(good.subarray(0, 9))).toBe("short");
    const longer = Buffer.from(good);
    longer.writeUInt16LE(60_000, 4); // a huge length field
    expect(problemOf(longer)).toBe("length");
    const cut = good.subarray(0, good.length - 1);
    expect(problemOf(cut)).toBe("length");
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1]! ^= 0xff;
    expect(problemOf(badCrc)).toBe("crc");
    expect(problemOf(encodeFrame(0x21, 1, Buffer.alloc(4), 2))).toBe("version");
    expect(problemOf(encodeFrame(0x7e, 1))).toBe("type");
    expect(problemOf(encodeFrame(0x02, 1, Buffer.from([5, 0, 0x61])))).toBe("payload"); // str16 says 5, 1 byte follows
    expect(problemOf(encodeFrame(0x02, 1, Buffer.from([2, 0, 0xc3, 0x28])))).toBe("payload"); // invalid UTF-8
    const err = (() => {
      try {
        decodeMessage(encodeFrame(0x7e, 41));
      } catch (e) {
        return e as FrameError;
      }
    })();
    expect(err?.header).toEqual({ version: 1, type: 0x7e, seq: 41 });
    expect(() => encodeFrame(0x02, 0, Buffer.alloc(MAX_PAYLOAD + 1))).toThrow(RangeError);
    expect(() => encodeMessage({ type: "hello", protocol: 1, device: "x".repeat(300), profile: "", capabilities: [], firmware: "" }, 0)).toThrow(/exceeds 255/);
  });

  it("ignores payload bytes after the fields it knows (later 1.x revisions may append)", () => {
    const payload = Buffer.concat([encodeMessage({ type: "ping", nonce: 9 }, 0).subarray(6, 10), Buffer.from([1, 2, 3])]);
    expect(decodeMessage(encodeFrame(0x21, 4, payload))).toEqual({ seq: 4, msg: { type: "ping", nonce: 9 } });
  });

  it("splitFrames separates back-to-back frames and leaves a broken tail as one bad piece", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(message, u16), { minLength: 1, maxLength: 6 }), fc.nat(30), (list, cut) => {
        const frames = list.map(([m, s]) => encodeMessage(m, s));
        const all = Buffer.concat(frames);
        expect(splitFrames(all).map((b) => Buffer.from(b))).toEqual(frames);
        const short = all.subarray(0, all.length - 1 - (cut % (frames[frames.length - 1]!.length - 1))); // the last frame loses 1..n-1 bytes
        const parts = splitFrames(short);
        expect(parts.slice(0, frames.length - 1).map((b) => Buffer.from(b))).toEqual(frames.slice(0, frames.length - 1));
        expect(problemOf(parts[parts.length - 1]!)).toMatch(/short|length/);
      }),
      { numRuns: 500 },
    );
  });
});

describe("SLIP", () => {
  it("encodes exactly like @serialport/parser-slip-encoder (leading END)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        const b = Buffer.from(bytes);
        expect(slipEncode(b)).toEqual(await libEncode([b]));
      }),
      { numRuns: 300 },
    );
  });

  it("decodes the library's encoding in any chunking, and the library decodes ours", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), async (list, cuts) => {
        const frames = list.map((a) => Buffer.from(a));
        const stream = await libEncode(frames);
        const dec = new SlipDecoder(MAX_FRAME);
        const got = chunked(stream, cuts).flatMap((c) => dec.push(c));
        expect(got).toEqual(frames.map((frame) => ({ frame })));
        expect(await libDecode(Buffer.concat(frames.map(slipEncode)))).toEqual(frames);
      }),
      { numRuns: 300 },
    );
  });

  it("resynchronises: a good frame after any garbage is decoded", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), message, u16, fc.array(fc.nat(), { maxLength: 6 }), (garbage, msg, seq, cuts) => {
        const good = encodeMessage(msg, seq);
        const dec = new SlipDecoder(MAX_FRAME);
        const items = chunked(Buffer.concat([Buffer.from(garbage), slipEncode(good)]), cuts).flatMap((c) => dec.push(c));
        const last = items[items.length - 1]!;
        expect("frame" in last && last.frame).toEqual(good);
        // Whatever the garbage turned into fails to decode as a message (or, rarely, is a valid one by chance).
        for (const it of items.slice(0, -1)) if ("frame" in it) problemOf(it.frame);
      }),
      { numRuns: 1000 },
    );
  });

  it("drops a frame that never ends without keeping it in memory, then goes on", () => {
    const dec = new SlipDecoder(MAX_FRAME);
    const junk = Buffer.alloc(1_000_000, 0x41);
    expect(dec.push(junk)).toEqual([]);
    expect(dec.pending).toBe(1_000_000);
    const good = encodeMessage({ type: "ping", nonce: 5 }, 1);
    const items = dec.push(slipEncode(good));
    expect(items).toEqual([{ error: "oversize", bytes: 1_000_000 }, { frame: good }]);
  });

  it("reports an invalid escape and resyncs at the next END", () => {
    const dec = new SlipDecoder(MAX_FRAME);
    const good = encodeMessage({ type: "ping", nonce: 5 }, 1);
    const items = dec.push(Buffer.concat([Buffer.from([END, 0x01, ESC, 0x41, 0x02, END]), slipEncode(good)]));
    expect(items[0]).toMatchObject({ error: "escape" });
    expect(items[items.length - 1]).toEqual({ frame: good });
  });

  it("empty frames (END END) are not frames", () => {
    expect(new SlipDecoder(64).push(Buffer.from([END, END, END]))).toEqual([]);
  });
});

it("decodeFrame accepts a Uint8Array view", () => {
  const b = encodeMessage({ type: "ping", nonce: 1 }, 2);
  const view = new Uint8Array(b.buffer, b.byteOffset, b.length);
  expect(decodeFrame(view).seq).toBe(2);
});
