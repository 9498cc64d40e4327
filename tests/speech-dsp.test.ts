// Resampling and endpointing on real speech (espeak-ng) and on synthetic signals, with sox as the reference.
import { describe, expect, it } from "vitest";
import { Endpointer, frameDbfs, type EndpointEvent } from "../src/speech/endpointer.js";
import { Resampler, resample } from "../src/speech/resample.js";
import { espeak, espeakWav, joinWithSilence, soxResample, soxSpeechBounds, writeWav } from "./speech-helpers.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const sine = (hz: number, rate: number, ms: number, amp = 10_000) => {
  const n = Math.round((rate * ms) / 1000);
  return Int16Array.from({ length: n }, (_, i) => Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate)));
};
const rms = (x: Int16Array, from = 0, to = x.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s / (to - from));
};
const crossings = (x: Int16Array, from: number, to: number) => {
  let c = 0;
  for (let i = from + 1; i < to; i++) if ((x[i - 1]! < 0) !== (x[i]! < 0)) c++;
  return c;
};

describe("resample", () => {
  it("keeps a 1 kHz tone's frequency and level from 22050 Hz to 16000 Hz", () => {
    const out = resample(sine(1000, 22050, 1000), 22050, 16000);
    expect(out.length).toBe(16000);
    // Away from the edges: 1000 Hz = 2000 zero crossings per second.
    const mid = crossings(out, 1600, 14400) / ((14400 - 1600) / 16000);
    expect(mid).toBeGreaterThan(1990);
    expect(mid).toBeLessThan(2010);
    expect(rms(out, 1600, 14400) / (10_000 / Math.SQRT2)).toBeCloseTo(1, 1);
  });

  it("removes what the lower rate cannot carry (a 10 kHz tone does not alias to 6 kHz)", () => {
    const out = resample(sine(10_000, 22050, 500), 22050, 16000);
    expect(rms(out, 800, out.length - 800)).toBeLessThan(10_000 * 0.01);
  });

  it("gives the same samples however the input is chunked", () => {
    const input = sine(440, 22050, 300);
    for (let i = 0; i < input.length; i += 7) input[i] = (input[i]! + ((i * 7919) % 4000)) | 0; // not a pure tone
    const whole = resample(input, 22050, 16000);
    for (const sizes of [[1], [441], [3, 1000, 17], [5000]]) {
      const r = new Resampler(22050, 16000);
      const parts: number[] = [];
      let k = 0;
      for (let i = 0; i < input.length; ) {
        const n = sizes[k++ % sizes.length]!;
        parts.push(...r.push(input.subarray(i, i + n)));
        i += n;
      }
      parts.push(...r.flush());
      expect(Int16Array.from(parts)).toEqual(whole);
    }
  });

  it("matches sox on espeak-ng speech (22050 -> 16000)", async () => {
    const file = espeakWav("set a timer for five minutes");
    const ours = resample((await espeak("set a timer for five minutes")).samples, 22050, 16000);
    const ref = (await soxResample(file, 16000)).samples;
    expect(ours.length).toBe(ref.length);
    let xy = 0, xx = 0, yy = 0;
    for (let i = 0; i < ours.length; i++) {
      xy += ours[i]! * ref[i]!;
      xx += ours[i]! * ours[i]!;
      yy += ref[i]! * ref[i]!;
    }
    expect(xy / Math.sqrt(xx * yy)).toBeGreaterThan(0.999);
  });

  it("also converts up (8 kHz -> 16 kHz) and passes equal rates through", () => {
    const up = resample(sine(500, 8000, 500), 8000, 16000);
    expect(up.length).toBe(8000);
    expect(crossings(up, 800, 7200) / (6400 / 16000)).toBeCloseTo(1000, -1);
    const same = sine(500, 16000, 10);
    expect(resample(same, 16000, 16000)).toEqual(same);
  });

  it("refuses impossible rates with a clear error", () => {
    expect(() => new Resampler(0, 16000)).toThrow(/input rate must be an integer sample rate/);
    expect(() => new Resampler(22050, 15999.5)).toThrow(/output rate/);
  });
});

const starts = (ev: EndpointEvent[]) => ev.filter((e) => e.type === "start") as Array<Extract<EndpointEvent, { type: "start" }>>;
const ends = (ev: EndpointEvent[]) => ev.filter((e) => e.type === "end") as Array<Extract<EndpointEvent, { type: "end" }>>;

function run(ep: Endpointer, x: Int16Array, chunk = 320): EndpointEvent[] {
  const out: EndpointEvent[] = [];
  for (let i = 0; i < x.length; i += chunk) out.push(...ep.push(x.subarray(i, i + chunk)));
  return out;
}

