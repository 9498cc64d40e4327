// Endpointing: where an utterance starts and ends in a stream of 16-bit mono PCM. Energy-based voice
// activity detection over 20 ms frames against an adaptive noise floor, with
//   - onset: `minSpeechMs` of consecutive loud frames start an utterance (clicks are shorter),
//   - pre-roll: the `preRollMs` of audio before the onset go with it (soft first consonants),
//   - hangover: the utterance ends after `hangoverMs` of quiet frames (pauses between words are shorter),
//   - a cap: `maxUtteranceMs` ends an utterance that never goes quiet.
// Push-to-talk bypasses the detector: `begin()` opens an utterance at once, `finish()` closes it.
// Pure: no clock, no I/O; times are milliseconds of audio since the first sample.

export interface EndpointerOptions {
  sampleRate: number;
  frameMs?: number;
  /** A frame is speech when it is this many dB above the noise floor ... */
  thresholdDb?: number;
  /** ... and at least this loud (dBFS): digital silence must not make a whisper of noise "speech". */
  minSpeechDbfs?: number;
  minSpeechMs?: number;
  hangoverMs?: number;
  preRollMs?: number;
  maxUtteranceMs?: number;
  /** How fast the noise floor may rise (dB per second of non-speech); it falls at once. */
  floorRiseDbPerS?: number;
}

export type EndReason = "silence" | "max-length" | "released" | "stream-end";

export type EndpointEvent =
  | { type: "start"; /** Speech onset (ms of audio). */ atMs: number; byPtt: boolean }
  | { type: "audio"; samples: Int16Array }
  | {
      type: "end";
      /** End of the last speech frame (ms); for push-to-talk, the release. */
      speechEndMs: number;
      /** When the end was decided (ms of audio): speechEndMs + the hangover for `silence`. */
      atMs: number;
      reason: EndReason;
      /** Whether any frame of the utterance was speech (push-to-talk may capture none). */
      heardSpeech: boolean;
    };

export const ENDPOINTER_DEFAULTS = {
  frameMs: 20,
  thresholdDb: 12,
  minSpeechDbfs: -50,
  minSpeechMs: 100,
  hangoverMs: 600,
  preRollMs: 300,
  maxUtteranceMs: 12_000,
  floorRiseDbPerS: 3,
} as const;

const SILENT_DBFS = -100;

/** RMS level of a frame in dBFS (digital silence: -100). */
export function frameDbfs(samples: Int16Array, from = 0, to = samples.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i]! * samples[i]!;
  const n = to - from;
  if (n === 0 || sum === 0) return SILENT_DBFS;
  return Math.max(SILENT_DBFS, 10 * Math.log10(sum / n / (32768 * 32768)));
}

type State =
  | { kind: "idle"; run: number; runStartMs: number }
  | {
      kind: "speech";
      byPtt: boolean;
      /** Push-to-talk held: silence does not end it (a wearable button). */
      held: boolean;
      quiet: number;
      lastSpeechEndMs: number;
      startMs: number;
      heardSpeech: boolean;
      minDb: number;
    };

export class Endpointer {
  readonly opts: Required<EndpointerOptions>;
  private readonly frameLen: number;
  private pending = new Int16Array(0);
  /** Frames kept for the pre-roll while idle. */
  private ring: Int16Array[] = [];
  private readonly ringMax: number;
  private floorDb: number | undefined;
  private frames = 0;
  private state: State = { kind: "idle", run: 0, runStartMs: 0 };

  constructor(opts: EndpointerOptions) {
    this.opts = { ...ENDPOINTER_DEFAULTS, ...opts };
    if (!Number.isInteger(this.opts.sampleRate) || this.opts.sampleRate <= 0) {
      throw new RangeError(`sampleRate must be a positive integer (got ${this.opts.sampleRate})`);
    }
    this.frameLen = Math.round((this.opts.sampleRate * this.opts.frameMs) / 1000);
    this.ringMax = Math.ceil(this.opts.preRollMs / this.opts.frameMs);
  }

  /** Milliseconds of audio seen so far (whole frames). */
  get nowMs(): number {
    return this.frames * this.opts.frameMs;
  }

  get inUtterance(): boolean {
    return this.state.kind === "speech";
  }

  /** The current noise floor estimate (dBFS), for logs. */
  get noiseFloorDbfs(): number | undefined {
    return this.floorDb;
  }

  push(samples: Int16Array): EndpointEvent[] {
    const out: EndpointEvent[] = [];
    let data = samples;
    if (this.pending.length > 0) {
      data = new Int16Array(this.pending.length + samples.length);
      data.set(this.pending);
      data.set(samples, this.pending.length);
    }
    let i = 0;
    for (; i + this.frameLen <= data.length; i += this.frameLen) {
      this.frame(data.subarray(i, i + this.frameLen), out);
    }
    this.pending = data.slice(i);
    return out;
  }

