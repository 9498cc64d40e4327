// The speech channel the daemon starts with the others (src/channels/index.ts):
//   - the microphone (ALSA via arecord) -> SpeechPipeline -> core.say, with device voice.device ("mic"),
//   - wearables' recorded utterances (the link's onAudioUtterance hook) -> recognised text for the link,
//   - wearables' push-to-talk buttons (voice.ptt_devices) open the microphone for that wearable.
// Without libvosk or a model the daemon runs text-only: one log line says why and what to do.
import type { ChannelContext, ChannelFactory } from "../daemon/daemon.js";
import type { Logger } from "../plugins/api.js";
import { ArecordCapture } from "./capture.js";
import { voiceConfig, type VoiceConfig } from "./config.js";
import { openSpeechModel, speechSetup } from "./open.js";
import { SpeechPipeline, recognizeUtterance, type HeardUtterance } from "./pipeline.js";
import { VoiceUnavailable, type Recognizer, type SpeechModel } from "./recognizer.js";

/** The wearable link's hooks (src/channels/link/hooks.ts), as this channel uses them. */
interface LinkHooks {
  onAudioUtterance(handler: (u: { device: string; source: string; pcm: Int16Array; sampleRate: number }) => Promise<string | undefined>): () => void;
  onButton(handler: (b: { device: string; button: number; action: string; pushToTalk: boolean }) => void): () => void;
}

async function linkHooks(log: Logger): Promise<LinkHooks | undefined> {
  // Loaded by name: the speech channel works with or without the wearable link in the build.
  const spec = "../channels/link/hooks.js";
  try {
    const mod = (await import(spec)) as Partial<LinkHooks>;
    if (typeof mod.onAudioUtterance === "function" && typeof mod.onButton === "function") return mod as LinkHooks;
  } catch (err) {
    log.debug("voice: no wearable link hooks in this build", { error: String((err as Error)?.message ?? err) });
  }
  return undefined;
}

export interface VoiceHealth {
  enabled: boolean;
  reason?: string;
  model?: string;
  microphone?: "capturing" | "off" | "arecord missing";
  utterances: number;
}

export const speechChannel: ChannelFactory = {
  name: "voice",
  async start(ctx: ChannelContext) {
    const { log } = ctx;
    const voice = voiceConfig(ctx.config);
    if (voice.enabled === false) {
      log.info("voice off (voice.enabled: false): text only");
      return undefined;
    }
    let model: SpeechModel;
    try {
      model = await openSpeechModel(voice);
    } catch (err) {
      const reason = err instanceof VoiceUnavailable ? err.message : `voice could not start: ${(err as Error)?.message ?? err}`;
      const line = `voice unavailable, running text-only: ${reason} (needled doctor shows what to install)`;
      if (voice.enabled === true) log.error(line);
      else log.warn(line);
      return { close() {}, health: (): VoiceHealth => ({ enabled: false, reason, utterances: 0 }) };
    }
    return startVoice(ctx, voice, model);
  },
};

async function startVoice(ctx: ChannelContext, voice: VoiceConfig, model: SpeechModel) {
  const { log, core, events } = ctx;
  const tools = ctx.registry?.list() ?? [];
  const { wake, grammar } = speechSetup(voice, tools);
  const health: VoiceHealth = { enabled: true, model: model.description, microphone: "off", utterances: 0 };
  const cleanups: Array<() => void | Promise<void>> = [];

  const dispatch = async (u: HeardUtterance) => {
    health.utterances++;
    const answer = await core.say({ text: u.text, device: u.device, source: "voice" });
    log.info("voice: heard", {
      device: u.device,
      heard: u.raw,
      text: u.text,
      reply: answer.say,
      ok: answer.ok,
      ptt: u.byPtt || undefined,
      endToReplyMs: Math.round(performance.now() - u.endDecidedWall),
    });
    // The reply also goes out as an event: a speaker satellite or the wearable whose button opened the mic.
    events.emit("voice", u.device, { type: "voice_reply", say: answer.say, data: { heard: u.text, ok: answer.ok } });
  };

  // The microphone.
  let pipeline: SpeechPipeline | undefined;
  let capture: ArecordCapture | undefined;
  if (voice.microphone) {
    pipeline = new SpeechPipeline({
      model,
      inputRate: model.sampleRate,
      device: voice.device,
      activation: voice.activation,
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
      onUtterance: dispatch,
      onNote: (n) => log.debug("voice", { ...n }),
      onError: (err) => log.error("voice: recognition failed (continuing)", { error: String((err as Error)?.message ?? err) }),
    });
    const p = pipeline;
    capture = new ArecordCapture({
      device: voice.alsaDevice,
      sampleRate: model.sampleRate,
      args: voice.arecordArgs,
      log,
      onAudio: (pcm) => p.push(pcm),
    });
    capture.start();
    health.microphone = "capturing";
    cleanups.push(async () => {
      await capture!.stop();
      await p.end();
    });
  }

  // Wearables: whole recorded utterances, and push-to-talk buttons for the hub's microphone.
  const hooks = await linkHooks(log);
  if (hooks) {
    let recognizer: Recognizer | undefined;
    let queue: Promise<unknown> = Promise.resolve();
    const off = hooks.onAudioUtterance((u) => {
      const run = queue.then(async () => {
        recognizer ??= model.createRecognizer(grammar ? { grammar } : {});
        const t0 = performance.now();
        const r = await recognizeUtterance(recognizer, u.pcm, u.sampleRate, { wake, normalize: { numbers: voice.numbers } });
        health.utterances++;
        log.info("voice: heard from a wearable", { device: u.device, source: u.source, heard: r.raw, text: r.text, ms: Math.round(performance.now() - t0) });
        return r.text || undefined;
      });
      queue = run.catch(() => {});
      return run;
    });
    cleanups.push(() => {
      off();
      recognizer?.close();
    });
    if (pipeline && voice.pttDevices.length > 0) {
      const p = pipeline;
      const offButton = hooks.onButton((b) => {
        if (!b.pushToTalk || !voice.pttDevices.includes(b.device)) return;
        if (b.action === "down") p.pressTalk(b.device, true);
        else if (b.action === "up") p.releaseTalk();
        else if (b.action === "click") (p.listening ? p.releaseTalk() : p.pressTalk(b.device, false));
      });
      cleanups.push(offButton);
    }
  }

  log.info("voice ready", {
    model: model.description,
    microphone: voice.microphone ? voice.alsaDevice : "off",
    activation: voice.activation,
    wake: wake.list,
    grammar: grammar ? grammar.length : false,
    wearables: Boolean(hooks),
  });

  return {
    async close() {
      for (const c of cleanups.reverse()) {
        await Promise.resolve()
          .then(c)
          .catch((err) => log.warn("voice: close step failed", { error: String(err) }));
      }
      model.close();
    },
    health: (): VoiceHealth => ({ ...health, ...(capture?.missing ? { microphone: "arecord missing" as const } : {}) }),
  };
}
