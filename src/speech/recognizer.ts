// The speech recogniser boundary. The pipeline finds the utterances (endpointing) and hands each one's audio
// to a Recognizer; Vosk is the real one (vosk.ts), ScriptedRecognizer the test double (scripted-recognizer.ts).

export interface RecognizedText {
  text: string;
  /** 0..1 where the recogniser says (Vosk: mean word confidence); absent otherwise. */
  confidence?: number;
}

/** One utterance at a time: accept() its audio, read partial() while it comes, finish() at its end. */
export interface Recognizer {
  /** The rate accept() expects (16-bit mono PCM). */
  readonly sampleRate: number;
  /** Feeds audio of the current utterance; calls must not overlap (await each). */
  accept(pcm: Int16Array): Promise<void>;
  /** What is recognised so far in the current utterance ("" before any word). */
  partial(): string;
  /** Ends the current utterance: its final text; the recogniser is then ready for the next one. */
  finish(): Promise<RecognizedText>;
  /** Drops the current utterance without a result (the wake phrase was not said). */
  reset(): void;
  close(): void;
}

export interface RecognizerOptions {
  /** Grammar mode: the phrases/words the recogniser may return ("[unk]" for anything else). */
  grammar?: string[];
}

/** An opened acoustic model (or a double); makes recognisers at the model's rate. */
export interface SpeechModel {
  readonly sampleRate: number;
  /** What it is, for logs ("vosk-model-small-en-us-0.15 via /path/libvosk.so"). */
  readonly description: string;
  createRecognizer(opts?: RecognizerOptions): Recognizer;
  close(): void;
}

/** Why voice is unavailable: a missing library or model, a broken model. Always says what to do. */
export class VoiceUnavailable extends Error {
  override name = "VoiceUnavailable";
  constructor(
    message: string,
    readonly what: "library" | "model",
  ) {
    super(message);
  }
}
