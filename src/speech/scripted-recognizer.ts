// TEST DOUBLE (named as such): ScriptedRecognizer stands in for Vosk where no acoustic model can be had
// (these machines cannot download one). It sits behind the same Recognizer interface and receives the real
// audio stream of each utterance the pipeline detected, but instead of decoding it returns the next
// transcript of a script: one transcript per detected utterance, in order. Partial results reveal the
// transcript's words as the utterance's audio arrives (one word per `msPerWord`), so the wake-phrase gate is
// exercised the way Vosk's partial results would exercise it.
// Used by tests and by the speech benchmark, which say so; never by the daemon unless
// $NEEDLED_SPEECH_MODULE points at a module that builds one.
import type { RecognizedText, Recognizer, RecognizerOptions, SpeechModel } from "./recognizer.js";

export interface ScriptedUtterance {
  /** The transcript returned for it. */
  text: string;
  /** Audio the recogniser received for it (samples at the model's rate). */
  samples: number;
  /** Peak absolute sample value received (the audio was real, not silence). */
  peak: number;
  /** finished: finish() returned the text; reset: the pipeline dropped it (no wake phrase). */
  outcome: "finished" | "reset";
  /** The grammar the recogniser was created with, if any. */
  grammar?: string[];
}

export interface ScriptedModelOptions {
  sampleRate?: number;
  msPerWord?: number;
}

export class ScriptedModel implements SpeechModel {
  readonly sampleRate: number;
  readonly description = "ScriptedRecognizer (test double)";
  readonly msPerWord: number;
  /** Every utterance the recognisers saw, in order. */
  readonly log: ScriptedUtterance[] = [];
  private next = 0;

  constructor(
    private readonly script: string[],
    opts: ScriptedModelOptions = {},
  ) {
    this.sampleRate = opts.sampleRate ?? 16000;
    this.msPerWord = opts.msPerWord ?? 250;
  }

  /** The next transcript (an empty one once the script is used up). */
  take(): string {
    return this.script[this.next++] ?? "";
  }

  createRecognizer(opts: RecognizerOptions = {}): Recognizer {
    return new ScriptedRecognizer(this, opts.grammar);
  }

  close(): void {}
}

export class ScriptedRecognizer implements Recognizer {
  private current: { text: string; samples: number; peak: number } | undefined;

  constructor(
    private readonly model: ScriptedModel,
    private readonly grammar?: string[],
  ) {}

  get sampleRate(): number {
    return this.model.sampleRate;
  }

  async accept(pcm: Int16Array): Promise<void> {
    this.current ??= { text: this.model.take(), samples: 0, peak: 0 };
    this.current.samples += pcm.length;
    for (let i = 0; i < pcm.length; i++) {
      const a = Math.abs(pcm[i]!);
      if (a > this.current.peak) this.current.peak = a;
    }
  }

  partial(): string {
    if (!this.current) return "";
    const words = this.current.text.split(/\s+/).filter(Boolean);
    const ms = (this.current.samples / this.sampleRate) * 1000;
    return words.slice(0, Math.floor(ms / this.model.msPerWord)).join(" ");
  }

  async finish(): Promise<RecognizedText> {
    const cur = this.current ?? { text: this.model.take(), samples: 0, peak: 0 };
    this.current = undefined;
    this.model.log.push({ ...cur, outcome: "finished", ...(this.grammar ? { grammar: this.grammar } : {}) });
    return { text: cur.text };
  }

  reset(): void {
    const cur = this.current ?? { text: this.model.take(), samples: 0, peak: 0 };
    this.current = undefined;
    this.model.log.push({ ...cur, outcome: "reset", ...(this.grammar ? { grammar: this.grammar } : {}) });
  }

  close(): void {}
}
