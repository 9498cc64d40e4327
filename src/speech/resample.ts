// Sample-rate conversion of 16-bit mono PCM: a windowed-sinc low-pass filter evaluated as a polyphase table
// (the ratio is rational: 22050 -> 16000 is 320/441), streaming with carried-over history, so that pushing a
// signal in any chunking gives exactly the samples that one `resample()` of the whole signal gives.
//
// Hand-written rather than taken from npm: the resamplers there (wave-resampler, the one inside wavefile)
// convert whole buffers only; a microphone or a wearable delivers 20 ms frames that must be converted as
// they come, with the filter state kept between them.

/** Zero crossings of the sinc on each side; 16 gives > 60 dB stop-band attenuation with the Blackman window. */
const ZERO_CROSSINGS = 16;
/** The pass band ends this fraction below the lower Nyquist frequency (room for the transition band). */
const ROLLOFF = 0.94;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

interface Kernel {
  /** Output sample n sits at input position n * m / l. */
  l: number;
  m: number;
  /** Taps per phase (2 * half). */
  taps: number;
  half: number;
  /** [phase * taps + j]: weight of input sample floor(pos) - half + 1 + j. */
  table: Float64Array;
}

const kernels = new Map<string, Kernel>();

function kernel(from: number, to: number): Kernel {
  const key = `${from}/${to}`;
  const cached = kernels.get(key);
  if (cached) return cached;
  const g = gcd(from, to);
  const l = to / g;
  const m = from / g;
  // Cut-off in cycles per input sample: half the lower of the two rates, less the roll-off.
  const fc = 0.5 * Math.min(1, to / from) * ROLLOFF;
  const width = ZERO_CROSSINGS / (2 * fc); // half-length of the filter in input samples
  const half = Math.ceil(width);
  const taps = 2 * half;
  const table = new Float64Array(l * taps);
  for (let p = 0; p < l; p++) {
    const frac = p / l;
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const x = j - half + 1 - frac; // distance (input samples) from the output position
      let w = 0;
      if (Math.abs(x) < width) {
        const sinc = x === 0 ? 1 : Math.sin(2 * Math.PI * fc * x) / (2 * Math.PI * fc * x);
        const r = x / width; // -1..1
        const blackman = 0.42 + 0.5 * Math.cos(Math.PI * r) + 0.08 * Math.cos(2 * Math.PI * r);
        w = sinc * blackman;
      }
      table[p * taps + j] = w;
      sum += w;
    }
    // Each phase passes DC with gain exactly 1.
    for (let j = 0; j < taps; j++) table[p * taps + j]! /= sum;
  }
  const k: Kernel = { l, m, taps, half, table };
  kernels.set(key, k);
  return k;
}

function checkRate(rate: number, what: string): void {
  if (!Number.isInteger(rate) || rate < 1000 || rate > 384_000) {
    throw new RangeError(`${what} must be an integer sample rate between 1000 and 384000 Hz (got ${rate})`);
  }
}

/** Streaming converter for one signal; `push` frames as they come, `flush` at the end. */
export class Resampler {
  readonly from: number;
  readonly to: number;
  private readonly k: Kernel | undefined;
  /** Input samples kept for the filter, starting at absolute input index `bufStart`. */
  private buf = new Float64Array(0);
  private bufStart = 0;
  /** Absolute input samples received so far. */
  private received = 0;
  /** Next output sample's absolute index. */
  private next = 0;

  constructor(from: number, to: number) {
    checkRate(from, "input rate");
    checkRate(to, "output rate");
    this.from = from;
    this.to = to;
    if (from !== to) {
      this.k = kernel(from, to);
      // Samples before the signal are silence.
      this.buf = new Float64Array(this.k.half);
      this.bufStart = -this.k.half;
    }
  }

  /** Converts the next frame; returns the output samples that are complete so far. */
  push(input: Int16Array): Int16Array {
    if (!this.k) return input.slice();
    this.append(input);
    return this.produce(this.received);
  }

  /** The rest of the signal (its tail through the filter); the converter is spent afterwards. */
  flush(): Int16Array {
    if (!this.k) return new Int16Array(0);
    const total = Math.ceil((this.received * this.to) / this.from);
    const { l, m, half } = this.k;
    // Enough trailing silence for the last output to see its whole filter.
    const needed = Math.floor(((total - 1) * m) / l) + half + 1;
    const pad = Math.max(0, needed - this.received);
    this.append(new Int16Array(pad));
    return this.produce(this.received, total);
  }

  private append(input: Int16Array): void {
    const merged = new Float64Array(this.buf.length + input.length);
    merged.set(this.buf);
    for (let i = 0; i < input.length; i++) merged[this.buf.length + i] = input[i]!;
    this.buf = merged;
    this.received += input.length;
  }

  private produce(available: number, limit = Infinity): Int16Array {
    const { l, m, taps, half, table } = this.k!;
    const out: number[] = [];
    for (;;) {
      if (this.next >= limit) break;
      const num = this.next * m;
      const base = Math.floor(num / l);
      if (base + half >= available) break; // the filter's last tap (base + half) is not here yet
      const phase = num - base * l;
      const first = base - half + 1 - this.bufStart;
      let acc = 0;
      const row = phase * taps;
      for (let j = 0; j < taps; j++) acc += table[row + j]! * this.buf[first + j]!;
      out.push(acc > 32767 ? 32767 : acc < -32768 ? -32768 : Math.round(acc));
      this.next++;
    }
    // Drop the input no later output needs.
    const keepFrom = Math.floor((this.next * m) / l) - half + 1;
    const drop = keepFrom - this.bufStart;
    if (drop > 0) {
      this.buf = this.buf.slice(drop);
      this.bufStart = keepFrom;
    }
    return Int16Array.from(out);
  }
}

/** The whole signal converted from `from` Hz to `to` Hz (length ceil(n * to / from)). */
export function resample(input: Int16Array, from: number, to: number): Int16Array {
  const r = new Resampler(from, to);
  const a = r.push(input);
  const b = r.flush();
  const out = new Int16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
