// One audio stream (a microphone, a WAV file) -> the commands said in it:
//   PCM at the source's rate -> resample to the model's rate -> endpointer (utterances) -> recogniser
//   -> activation gate (wake phrase via partial results / push-to-talk / always) -> normalised text.
// The recogniser works on a queue (one utterance at a time, calls never overlap); push() never blocks and
// never throws; problems go to onError and the stream goes on.
import { Endpointer, type EndReason, type EndpointEvent, type EndpointerOptions } from "./endpointer.js";
import { normalizeTranscript, type NormalizeOptions } from "./normalize.js";
import type { Recognizer, SpeechModel } from "./recognizer.js";
import { Resampler } from "./resample.js";
import type { WakePhrases } from "./wake.js";

export interface HeardUtterance {
  /** Normalised text for the model (wake phrase removed). */
  text: string;
  /** What the recogniser returned. */
  raw: string;
  confidence?: number;
  /** Who said it: the stream's device, or the wearable whose push-to-talk opened it. */
  device: string;
  byPtt: boolean;
  /** The wake phrase heard at its start (or in the utterance before it), if any. */
  wake?: string;
  /** Audio times (ms since the stream began). */
  speechStartMs: number;
  speechEndMs: number;
  endDecidedMs: number;
  endReason: EndReason;
  /** performance.now() when the endpointer decided the end (the pipeline's clock). */
  endDecidedWall: number;
}

export type PipelineNote =
  | { type: "speech-start"; atMs: number; byPtt: boolean }
  | { type: "wake"; phrase: string; atMs: number; armedUntilMs?: number }
  | { type: "ignored"; reason: "no-wake-phrase" | "ptt-only" | "empty"; heard?: string; atMs: number };

export interface PipelineOptions {
  model: SpeechModel;
  /** The source's sample rate (resampled to the model's). */
  inputRate: number;
  /** Who speaks into this stream. */
  device: string;
  activation: "wake" | "ptt" | "always";
  wake: WakePhrases;
  /** After a bare wake phrase, how long the next utterance counts as a command. */
  wakeWindowMs?: number;
  grammar?: string[];
  vad?: Omit<EndpointerOptions, "sampleRate">;
  normalize?: NormalizeOptions;
  onUtterance(u: HeardUtterance): void | Promise<void>;
  onNote?(n: PipelineNote): void;
  onError?(err: unknown): void;
}

type Gate = "open" | "wake-pending" | "wake-heard" | "dropped";

interface Current {
  startMs: number;
  byPtt: boolean;
  device: string;
  gate: Gate;
  wake?: string;
}

export class SpeechPipeline {
  private readonly resampler: Resampler;
  private readonly endpointer: Endpointer;
  private readonly recognizer: Recognizer;
  private work: Promise<void> = Promise.resolve();
  private current: Current | undefined;
  private armed: { untilMs: number; phrase: string } | undefined;
  private pttDevice: string | undefined;
  private ended = false;

  constructor(private readonly opts: PipelineOptions) {
    this.resampler = new Resampler(opts.inputRate, opts.model.sampleRate);
    this.endpointer = new Endpointer({ ...opts.vad, sampleRate: opts.model.sampleRate });
    this.recognizer = opts.model.createRecognizer(opts.grammar ? { grammar: opts.grammar } : {});
  }

  /** Audio time seen so far (ms). */
  get nowMs(): number {
    return this.endpointer.nowMs;
  }

  /** Feeds the next PCM chunk (16-bit mono at inputRate). */
  push(pcm: Int16Array): void {
    if (this.ended) return;
    let events: EndpointEvent[];
    try {
      events = this.endpointer.push(this.resampler.push(pcm));
    } catch (err) {
      this.opts.onError?.(err);
      return;
    }
    this.enqueue(events);
  }

  /**
   * Push-to-talk pressed (a wearable's button, a key): an utterance opens now and counts as a command without
   * the wake phrase. `held`: only releaseTalk() ends it (a button held down); otherwise (a key toggled) the
   * end of speech or releaseTalk() does.
   */
  pressTalk(device = this.opts.device, held = true): void {
    if (this.ended) return;
    // An utterance the detector opened ends here; the button's own one starts now.
    const closing = this.endpointer.inUtterance ? this.endpointer.finish("released") : [];
    this.enqueue([...closing, ...this.endpointer.begin(held)], device);
  }

  releaseTalk(): void {
    if (this.ended) return;
    this.enqueue(this.endpointer.finish("released"));
  }

  /** Whether an utterance is open (speech or push-to-talk). */
  get listening(): boolean {
    return this.endpointer.inUtterance;
  }

  /** The stream ended: flush, close an open utterance, wait for the queue; the recogniser is closed. */
  async end(): Promise<void> {
    if (this.ended) return this.work;
    try {
      this.enqueue(this.endpointer.push(this.resampler.flush()));
      this.enqueue(this.endpointer.finish("stream-end"));
    } catch (err) {
      this.opts.onError?.(err);
    }
    this.ended = true;
    await this.work;
    this.recognizer.close();
  }

  /** Resolves when everything pushed so far is processed. */
  idle(): Promise<void> {
    return this.work;
  }

