// One link frame, before SLIP (serial) or as one MQTT payload (satellites). Little-endian throughout.
//   offset 0  u8   version   (1)
//          1  u8   type      (see messages.ts)
//          2  u16  seq       each sender counts its own frames, wrapping at 65536
//          4  u16  length    payload bytes, at most MAX_PAYLOAD
//          6  ...  payload
//   6+length  u32  CRC-32/ISO-HDLC of bytes 0 .. 5+length
import { crc32 } from "./crc.js";

export const LINK_VERSION = 1;
export const HEADER_BYTES = 6;
export const CRC_BYTES = 4;
export const MIN_FRAME = HEADER_BYTES + CRC_BYTES;
export const MAX_PAYLOAD = 4096;
export const MAX_FRAME = MIN_FRAME + MAX_PAYLOAD;

export interface RawFrame {
  version: number;
  type: number;
  seq: number;
  payload: Buffer;
}

/** Why a frame was dropped; each is counted separately (GET /healthz). */
export type FrameProblem =
  | "short" // fewer than 10 bytes
  | "length" // the length field disagrees with the bytes received
  | "crc" // CRC mismatch
  | "version" // a version this hub does not speak
  | "type" // CRC fine, type unknown
  | "payload" // CRC fine, payload does not parse for its type
  | "oversize" // more than MAX_FRAME bytes before the END byte
  | "escape"; // invalid SLIP escape

export const FRAME_PROBLEMS: readonly FrameProblem[] = ["short", "length", "crc", "version", "type", "payload", "oversize", "escape"];

export class FrameError extends Error {
  constructor(
    readonly problem: FrameProblem,
    message: string,
    /** Header fields when they could be read from a frame whose CRC was fine. */
    readonly header?: { version: number; type: number; seq: number },
  ) {
    super(message);
    this.name = "FrameError";
  }
}

export function encodeFrame(type: number, seq: number, payload: Uint8Array = Buffer.alloc(0), version = LINK_VERSION): Buffer {
  if (payload.length > MAX_PAYLOAD) throw new RangeError(`payload of ${payload.length} bytes exceeds ${MAX_PAYLOAD}`);
  const out = Buffer.allocUnsafe(MIN_FRAME + payload.length);
  out.writeUInt8(version & 0xff, 0);
  out.writeUInt8(type & 0xff, 1);
  out.writeUInt16LE(seq & 0xffff, 2);
  out.writeUInt16LE(payload.length, 4);
  out.set(payload, HEADER_BYTES);
  out.writeUInt32LE(crc32(out.subarray(0, HEADER_BYTES + payload.length)), HEADER_BYTES + payload.length);
  return out;
}

/** Checks length and CRC (not version or type: the message layer does). Throws FrameError. */
export function decodeFrame(bytes: Uint8Array): RawFrame {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (buf.length < MIN_FRAME) throw new FrameError("short", `frame of ${buf.length} bytes is shorter than ${MIN_FRAME}`);
  if (buf.length > MAX_FRAME) throw new FrameError("oversize", `frame of ${buf.length} bytes is longer than ${MAX_FRAME}`);
  const length = buf.readUInt16LE(4);
  if (length > MAX_PAYLOAD || MIN_FRAME + length !== buf.length) {
    throw new FrameError("length", `length field says ${length} payload bytes, frame carries ${buf.length - MIN_FRAME}`);
  }
  const want = buf.readUInt32LE(HEADER_BYTES + length);
  const got = crc32(buf.subarray(0, HEADER_BYTES + length));
  if (want !== got) {
    throw new FrameError("crc", `CRC mismatch (frame says ${hex32(want)}, bytes give ${hex32(got)})`);
  }
  return {
    version: buf.readUInt8(0),
    type: buf.readUInt8(1),
    seq: buf.readUInt16LE(2),
    payload: Buffer.from(buf.subarray(HEADER_BYTES, HEADER_BYTES + length)),
  };
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/**
 * Splits back-to-back frames (one MQTT message may carry several, e.g. a whole utterance) by their length
 * fields. Whatever cannot be a frame (a tail shorter than a header, a length running past the end) is
 * returned as one last piece, which decodeFrame then rejects.
 */
export function splitFrames(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.length) {
    const rest = buf.length - at;
    if (rest < MIN_FRAME) {
      out.push(buf.subarray(at));
      break;
    }
    const size = MIN_FRAME + buf.readUInt16LE(at + 4);
    if (size > rest) {
      out.push(buf.subarray(at));
      break;
    }
    out.push(buf.subarray(at, at + size));
    at += size;
  }
  return out;
}
