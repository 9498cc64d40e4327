// The speech pipeline on real espeak-ng speech (22050 Hz, resampled in the pipeline), with the
// ScriptedRecognizer TEST DOUBLE in place of Vosk (no acoustic model can be had here): it receives each
// detected utterance's real audio and answers the script's next transcript. Dispatch goes through a real
// in-process daemon with the built-in timers plugin; only the engine is a scripted test double.
import { afterEach, describe, expect, it } from "vitest";
import { SpeechPipeline, recognizeUtterance, type HeardUtterance, type PipelineNote } from "../src/speech/pipeline.js";
import { resample } from "../src/speech/resample.js";
import { ScriptedModel } from "../src/speech/scripted-recognizer.js";
import { WakePhrases } from "../src/speech/wake.js";
import type { PcmAudio } from "../src/speech/wav.js";
import { scriptedEngine } from "./helpers/scripted-engine.js";
import { startTestDaemon, type TestDaemon } from "./helpers/in-process.js";
import { espeak, joinWithSilence } from "./speech-helpers.js";

const wake = new WakePhrases(["hey needle"]);

async function runPipeline(
  audio: PcmAudio,
  script: string[],
  opts: { activation?: "wake" | "ptt" | "always"; wakeWindowMs?: number; grammar?: string[]; during?: (p: SpeechPipeline, atMs: number) => void } = {},
) {
  const model = new ScriptedModel(script);
  const heard: HeardUtterance[] = [];
  const notes: PipelineNote[] = [];
  const p = new SpeechPipeline({
    model,
    inputRate: audio.sampleRate,
    device: "kitchen-mic",
    activation: opts.activation ?? "wake",
    wake,
    ...(opts.wakeWindowMs ? { wakeWindowMs: opts.wakeWindowMs } : {}),
    ...(opts.grammar ? { grammar: opts.grammar } : {}),
    onUtterance: (u) => void heard.push(u),
    onNote: (n) => notes.push(n),
    onError: (err) => {
      throw err;
    },
  });
  const step = Math.round(audio.sampleRate / 50);
  for (let i = 0; i < audio.samples.length; i += step) {
    opts.during?.(p, (i / audio.sampleRate) * 1000);
    p.push(audio.samples.subarray(i, i + step));
  }
  await p.end();
  return { heard, notes, model };
}

