// Hooks other parts of the daemon register to get what wearables send besides text (no I/O here):
// the speech pipeline turns an utterance's PCM into text; anything may watch button presses.

export interface AudioUtterance {
  device: string;
  /** "serial" or "mqtt". */
  source: string;
  /** 16 kHz, 16-bit signed, mono. */
  pcm: Int16Array;
  sampleRate: 16000;
}

/** Returns the recognised text ("" or undefined when nothing was understood). */
export type AudioUtteranceHandler = (u: AudioUtterance) => Promise<string | undefined> | string | undefined;

export interface ButtonPress {
  device: string;
  source: string;
  button: number;
  action: string;
  /** True when the profile names this button push-to-talk. */
  pushToTalk: boolean;
}
export type ButtonHandler = (b: ButtonPress) => void;

let audioHandler: AudioUtteranceHandler | undefined;
const buttonHandlers = new Set<ButtonHandler>();

/**
 * Registers the speech recognizer for wearable audio (one at a time; the last one wins). The link answers
 * an utterance with the reply to the recognised text. Returns a function that unregisters it.
 */
export function onAudioUtterance(handler: AudioUtteranceHandler): () => void {
  audioHandler = handler;
  return () => {
    if (audioHandler === handler) audioHandler = undefined;
  };
}

export function currentAudioHandler(): AudioUtteranceHandler | undefined {
  return audioHandler;
}

/** Watches button presses from every wearable. Returns a function that stops watching. */
export function onButton(handler: ButtonHandler): () => void {
  buttonHandlers.add(handler);
  return () => buttonHandlers.delete(handler);
}

export function emitButton(b: ButtonPress, onError: (err: unknown) => void): void {
  for (const h of buttonHandlers) {
    try {
      h(b);
    } catch (err) {
      onError(err);
    }
  }
}
