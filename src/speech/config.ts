// The `voice:` config section (its schema is in src/daemon/config-schema.ts), typed and with paths resolved.
import { dirname, isAbsolute, join, resolve } from "node:path";
import type { NeedledConfig } from "../daemon/config.js";

export const DEFAULT_MODEL_NAME = "vosk-model-small-en-us-0.15";

export interface VoiceConfig {
  enabled: "auto" | boolean;
  libvosk?: string;
  /** The model directory (absolute). */
  model: string;
  /** Whether voice.model was set (otherwise the default under the state dir). */
  modelConfigured: boolean;
  microphone: boolean;
  alsaDevice: string;
  arecordArgs: string[];
  device: string;
  activation: "wake" | "ptt" | "always";
  wakePhrases: string[];
  wakeWindowS: number;
  pttDevices: string[];
  grammar: boolean;
  grammarPhrases: string[];
  numbers: "digits" | "words";
  voskLogLevel: number;
  vad: {
    thresholdDb: number;
    minSpeechDbfs: number;
    minSpeechMs: number;
    hangoverMs: number;
    preRollMs: number;
    maxUtteranceS: number;
  };
}

interface RawVoice {
  enabled: "auto" | boolean;
  libvosk: string | null;
  model: string | null;
  microphone: boolean;
  alsa_device: string;
  arecord_args: string[];
  device: string;
  activation: "wake" | "ptt" | "always";
  wake_phrases: string[];
  wake_window_s: number;
  ptt_devices: string[];
  grammar: boolean;
  grammar_phrases: string[];
  numbers: "digits" | "words";
  vosk_log_level: number;
  vad: {
    threshold_db: number;
    min_speech_dbfs: number;
    min_speech_ms: number;
    hangover_ms: number;
    pre_roll_ms: number;
    max_utterance_s: number;
  };
}

/** Where `needled voice setup` puts the model by default. */
export function defaultModelDir(stateDir: string): string {
  return join(stateDir, "voice", DEFAULT_MODEL_NAME);
}

export function voiceConfig(config: NeedledConfig): VoiceConfig {
  const v = config.raw.voice as RawVoice | undefined;
  if (!v) throw new Error("the config has no voice section (is src/daemon/config-schema.ts missing it?)");
  const base = config.file ? dirname(config.file) : process.cwd();
  const path = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  return {
    enabled: v.enabled,
    ...(v.libvosk ? { libvosk: path(v.libvosk) } : {}),
    model: v.model ? path(v.model) : defaultModelDir(config.stateDir),
    modelConfigured: Boolean(v.model),
    microphone: v.microphone,
    alsaDevice: v.alsa_device,
    arecordArgs: v.arecord_args,
    device: v.device,
    activation: v.activation,
    wakePhrases: v.wake_phrases,
    wakeWindowS: v.wake_window_s,
    pttDevices: v.ptt_devices,
    grammar: v.grammar,
    grammarPhrases: v.grammar_phrases,
    numbers: v.numbers,
    voskLogLevel: v.vosk_log_level,
    vad: {
      thresholdDb: v.vad.threshold_db,
      minSpeechDbfs: v.vad.min_speech_dbfs,
      minSpeechMs: v.vad.min_speech_ms,
      hangoverMs: v.vad.hangover_ms,
      preRollMs: v.vad.pre_roll_ms,
      maxUtteranceS: v.vad.max_utterance_s,
    },
  };
}