describe("speech pipeline (ScriptedRecognizer test double)", () => {
  it("wake phrase: commands after 'hey needle' are heard, other talk is dropped early via partial results", async () => {
    const parts = await Promise.all(
      ["hey needle set a timer for five minutes", "what a lovely day it is today", "hey needle", "turn on the kitchen lights"].map(espeak),
    );
    const { audio, startsMs } = joinWithSilence(parts, 1200, 300);
    const script = ["hey needle set a timer for five minutes", "what a lovely day it is today", "hey needle", "turn on the kitchen lights"];
    const { heard, notes, model } = await runPipeline(audio, script);

    expect(heard.map((h) => h.text)).toEqual(["set a timer for 5 minutes", "turn on the kitchen lights"]);
    expect(heard[0]).toMatchObject({ raw: "hey needle set a timer for five minutes", wake: "hey needle", device: "kitchen-mic", byPtt: false });
    expect(heard[1]).toMatchObject({ wake: "hey needle" }); // armed by the bare wake phrase before it
    // The utterances were found where they are (speech starts a little after each phrase's first sample).
    expect(heard[0]!.speechStartMs).toBeGreaterThanOrEqual(startsMs[0]! - 20);
    expect(heard[0]!.speechStartMs).toBeLessThan(startsMs[0]! + 300);
    expect(heard[1]!.speechStartMs).toBeGreaterThanOrEqual(startsMs[3]! - 20);
    expect(heard[0]!.endReason).toBe("silence");

    // The recogniser got the real audio at 16 kHz; the small talk was reset after a few words, not decoded to its end.
    expect(model.log.map((u) => u.outcome)).toEqual(["finished", "reset", "finished", "finished"]);
    const dropped = model.log[1]!;
    const fullSmallTalk = (parts[1]!.samples.length / 22050) * 16000;
    expect(dropped.samples).toBeLessThan(fullSmallTalk * 0.6);
    for (const u of model.log) expect(u.peak).toBeGreaterThan(3000);
    const first = model.log[0]!;
    const firstSeconds = parts[0]!.samples.length / 22050;
    expect(first.samples / 16000).toBeGreaterThan(firstSeconds * 0.7);
    expect(notes.some((n) => n.type === "ignored" && n.reason === "no-wake-phrase")).toBe(true);
    expect(notes.some((n) => n.type === "wake" && n.armedUntilMs !== undefined)).toBe(true);
  });

  it("a bare wake phrase arms only for wake_window: a command long after it is ignored", async () => {
    const parts = await Promise.all(["hey needle", "turn on the kitchen lights"].map(espeak));
    const { audio } = joinWithSilence(parts, 4000, 200);
    const { heard } = await runPipeline(audio, ["hey needle", "turn on the kitchen lights"], { wakeWindowMs: 2000 });
    expect(heard).toEqual([]);
    const again = await runPipeline(audio, ["hey needle", "turn on the kitchen lights"], { wakeWindowMs: 8000 });
    expect(again.heard.map((h) => h.text)).toEqual(["turn on the kitchen lights"]);
  });

  it("push-to-talk only: speech without the button is not decoded; with it, the wearable that pressed gets the utterance", async () => {
    const parts = await Promise.all(["set a timer for five minutes", "turn on the kitchen lights"].map(espeak));
    const { audio, startsMs } = joinWithSilence(parts, 1500, 300, 1000);
    let pressed = false;
    let released = false;
    const { heard, model } = await runPipeline(audio, ["turn on the kitchen lights"], {
      activation: "ptt",
      during: (p, atMs) => {
        if (!pressed && atMs >= startsMs[1]! - 200) {
          pressed = true;
          p.pressTalk("watch-1", true);
        }
        if (pressed && !released && atMs >= startsMs[1]! + (parts[1]!.samples.length / 22050) * 1000 + 100) {
          released = true;
          p.releaseTalk();
        }
      },
    });
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ text: "turn on the kitchen lights", device: "watch-1", byPtt: true, endReason: "released" });
    expect(model.log).toHaveLength(1); // the first phrase never reached the recogniser
  });

  it("always: every utterance is a command, and a wake phrase said anyway is removed", async () => {
    const parts = await Promise.all(["hey needle turn off the fan", "dim the bedroom to thirty percent"].map(espeak));
    const { audio } = joinWithSilence(parts, 1000);
    const grammar = ["turn off the fan", "[unk]"];
    const { heard, model } = await runPipeline(audio, ["hey needle turn off the fan", "dim the bedroom to thirty percent"], { activation: "always", grammar });
    expect(heard.map((h) => h.text)).toEqual(["turn off the fan", "dim the bedroom to 30 percent"]);
    expect(model.log[0]!.grammar).toEqual(grammar);
  });

  it("an utterance recognised as nothing ([unk]) dispatches nothing", async () => {
    const { audio } = joinWithSilence([await espeak("blah blah")], 0);
    const { heard, notes } = await runPipeline(audio, ["[unk] [unk]"], { activation: "always" });
    expect(heard).toEqual([]);
    expect(notes.some((n) => n.type === "ignored" && n.reason === "empty")).toBe(true);
  });

  it("a recogniser that throws drops that utterance and the stream goes on", async () => {
    const parts = await Promise.all(["set a timer for five minutes", "turn on the kitchen lights"].map(espeak));
    const { audio } = joinWithSilence(parts, 1200);
    const model = new ScriptedModel(["set a timer for five minutes", "turn on the kitchen lights"]);
    const real = model.createRecognizer.bind(model);
    let calls = 0;
    model.createRecognizer = (o) => {
      const r = real(o);
      const finish = r.finish.bind(r);
      r.finish = async () => {
        if (calls++ === 0) throw new Error("decoder fell over");
        return finish();
      };
      return r;
    };
    const heard: HeardUtterance[] = [];
    const errors: unknown[] = [];
    const p = new SpeechPipeline({ model, inputRate: 22050, device: "mic", activation: "always", wake, onUtterance: (u) => void heard.push(u), onError: (e) => errors.push(e) });
    for (let i = 0; i < audio.samples.length; i += 441) p.push(audio.samples.subarray(i, i + 441));
    await p.end();
    expect(String(errors[0])).toMatch(/decoder fell over/);
    expect(heard.map((h) => h.text)).toEqual(["turn on the kitchen lights"]);
  });

  it("recognizeUtterance (a wearable's recording): resampled, wake phrase removed, normalised", async () => {
    const a = await espeak("hey needle set a timer for five minutes");
    const pcm16 = resample(a.samples, 22050, 16000);
    const model = new ScriptedModel(["hey needle set a timer for five minutes"]);
    const r = await recognizeUtterance(model.createRecognizer(), pcm16, 16000, { wake });
    expect(r).toEqual({ text: "set a timer for 5 minutes", raw: "hey needle set a timer for five minutes" });
    expect(model.log[0]!.samples).toBe(pcm16.length);
  });
});

describe("speech -> daemon (in-process daemon, real timers plugin, scripted engine test double)", () => {
  let d: TestDaemon | undefined;
  afterEach(async () => {
    await d?.close();
    d = undefined;
  });

  it("a spoken command becomes a set_timer call and the timer is running", async () => {
    const engine = scriptedEngine({
      "set a timer for 5 minutes": { calls: [{ name: "set_timer", arguments: { duration: "5 minutes" } }] },
    });
    d = await startTestDaemon({ config: { builtin_plugins: ["timers"] }, engine: async () => engine });
    const { audio } = joinWithSilence([await espeak("hey needle set a timer for five minutes")], 0, 200);
    const answers: Array<{ ok: boolean; say: string }> = [];
    const model = new ScriptedModel(["hey needle set a timer for five minutes"]);
    const core = d.daemon.core;
    const p = new SpeechPipeline({
      model,
      inputRate: 22050,
      device: "kitchen-mic",
      activation: "wake",
      wake,
      onUtterance: async (u) => void answers.push(await core.say({ text: u.text, device: u.device, source: "voice" })),
    });
    for (let i = 0; i < audio.samples.length; i += 441) p.push(audio.samples.subarray(i, i + 441));
    await p.end();
    expect(engine.seen.map((s) => s.text)).toEqual(["set a timer for 5 minutes"]);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.ok).toBe(true);
    expect(answers[0]!.say).toMatch(/5 minutes/);
    const status = await core.say({ text: "how much time is left", device: "kitchen-mic", source: "test" });
    expect(status).toBeDefined();
    const r = await d.daemon.core.call("timer_status", {}, "kitchen-mic", "test");
    expect(r.say).toMatch(/left/);
  });
});
