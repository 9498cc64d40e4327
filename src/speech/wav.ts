// WAV files in (wavefile parses the RIFF container): any PCM/float format, any channel count ->
// 16-bit mono samples at the file's rate (channels averaged).
import { readFile } from "node:fs/promises";
import wavefile from "wavefile";

export interface PcmAudio {
  sampleRate: number;
  samples: Int16Array;
}

export class WavError extends Error {
  override name = "WavError";
}

export function decodeWav(bytes: Uint8Array, name = "(wav)"): PcmAudio {
  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (err) {
    throw new WavError(`${name} is not a WAV file we can read (${(err as Error).message})`);
  }
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; audioFormat: number };
  if (!fmt.sampleRate || !fmt.numChannels) throw new WavError(`${name}: the WAV header has no sample rate or channels`);
  try {
    if ((wav as unknown as { bitDepth: string }).bitDepth !== "16") wav.toBitDepth("16");
  } catch (err) {
    throw new WavError(`${name}: unsupported sample format (${(err as Error).message})`);
  }
  const raw = wav.getSamples(false, Int16Array) as unknown as Int16Array | Int16Array[];
  const channels = fmt.numChannels > 1 ? (raw as Int16Array[]) : [raw as Int16Array];
  if (channels.length === 1) return { sampleRate: fmt.sampleRate, samples: channels[0]! };
  const n = channels[0]!.length;
  const mono = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (const c of channels) s += c[i]!;
    mono[i] = Math.round(s / channels.length);
  }
  return { sampleRate: fmt.sampleRate, samples: mono };
}

export async function readWav(path: string): Promise<PcmAudio> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new WavError(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  return decodeWav(bytes, path);
}

/** 16-bit mono PCM -> WAV bytes. */
export function encodeWav(audio: PcmAudio): Buffer {
  const wav = new wavefile.WaveFile();
  wav.fromScratch(1, audio.sampleRate, "16", audio.samples);
  return Buffer.from(wav.toBuffer());
}
