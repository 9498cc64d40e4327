// Speech test material: real speech from espeak-ng (22050 Hz WAVs), sox as an independent reference
// (resampling, silence trimming), and a speech module ($NEEDLED_SPEECH_MODULE) whose model is the
// ScriptedRecognizer TEST DOUBLE, put behind real processes (no Vosk acoustic model is obtainable here).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { readWav, type PcmAudio } from "../src/speech/wav.js";
import { ROOT } from "./helpers/daemon.js";

const cacheDir = join(tmpdir(), `needled-speech-fixtures-${process.pid}`);

/** espeak-ng's voice saying `text`, as a WAV file (cached per test process). */
export function espeakWav(text: string): string {
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `${text.replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}.wav`);
  if (!existsSync(file)) {
    try {
      execFileSync("espeak-ng", ["-w", file, text], { stdio: ["ignore", "ignore", "pipe"] });
    } catch (err) {
      throw new Error(`espeak-ng is needed for the speech tests (apt-get install espeak-ng; .ci/run installs it): ${(err as Error).message}`);
    }
  }
  return file;
}

export async function espeak(text: string): Promise<PcmAudio> {
  return readWav(espeakWav(text));
}

/** Phrases joined by silences: the samples and where each phrase starts (ms). */
export function joinWithSilence(parts: PcmAudio[], gapMs: number, leadMs = 0, tailMs = 0): { audio: PcmAudio; startsMs: number[] } {
  const rate = parts[0]!.sampleRate;
  const gap = Math.round((rate * gapMs) / 1000);
  const lead = Math.round((rate * leadMs) / 1000);
  const tail = Math.round((rate * tailMs) / 1000);
  const total = lead + parts.reduce((n, p) => n + p.samples.length, 0) + gap * (parts.length - 1) + tail;
  const samples = new Int16Array(total);
  const startsMs: number[] = [];
  let at = lead;
  for (const p of parts) {
    if (p.sampleRate !== rate) throw new Error("joinWithSilence: mixed rates");
    startsMs.push((at / rate) * 1000);
    samples.set(p.samples, at);
    at += p.samples.length + gap;
  }
  return { audio: { sampleRate: rate, samples }, startsMs };
}

/** sox's idea of where the speech in a WAV begins and ends (ms), from its `silence` effect at 1%. */
export function soxSpeechBounds(wav: string): { startMs: number; endMs: number } {
  const dir = mkdtempSync(join(tmpdir(), "needled-sox-"));
  const dur = (f: string) => Number(execFileSync("soxi", ["-D", f], { encoding: "utf8" }).trim()) * 1000;
  const lead = join(dir, "lead.wav");
  const trail = join(dir, "trail.wav");
  execFileSync("sox", [wav, lead, "silence", "1", "0.01", "1%"]);
  execFileSync("sox", [wav, trail, "reverse", "silence", "1", "0.01", "1%", "reverse"]);
  const total = dur(wav);
  return { startMs: total - dur(lead), endMs: dur(trail) };
}

/** sox's own rate conversion of a WAV, for comparison. */
export async function soxResample(wav: string, rate: number): Promise<PcmAudio> {
  const out = join(mkdtempSync(join(tmpdir(), "needled-sox-")), "out.wav");
  execFileSync("sox", [wav, "-r", String(rate), out]);
  return readWav(out);
}

export function writeWav(file: string, audio: PcmAudio): string {
  execFileSync("sox", ["-t", "raw", "-r", String(audio.sampleRate), "-e", "signed", "-b", "16", "-c", "1", "-", file], {
    input: Buffer.from(audio.samples.buffer, audio.samples.byteOffset, audio.samples.byteLength),
  });
  return file;
}

const distUrl = (p: string) => pathToFileURL(join(ROOT, "dist", p)).href;

/**
 * A $NEEDLED_SPEECH_MODULE for real processes: its model is the ScriptedRecognizer TEST DOUBLE answering
 * `script` (one transcript per detected utterance). Needs `npm run build`.
 */
export function scriptedSpeechModule(dir: string, script: string[], msPerWord = 250): string {
  const file = join(dir, "scripted-speech.mjs");
  writeFileSync(
    file,
    `// TEST DOUBLE: ScriptedRecognizer behind needled's speech module hook\n` +
      `import { ScriptedModel } from ${JSON.stringify(distUrl("src/speech/scripted-recognizer.js"))};\n` +
      `export async function openSpeechModel() { return new ScriptedModel(${JSON.stringify(script)}, { msPerWord: ${msPerWord} }); }\n`,
  );
  return file;
}

export { ROOT };