  private enqueue(events: EndpointEvent[], pttDevice?: string): void {
    if (events.length === 0) return;
    const wall = performance.now();
    this.work = this.work.then(async () => {
      for (const e of events) {
        try {
          if (e.type === "start" && e.byPtt) this.pttDevice = pttDevice;
          await this.handle(e, wall);
        } catch (err) {
          this.opts.onError?.(err);
          // Whatever the recogniser holds of this utterance is lost; the next one starts clean.
          if (this.current) this.current.gate = "dropped";
          this.safeReset();
        }
      }
    });
  }

  private async handle(e: EndpointEvent, wall: number): Promise<void> {
    const { opts } = this;
    if (e.type === "start") {
      const device = e.byPtt ? (this.pttDevice ?? opts.device) : opts.device;
      let gate: Gate;
      let wake: string | undefined;
      if (e.byPtt || opts.activation === "always") gate = "open";
      else if (opts.activation === "ptt") gate = "dropped";
      else if (this.armed && e.atMs <= this.armed.untilMs) {
        gate = "open";
        wake = this.armed.phrase;
      } else gate = "wake-pending";
      this.armed = undefined;
      this.current = { startMs: e.atMs, byPtt: e.byPtt, device, gate, ...(wake ? { wake } : {}) };
      opts.onNote?.({ type: "speech-start", atMs: e.atMs, byPtt: e.byPtt });
      if (gate === "dropped") opts.onNote?.({ type: "ignored", reason: "ptt-only", atMs: e.atMs });
      return;
    }
    const cur = this.current;
    if (!cur) return;
    if (e.type === "audio") {
      if (cur.gate === "dropped") return;
      await this.recognizer.accept(e.samples);
      if (cur.gate === "wake-pending") {
        const heard = this.recognizer.partial();
        const m = opts.wake.match(heard, false);
        if (m.kind === "no") {
          // Not for us: stop decoding this utterance (saves the CPU a Pi needs).
          cur.gate = "dropped";
          this.recognizer.reset();
          opts.onNote?.({ type: "ignored", reason: "no-wake-phrase", heard, atMs: this.endpointer.nowMs });
        } else if (m.kind === "yes") {
          cur.gate = "wake-heard";
          cur.wake = m.phrase;
          opts.onNote?.({ type: "wake", phrase: m.phrase, atMs: this.endpointer.nowMs });
        }
      }
      return;
    }
    // end
    this.current = undefined;
    this.pttDevice = undefined;
    if (cur.gate === "dropped") return;
    const result = await this.recognizer.finish();
    let words = result.text;
    let wake = cur.wake;
    const m = opts.wake.match(words, true);
    if (cur.gate === "wake-pending" || cur.gate === "wake-heard") {
      if (m.kind !== "yes") {
        opts.onNote?.({ type: "ignored", reason: "no-wake-phrase", heard: words, atMs: e.atMs });
        return;
      }
      wake = m.phrase;
      words = m.rest;
      if (normalizeTranscript(words).length === 0) {
        // "hey needle" alone: the next utterance is the command.
        const untilMs = e.atMs + (opts.wakeWindowMs ?? 8000);
        this.armed = { untilMs, phrase: m.phrase };
        opts.onNote?.({ type: "wake", phrase: m.phrase, atMs: e.atMs, armedUntilMs: untilMs });
        return;
      }
    } else if (m.kind === "yes") {
      // Push-to-talk or "always" with the wake phrase said anyway.
      wake = m.phrase;
      words = m.rest;
    }
    const text = normalizeTranscript(words, opts.normalize);
    if (!text) {
      opts.onNote?.({ type: "ignored", reason: "empty", heard: result.text, atMs: e.atMs });
      return;
    }
    await opts.onUtterance({
      text,
      raw: result.text,
      ...(result.confidence !== undefined ? { confidence: result.confidence } : {}),
      device: cur.device,
      byPtt: cur.byPtt,
      ...(wake ? { wake } : {}),
      speechStartMs: cur.startMs,
      speechEndMs: e.speechEndMs,
      endDecidedMs: e.atMs,
      endReason: e.reason,
      endDecidedWall: wall,
    });
  }

  private safeReset(): void {
    try {
      this.recognizer.reset();
    } catch {
      // the recogniser is already in trouble; the next utterance will tell
    }
  }
}

/**
 * One whole utterance (a wearable's push-to-talk recording): resampled, recognised, wake phrase (if said)
 * removed, normalised. Returns "" when nothing was recognised.
 */
export async function recognizeUtterance(
  recognizer: Recognizer,
  pcm: Int16Array,
  sampleRate: number,
  opts: { wake?: WakePhrases; normalize?: NormalizeOptions } = {},
): Promise<{ text: string; raw: string; confidence?: number }> {
  const r = new Resampler(sampleRate, recognizer.sampleRate);
  const a = r.push(pcm);
  const b = r.flush();
  // Vosk takes any chunk size; 100 ms pieces keep each worker-thread call short.
  const all = new Int16Array(a.length + b.length);
  all.set(a);
  all.set(b, a.length);
  const step = recognizer.sampleRate / 10;
  for (let i = 0; i < all.length; i += step) await recognizer.accept(all.subarray(i, Math.min(all.length, i + step)));
  const result = await recognizer.finish();
  let words = result.text;
  const m = opts.wake?.match(words, true);
  if (m?.kind === "yes") words = m.rest;
  return {
    text: normalizeTranscript(words, opts.normalize),
    raw: result.text,
    ...(result.confidence !== undefined ? { confidence: result.confidence } : {}),
  };
}