  /** Push-to-talk pressed: an utterance starts now (with the pre-roll). `held`: only finish() ends it. */
  begin(held: boolean): EndpointEvent[] {
    const out: EndpointEvent[] = [];
    if (this.state.kind === "speech") {
      this.state.byPtt = true;
      this.state.held = held;
      return out;
    }
    this.open(this.nowMs, true, held, false, out);
    return out;
  }

  /** Push-to-talk released, or the stream ended: closes an open utterance. */
  finish(reason: EndReason = "released"): EndpointEvent[] {
    const out: EndpointEvent[] = [];
    if (this.state.kind !== "speech") return out;
    if (this.pending.length > 0) {
      out.push({ type: "audio", samples: this.pending });
      this.pending = new Int16Array(0);
    }
    const s = this.state;
    const speechEndMs = reason === "released" || !s.heardSpeech ? this.nowMs : s.lastSpeechEndMs;
    this.close({ speechEndMs, atMs: this.nowMs, reason, heardSpeech: s.heardSpeech }, out);
    return out;
  }

  private frame(f: Int16Array, out: EndpointEvent[]): void {
    const db = frameDbfs(f);
    const startMs = this.nowMs;
    this.frames++;
    const endMs = this.nowMs;
    // Until frames have been heard, assume a quiet room (speech in the very first frame must count).
    const floor = this.floorDb ?? this.opts.minSpeechDbfs - this.opts.thresholdDb;
    const loud = db >= Math.max(floor + this.opts.thresholdDb, this.opts.minSpeechDbfs);
    const st = this.state;

    if (st.kind === "idle") {
      this.track(db);
      this.ring.push(f.slice());
      if (this.ring.length > this.ringMax + Math.ceil(this.opts.minSpeechMs / this.opts.frameMs)) this.ring.shift();
      if (loud) {
        if (st.run === 0) st.runStartMs = startMs;
        st.run++;
        if (st.run * this.opts.frameMs >= this.opts.minSpeechMs) this.open(st.runStartMs, false, false, true, out, endMs);
      } else {
        st.run = 0;
      }
      return;
    }

    out.push({ type: "audio", samples: f.slice() });
    st.minDb = Math.min(st.minDb, db);
    if (loud) {
      st.quiet = 0;
      st.lastSpeechEndMs = endMs;
      st.heardSpeech = true;
    } else {
      st.quiet++;
    }
    if (endMs - st.startMs >= this.opts.maxUtteranceMs) {
      // Never went quiet: perhaps the noise rose. Re-learn the floor from the quietest frame heard.
      this.floorDb = st.minDb;
      this.close({ speechEndMs: st.heardSpeech ? st.lastSpeechEndMs : endMs, atMs: endMs, reason: "max-length", heardSpeech: st.heardSpeech }, out);
      return;
    }
    if (!st.held && st.heardSpeech && st.quiet * this.opts.frameMs >= this.opts.hangoverMs) {
      this.close({ speechEndMs: st.lastSpeechEndMs, atMs: endMs, reason: "silence", heardSpeech: true }, out);
    }
  }

  /** Noise floor: follows a drop at once, a rise slowly. */
  private track(db: number): void {
    this.floorDb ??= this.opts.minSpeechDbfs - this.opts.thresholdDb;
    if (db < this.floorDb) {
      this.floorDb = db;
    } else {
      this.floorDb = Math.min(db, this.floorDb + (this.opts.floorRiseDbPerS * this.opts.frameMs) / 1000);
    }
  }

  private open(atMs: number, byPtt: boolean, held: boolean, heardSpeech: boolean, out: EndpointEvent[], lastSpeechEndMs = atMs): void {
    // The pre-roll: frames before the onset, plus the onset frames themselves.
    const preRoll = this.ring;
    this.ring = [];
    const total = preRoll.reduce((n, f) => n + f.length, 0);
    const audio = new Int16Array(total);
    let o = 0;
    for (const f of preRoll) {
      audio.set(f, o);
      o += f.length;
    }
    this.state = { kind: "speech", byPtt, held, quiet: 0, lastSpeechEndMs, startMs: atMs, heardSpeech, minDb: 0 };
    out.push({ type: "start", atMs, byPtt });
    if (audio.length > 0) out.push({ type: "audio", samples: audio });
  }

  private close(e: { speechEndMs: number; atMs: number; reason: EndReason; heardSpeech: boolean }, out: EndpointEvent[]): void {
    this.state = { kind: "idle", run: 0, runStartMs: 0 };
    out.push({ type: "end", ...e });
  }
}
