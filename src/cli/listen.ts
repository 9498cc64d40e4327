// needled listen [--wav FILE] [--in-process | --http HOST:PORT] [--device ID] [--activation MODE] [--json] [--config FILE]
// Speech in, the daemon's reply out. From a WAV file (the whole pipeline: resampling, endpointing,
// recognition, normalisation) or, without --wav, from the microphone (arecord) until Ctrl-C; in a terminal,
// the space bar is push-to-talk. Each utterance goes to the running daemon (POST /v1/say), or, when none
// answers (or with --in-process), to a daemon started inside this process.
import { createInterface } from "node:readline";
import type { Answer } from "../daemon/core.js";
import { loadConfig, type NeedledConfig } from "../daemon/config.js";
import { Daemon } from "../daemon/daemon.js";
import { createLogger } from "../daemon/log.js";
import { ArecordCapture } from "../speech/capture.js";
import { voiceConfig } from "../speech/config.js";
import type { GrammarTool } from "../speech/grammar.js";
import { openSpeechModel, speechSetup } from "../speech/open.js";
import { SpeechPipeline, type HeardUtterance } from "../speech/pipeline.js";
import { VoiceUnavailable, type SpeechModel } from "../speech/recognizer.js";
import { readWav, WavError } from "../speech/wav.js";
import { DaemonUnreachable, EXIT, UsageError, endpoint, parse, request, type Io } from "./common.js";

export const usage = [
  "needled listen [--wav FILE] [--in-process | --http HOST:PORT] [--device ID] [--activation wake|ptt|always]",
  "               [--json] [--config FILE] [--token T]",
  "",
  "  --wav FILE     run the speech pipeline on a WAV file (default activation: always) instead of the microphone",
  "  --in-process   dispatch through a daemon started in this process, even when one is running",
  "Prints what was heard and the reply; --json prints one JSON object per utterance.",
].join("\n");

type Say = (text: string, device: string) => Promise<Answer>;

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    wav: { type: "string" },
    "in-process": { type: "boolean" },
    http: { type: "string" },
    device: { type: "string" },
    activation: { type: "string" },
    json: { type: "boolean" },
    config: { type: "string" },
    token: { type: "string" },
  });
  if (positionals.length > 0) throw new UsageError(`listen takes no arguments (got "${positionals[0]}")\nusage: ${usage}`);
  if (values["in-process"] && values.http) throw new UsageError("--in-process and --http exclude each other");
  const activation = values.activation ?? (values.wav ? "always" : undefined);
  if (activation !== undefined && !["wake", "ptt", "always"].includes(activation)) {
    throw new UsageError(`--activation must be wake, ptt or always (got "${activation}")`);
  }

  const config = await loadConfig(values.config !== undefined ? { file: values.config } : {});
  const voice = voiceConfig(config);
  const audio = values.wav ? await readWav(values.wav).catch((err: unknown) => err as Error) : undefined;
  if (audio instanceof WavError || audio instanceof Error) {
    io.err(`needled listen: ${audio.message}`);
    return EXIT.FAILED;
  }

  let model: SpeechModel;
  try {
    model = await openSpeechModel(voice);
  } catch (err) {
    if (err instanceof VoiceUnavailable) {
      io.err(`needled listen: ${err.message}\n(needled doctor shows what is missing)`);
      return EXIT.FAILED;
    }
    throw err;
  }

  const target = await dispatcher(config, values, io);
  try {
    const { wake, grammar } = speechSetup(voice, target.tools);
    const device = values.device ?? voice.device;
    let heard = 0;
    let failed = 0;
    const onUtterance = async (u: HeardUtterance) => {
      heard++;
      const answer = await target.say(u.text, u.device);
      if (!answer.ok) failed++;
      if (values.json) {
        io.out(JSON.stringify({ heard: u.raw, text: u.text, device: u.device, startMs: u.speechStartMs, endMs: u.speechEndMs, wake: u.wake, answer }));
      } else {
        io.out(`heard: ${u.text}${u.raw !== u.text ? `  (recognised: "${u.raw}")` : ""}`);
        io.out(`reply: ${answer.say}`);
      }
    };
    const pipeline = new SpeechPipeline({
      model,
      inputRate: audio ? audio.sampleRate : model.sampleRate,
      device,
      activation: (activation ?? voice.activation) as "wake" | "ptt" | "always",
      wake,
      wakeWindowMs: voice.wakeWindowS * 1000,
      ...(grammar ? { grammar } : {}),
      vad: {
        thresholdDb: voice.vad.thresholdDb,
        minSpeechDbfs: voice.vad.minSpeechDbfs,
        minSpeechMs: voice.vad.minSpeechMs,
        hangoverMs: voice.vad.hangoverMs,
        preRollMs: voice.vad.preRollMs,
        maxUtteranceMs: voice.vad.maxUtteranceS * 1000,
      },
      normalize: { numbers: voice.numbers },
      onUtterance,
      onNote: (n) => {
        if (values.json) return;
        if (n.type === "wake" && n.armedUntilMs !== undefined) io.err(`(wake phrase "${n.phrase}" heard: listening for the command)`);
        if (n.type === "ignored" && n.reason === "no-wake-phrase" && n.heard) io.err(`(ignored, no wake phrase: "${n.heard}")`);
      },
      onError: (err) => io.err(`needled listen: recognition failed: ${(err as Error)?.message ?? err}`),
    });

    if (audio) {
      const step = Math.max(1, Math.round(audio.sampleRate / 50)); // 20 ms, as a microphone delivers it
      for (let i = 0; i < audio.samples.length; i += step) pipeline.push(audio.samples.subarray(i, i + step));
      await pipeline.end();
      if (heard === 0) {
        io.err(`needled listen: nothing was heard in ${values.wav}`);
        return EXIT.FAILED;
      }
      return failed > 0 ? EXIT.FAILED : EXIT.OK;
    }
    return await listenLive(pipeline, model, voice.alsaDevice, voice.arecordArgs, device, io);
  } finally {
    model.close();
    await target.close();
  }
}