describe("endpointer", () => {
  it("finds two spoken phrases separated by silence, at the times sox finds them", async () => {
    const a = await espeak("set a timer for five minutes");
    const b = await espeak("turn on the kitchen lights");
    const { audio, startsMs } = joinWithSilence([a, b], 1500, 500);
    const dir = mkdtempSync(join(tmpdir(), "needled-ep-"));
    const boundsA = soxSpeechBounds(espeakWav("set a timer for five minutes"));
    const boundsB = soxSpeechBounds(espeakWav("turn on the kitchen lights"));
    writeWav(join(dir, "both.wav"), audio); // (left in /tmp for a person to listen to when this fails)

    const pcm = resample(audio.samples, 22050, 16000);
    const ep = new Endpointer({ sampleRate: 16000 });
    const ev = [...run(ep, pcm), ...ep.finish("stream-end")];
    expect(starts(ev)).toHaveLength(2);
    expect(ends(ev)).toHaveLength(2);
    const [s1, s2] = starts(ev);
    const [e1, e2] = ends(ev);
    const expected = [
      { start: startsMs[0]! + boundsA.startMs, end: startsMs[0]! + boundsA.endMs },
      { start: startsMs[1]! + boundsB.startMs, end: startsMs[1]! + boundsB.endMs },
    ];
    // Within two frames of sox's boundaries.
    expect(Math.abs(s1!.atMs - expected[0]!.start)).toBeLessThanOrEqual(60);
    expect(Math.abs(e1!.speechEndMs - expected[0]!.end)).toBeLessThanOrEqual(60);
    expect(Math.abs(s2!.atMs - expected[1]!.start)).toBeLessThanOrEqual(60);
    expect(Math.abs(e2!.speechEndMs - expected[1]!.end)).toBeLessThanOrEqual(60);
    // The first ends by silence, a hangover after its last speech; the second when the stream ends.
    expect(e1!.reason).toBe("silence");
    expect(e1!.atMs - e1!.speechEndMs).toBe(600);
    // The audio handed on covers the speech plus the pre-roll.
    const segments: number[] = [];
    for (const e of ev) {
      if (e.type === "start") segments.push(0);
      if (e.type === "audio") segments[segments.length - 1]! += e.samples.length;
    }
    expect(segments[0]! / 16).toBeGreaterThanOrEqual(e1!.atMs - s1!.atMs);
    expect(segments[0]! / 16).toBeLessThanOrEqual(e1!.atMs - s1!.atMs + 300 + 100);
  });

  it("hears the same phrases over steady background noise", async () => {
    const a = await espeak("set a timer for five minutes");
    const { audio } = joinWithSilence([a, a], 1500, 1000);
    let seed = 1;
    const noisy = Int16Array.from(audio.samples, (s) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return Math.max(-32768, Math.min(32767, s + ((seed % 200) - 100))); // about -55 dBFS
    });
    const ep = new Endpointer({ sampleRate: 16000 });
    const ev = [...run(ep, resample(noisy, 22050, 16000)), ...ep.finish("stream-end")];
    expect(starts(ev)).toHaveLength(2);
    expect(ep.noiseFloorDbfs!).toBeGreaterThan(-60);
  });

  it("finds speech that begins with the first sample (a WAV cut tight)", async () => {
    const a = await espeak("turn on the kitchen lights");
    const bounds = soxSpeechBounds(espeakWav("turn on the kitchen lights"));
    const tight = a.samples.subarray(Math.floor((bounds.startMs * 22050) / 1000));
    const ep = new Endpointer({ sampleRate: 16000 });
    const ev = [...run(ep, resample(tight, 22050, 16000)), ...ep.finish("stream-end")];
    expect(starts(ev)).toHaveLength(1);
    expect(starts(ev)[0]!.atMs).toBeLessThanOrEqual(40);
  });

  it("ignores a click shorter than the onset time", () => {
    const x = new Int16Array(16000);
    x.set(sine(1000, 16000, 40, 20000), 8000);
    const ep = new Endpointer({ sampleRate: 16000 });
    expect(starts(run(ep, x))).toHaveLength(0);
  });

  it("does not split an utterance at a pause shorter than the hangover", () => {
    const x = new Int16Array(16000 * 3);
    x.set(sine(300, 16000, 600, 8000), 1600);
    x.set(sine(300, 16000, 600, 8000), 1600 + 9600 + 6400); // 400 ms pause
    const ep = new Endpointer({ sampleRate: 16000 });
    const ev = run(ep, x);
    expect(starts(ev)).toHaveLength(1);
    expect(ends(ev)).toHaveLength(1);
  });

  it("ends an utterance that never goes quiet at maxUtteranceMs", () => {
    const ep = new Endpointer({ sampleRate: 16000, maxUtteranceMs: 2000 });
    const ev = run(ep, sine(200, 16000, 3000, 8000));
    expect(ends(ev)[0]).toMatchObject({ reason: "max-length" });
    expect(ends(ev)[0]!.atMs - starts(ev)[0]!.atMs).toBe(2000);
  });

  it("push-to-talk opens an utterance at once and a held button ignores silence until released", () => {
    const ep = new Endpointer({ sampleRate: 16000 });
    run(ep, new Int16Array(8000));
    const open = ep.begin(true);
    expect(open[0]).toEqual({ type: "start", atMs: 500, byPtt: true });
    expect(ends(run(ep, new Int16Array(16000 * 2)))).toHaveLength(0);
    const close = ep.finish("released");
    expect(ends(close)[0]).toMatchObject({ reason: "released", heardSpeech: false, atMs: 2500 });
    // A toggled key (not held): the end of speech closes it.
    ep.begin(false);
    const ev = run(ep, Int16Array.from([...sine(300, 16000, 500, 8000), ...new Int16Array(16000)]));
    expect(ends(ev)[0]).toMatchObject({ reason: "silence", heardSpeech: true });
  });

  it("measures frame level in dBFS", () => {
    expect(frameDbfs(new Int16Array(320))).toBe(-100);
    expect(frameDbfs(sine(1000, 16000, 20, 32767 / 10))).toBeCloseTo(-23, 0);
  });
});
