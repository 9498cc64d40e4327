// Opening the speech model the config names: Vosk, unless $NEEDLED_SPEECH_MODULE names a module that
// exports `openSpeechModel(voice: VoiceConfig): Promise<SpeechModel>` (tests and the benchmark use it to put
// the ScriptedRecognizer test double behind a real daemon or `needled listen` process).
import { isAbsolute } from "node:path";
import { pathToFileURL } from "node:url";
import type { VoiceConfig } from "./config.js";
import { buildGrammar, type GrammarTool } from "./grammar.js";
import type { SpeechModel } from "./recognizer.js";
import { openVosk } from "./vosk.js";
import { WakePhrases } from "./wake.js";

export async function openSpeechModel(voice: VoiceConfig, env: NodeJS.ProcessEnv = process.env): Promise<SpeechModel> {
  const spec = env.NEEDLED_SPEECH_MODULE;
  if (spec) {
    const url = isAbsolute(spec) ? pathToFileURL(spec).href : spec;
    const mod = (await import(url)) as { openSpeechModel?: (v: VoiceConfig) => Promise<SpeechModel> | SpeechModel };
    if (typeof mod.openSpeechModel !== "function") throw new Error(`${spec} exports no openSpeechModel()`);
    return mod.openSpeechModel(voice);
  }
  return openVosk({
    modelDir: voice.model,
    ...(voice.libvosk ? { libvosk: voice.libvosk } : {}),
    logLevel: voice.voskLogLevel,
  });
}

/** The wake phrases and, in grammar mode, the grammar for these tools. */
export function speechSetup(voice: VoiceConfig, tools: GrammarTool[]): { wake: WakePhrases; grammar?: string[] } {
  const wake = new WakePhrases(voice.wakePhrases);
  if (!voice.grammar) return { wake };
  return { wake, grammar: buildGrammar({ tools, wakeWords: wake.words, phrases: voice.grammarPhrases }) };
}