async function listenLive(pipeline: SpeechPipeline, model: SpeechModel, alsaDevice: string, args: string[], device: string, io: Io): Promise<number> {
  const log = createLogger({ level: "warn", destination: process.stderr });
  const capture = new ArecordCapture({ device: alsaDevice, sampleRate: model.sampleRate, args, log, onAudio: (pcm) => pipeline.push(pcm) });
  capture.start();
  const tty = process.stdin.isTTY;
  io.err(`listening on ALSA "${alsaDevice}"${tty ? "; space: push-to-talk, q: quit" : ""}; Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    if (tty) {
      process.stdin.setRawMode(true);
      const rl = createInterface({ input: process.stdin });
      rl.on("close", stop);
      process.stdin.on("data", (d: Buffer) => {
        const k = d.toString();
        if (k === "q" || k === "\u0003") stop();
        else if (k === " ") {
          if (pipeline.listening) pipeline.releaseTalk();
          else {
            pipeline.pressTalk(device, false);
            io.err("(talk now)");
          }
        }
      });
    }
  });
  if (tty) process.stdin.setRawMode(false);
  await capture.stop();
  await pipeline.end();
  return capture.missing ? EXIT.FAILED : EXIT.OK;
}

interface Target {
  say: Say;
  tools: GrammarTool[];
  close(): Promise<void>;
}

/** The running daemon over HTTP; or, if none answers (or --in-process), one started here. */
async function dispatcher(config: NeedledConfig, values: { "in-process"?: boolean; http?: string; config?: string; token?: string }, io: Io): Promise<Target> {
  if (!values["in-process"]) {
    const ep = await endpoint(values);
    try {
      const { json } = await request(ep, "GET", "/v1/tools");
      const tools = Array.isArray(json) ? json : ((json as { tools?: Target["tools"] }).tools ?? []);
      return {
        tools,
        say: async (text, device) => (await request(ep, "POST", "/v1/say", { text, device })).json as Answer,
        close: async () => {},
      };
    } catch (err) {
      if (!(err instanceof DaemonUnreachable) || values.http) throw err;
      io.err(`(no daemon at ${ep.base}: running one in this process)`);
    }
  }
  const log = createLogger({ level: "warn", destination: process.stderr });
  const daemon = await Daemon.start({
    config: { ...config, http: { ...config.http, enabled: false }, stdin: false },
    log,
  });
  return {
    tools: daemon.registry.list(),
    say: (text, device) => daemon.core.say({ text, device, source: "voice" }),
    close: () => daemon.stop(),
  };
}
