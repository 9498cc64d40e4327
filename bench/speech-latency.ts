// Speech: end of speech -> dispatched call, on espeak-ng recordings of the built-in tools' examples
// (tools/*/tools.json, never the eval sets). The recogniser is the ScriptedRecognizer TEST DOUBLE (no Vosk
// acoustic model can be had on these machines): it receives each utterance's real audio and answers the
// example's spoken form, so the numbers cover capture-side work (resampling 22.05 -> 16 kHz, endpointing,
// the wake gate, normalisation) and the daemon's path (engine, policy, handler), not Vosk's decoding.
// The engine is the real one when models/default exists, else a scripted test double (said in the output).
//
// Latency a speaker feels = hangover (the endpointer waits this long after the last speech frame: audio
// time, so real time when the microphone delivers it) + processing (wall time from the end decision to the
// call's answer). Audio is pushed faster than real time in 20 ms frames; processing keeps up when each
// frame takes less than 20 ms, which the "pipeline cost" line shows.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/daemon/config.js";
import { Daemon, defaultEngineFactory, type EngineFactory } from "../src/daemon/daemon.js";
import { createLogger } from "../src/daemon/log.js";
import { spokenForm } from "../src/speech/grammar.js";
import { normalizeTranscript } from "../src/speech/normalize.js";
import { SpeechPipeline, type HeardUtterance } from "../src/speech/pipeline.js";
import { ScriptedModel } from "../src/speech/scripted-recognizer.js";
import { WakePhrases } from "../src/speech/wake.js";
import { readWav } from "../src/speech/wav.js";
import type { BenchResult } from "./say-latency.js";

interface Example {
  tool: string;
  text: string;
}

function examples(root: string): Example[] {
  return ["timers", "navigation", "smarthome"].flatMap((p) => {
    const file = join(root, "tools", p, "tools.json");
    if (!existsSync(file)) return [];
    return (JSON.parse(readFileSync(file, "utf8")) as Array<{ name: string; examples?: string[] }>).flatMap((t) =>
      (t.examples ?? []).map((e) => ({ tool: t.name, text: e })),
    );
  });
}

export async function runSpeechLatencyBench(root: string, opts: { rounds?: number; log?: (s: string) => void } = {}): Promise<BenchResult[]> {
  const say = opts.log ?? (() => {});
  const rounds = opts.rounds ?? 3;
  const dir = await mkdtemp(join(tmpdir(), "needled-speech-bench-"));
  try {
    const items = examples(root).map((e, i) => {
      const spoken = spokenForm(e.text);
      const wav = join(dir, `${i}.wav`);
      execFileSync("espeak-ng", ["-w", wav, `hey needle ${spoken}`]);
      return { ...e, spoken, wav };
    });
    if (items.length === 0) throw new Error("no tool examples found (tools/*/tools.json)");

    const realModel = existsSync(join(root, "models", "default", "config.json"));
    const engineFactory: EngineFactory = realModel
      ? defaultEngineFactory
      : async () => {
          // TEST DOUBLE engine: each example's normalised text -> a call to its tool (no arguments checked).
          const byText = new Map(items.map((it) => [normalizeTranscript(it.spoken), it.tool]));
          return {
            async predict(text: string) {
              const tool = byText.get(text);
              return { calls: tool ? [{ name: tool, arguments: {} }] : [], confidence: 0.9, ms: 0 };
            },
            async close() {},
          };
        };
    say(`recogniser: ScriptedRecognizer (test double; Vosk's decoding is not measured); engine: ${realModel ? "models/default" : "scripted test double (no models/default)"}`);
    say(`${items.length} espeak-ng utterances ("hey needle" + a built-in tool example), ${rounds} rounds, hangover 600 ms`);

    const config = parseConfig(
      [
        `model: {dir: ${JSON.stringify(join(root, "models", "default"))}}`,
        "http: {enabled: false}",
        "mqtt: {enabled: false}",
        `state_dir: ${JSON.stringify(join(dir, "state"))}`,
        "stdin: false",
        "builtin_plugins: [timers, navigation, smarthome]",
        "handler_timeout_ms: 2000",
      ].join("\n"),
      { env: {} },
    );
    const daemon = await Daemon.start({ config, log: createLogger({ level: "silent" }), engineFactory });
    const wake = new WakePhrases(["hey needle"]);
    const hangover: number[] = [];
    const processing: number[] = [];
    const total: number[] = [];
    const perFrame: number[] = [];
    let heard = 0;
    let expected = 0;
    try {
      for (let r = 0; r < rounds + 1; r++) {
        for (const it of items) {
          const audio = await readWav(it.wav);
          // Silence after the phrase so that the endpointer ends it by its hangover, as in a room.
          const samples = new Int16Array(audio.samples.length + audio.sampleRate * 1.5);
          samples.set(audio.samples, Math.round(audio.sampleRate * 0.3));
          let done: { u: HeardUtterance; at: number } | undefined;
          const p = new SpeechPipeline({
            model: new ScriptedModel([`hey needle ${it.spoken}`]),
            inputRate: audio.sampleRate,
            device: "bench",
            activation: "wake",
            wake,
            onUtterance: async (u) => {
              const a = await daemon.core.say({ text: u.text, device: "bench", source: "voice" });
              if (a.confirm) await daemon.core.say({ text: "no", device: "bench", source: "voice" });
              done = { u, at: performance.now() };
            },
          });
          const step = Math.round(audio.sampleRate / 50);
          const t0 = performance.now();
          for (let i = 0; i < samples.length; i += step) p.push(samples.subarray(i, i + step));
          await p.end();
          const frames = Math.ceil(samples.length / step);
          if (r === 0) continue; // warm-up
          expected++;
          perFrame.push((performance.now() - t0) / frames);
          if (!done) continue;
          const d = done as { u: HeardUtterance; at: number };
          heard++;
          const h = d.u.endDecidedMs - d.u.speechEndMs;
          const w = d.at - d.u.endDecidedWall;
          hangover.push(h);
          processing.push(w);
          total.push(h + w);
        }
      }
    } finally {
      await daemon.stop();
    }
    say(`utterances found and dispatched: ${heard} of ${expected}`);
    return [
      stats("speech: end of speech -> end decided (hangover, audio time)", hangover),
      stats("speech: end decided -> call answered (wall)", processing),
      stats("speech: end of speech -> dispatched call (total)", total),
      stats("speech: pipeline cost per 20 ms frame (resample+VAD+gate)", perFrame),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function stats(name: string, xs: number[]): BenchResult {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? NaN;
  return { name, runs: s.length, medianMs: at(0.5), p95Ms: at(0.95) };
}
