// SLIP framing (RFC 1055): END 0xC0 ends a frame; inside a frame 0xC0 is sent as DB DC and 0xDB as DB DD.
// Senders also put an END before every frame, so line noise before it is flushed out as a (bad) frame of
// its own and the good frame after it survives.
//
// Why not @serialport/parser-slip-encoder's SlipDecoder: it has no bound on a frame (a stream of garbage
// without 0xC0 grows its buffer forever), it copies the whole buffer for every byte (quadratic), and on an
// invalid escape it hands the partial frame on as if it were complete. This decoder keeps one
// preallocated buffer, stops collecting past `maxFrame` and reports each kind of damage. The encoder is
// the library's byte for byte (tests check both directions against @serialport/parser-slip-encoder).

export const END = 0xc0;
export const ESC = 0xdb;
export const ESC_END = 0xdc;
export const ESC_ESC = 0xdd;

/** `END payload-escaped END`. */
export function slipEncode(frame: Uint8Array): Buffer {
  let extra = 0;
  for (const b of frame) if (b === END || b === ESC) extra++;
  const out = Buffer.allocUnsafe(frame.length + extra + 2);
  let j = 0;
  out[j++] = END;
  for (const b of frame) {
    if (b === END) {
      out[j++] = ESC;
      out[j++] = ESC_END;
    } else if (b === ESC) {
      out[j++] = ESC;
      out[j++] = ESC_ESC;
    } else {
      out[j++] = b;
    }
  }
  out[j++] = END;
  return out;
}

export type SlipItem = { frame: Buffer } | { error: "oversize" | "escape"; bytes: number };

/** Streaming decoder: feed any chunks, get whole frames (or what went wrong with one) back. */
export class SlipDecoder {
  private readonly buf: Buffer;
  private len = 0;
  /** Bytes seen in the current frame, including the ones dropped past maxFrame. */
  private seen = 0;
  private escaping = false;
  private badEscape = false;

  constructor(readonly maxFrame: number) {
    this.buf = Buffer.alloc(maxFrame);
  }

  push(chunk: Uint8Array): SlipItem[] {
    const out: SlipItem[] = [];
    for (const raw of chunk) {
      if (raw === END) {
        if (this.seen > this.maxFrame) out.push({ error: "oversize", bytes: this.seen });
        else if (this.badEscape || this.escaping) out.push({ error: "escape", bytes: this.seen });
        else if (this.len > 0) out.push({ frame: Buffer.from(this.buf.subarray(0, this.len)) });
        this.reset();
        continue;
      }
      let b = raw;
      if (this.escaping) {
        this.escaping = false;
        if (raw === ESC_END) b = END;
        else if (raw === ESC_ESC) b = ESC;
        else this.badEscape = true;
      } else if (raw === ESC) {
        this.escaping = true;
        continue;
      }
      this.seen++;
      if (this.len < this.maxFrame) this.buf[this.len++] = b;
    }
    return out;
  }

  /** Bytes collected towards a frame that has not ended yet. */
  get pending(): number {
    return this.seen;
  }

  reset(): void {
    this.len = 0;
    this.seen = 0;
    this.escaping = false;
    this.badEscape = false;
  }
}
