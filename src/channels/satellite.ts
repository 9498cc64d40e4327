// MQTT satellites: the link protocol (devices/PROTOCOL.md) for Wi-Fi wearables, and the shared stream of
// commands for several daemons.
//   <base>/<device>/link/in     device -> hub: one or more link frames back to back (no SLIP: MQTT frames them)
//   <base>/<device>/link/out    hub -> device: one link frame per message
//   <base>/<device>/link/state  retained JSON the hub that got a hello publishes: {device, profile, ...};
//                               every daemon reads it, so any of them can answer the device
// With mqtt.share_group = G (an external broker, MQTT v5):
//   $share/G/<base>/+/say       each command goes to one daemon of the group (QoS 1); the reply goes to
//                               the MQTT v5 response topic when the command names one, else <base>/<device>/reply,
//                               with the command's `id` (or correlation data) echoed
//   $share/G/<base>/+/link/in   likewise for link frames: send an utterance's audio frames in ONE message
// This channel keeps its own MQTT connection: v5 for shared subscriptions, 3.1.1 otherwise (the embedded
// broker speaks only 3.1.1).
import mqtt, { type IClientPublishOptions, type IPublishPacket, type MqttClient } from "mqtt";
import type { ChannelContext, ChannelFactory } from "../daemon/daemon.js";
import { checkDevice, type Answer } from "../daemon/core.js";
import type { EventEnvelope } from "../daemon/events.js";
import { redact } from "../daemon/mqtt-client.js";
import { hostname } from "node:os";
import { splitFrames } from "./link/frame.js";
import { parsePayload } from "./mqtt.js";
import { LinkSession, LinkStats } from "./serial-session.js";
import { profilesFor } from "./serial.js";
import type { ProfileSet } from "./serial-profiles.js";

/** Command ids remembered per daemon to drop a broker's redelivery of a QoS 1 message. */
const SEEN_IDS = 4096;

export interface SatelliteOptions {
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

export function satelliteChannelFactory(options: SatelliteOptions = {}): ChannelFactory {
  return { name: "satellite", start: (ctx) => startSatelliteChannel(ctx, options) };
}

export const satelliteChannel: ChannelFactory = satelliteChannelFactory();

/** `{text, id?}` from a say payload: plain text, or JSON {"text": "...", "id": "..."}. */
export function parseCommand(payload: Buffer): { text: string; id?: string | number } | { error: string; id?: string | number } {
  const base = parsePayload(payload);
  let id: string | number | undefined;
  const raw = payload.toString("utf8").trim();
  if (raw.startsWith("{")) {
    try {
      const v = JSON.parse(raw) as { id?: unknown };
      if (typeof v.id === "string" || typeof v.id === "number") id = v.id;
    } catch {
      /* parsePayload said why */
    }
  }
  return { ...base, ...(id !== undefined ? { id } : {}) };
}

export async function startSatelliteChannel(ctx: ChannelContext, options: SatelliteOptions = {}) {
  if (!ctx.config.mqtt.enabled || !ctx.mqtt) return undefined;
  const { log, core } = ctx;
  const base = ctx.config.mqtt.baseTopic;
  const group = ctx.config.mqtt.shareGroup;
  const profiles: ProfileSet = profilesFor(ctx);
  const url = ctx.mqtt.url;
  const protocolVersion = group ? 5 : 4;
  const minBackoff = options.minBackoffMs ?? 500;
  const maxBackoff = options.maxBackoffMs ?? 30_000;
  let backoff = minBackoff;
  const hub = hostname() || "needled";
  /** This daemon among the group (two daemons may share a host name). */
  const hubId = `${hub}:${process.pid}:${Math.random().toString(16).slice(2, 8)}`;
  const stats = new LinkStats();
  const shared = { commands: 0, duplicates: 0, badInput: 0 };
  const sessions = new Map<string, LinkSession>();
  /** device -> profile name, from retained <base>/<device>/link/state. */
  const known = new Map<string, string>();
  const seenIds: Array<string> = [];
  const seenSet = new Set<string>();
  const inflight = new Set<Promise<void>>();
  let closing = false;
  let lastError: string | undefined;
  /** The broker granted every subscription since the last connect. */
  let subscribed = false;

  const client: MqttClient = mqtt.connect(url, {
    protocolVersion,
    clientId: `needled-sat-${process.pid}-${Math.random().toString(16).slice(2, 8)}`,
    clean: true,
    reconnectPeriod: minBackoff,
    connectTimeout: 5000,
    resubscribe: true,
  });
  const share = (filter: string) => (group ? `$share/${group}/${filter}` : filter);
  const filters: Record<string, { qos: 1 }> = {
    [share(`${base}/+/link/in`)]: { qos: 1 },
    [`${base}/+/link/state`]: { qos: 1 },
    ...(group ? { [share(`${base}/+/say`)]: { qos: 1 } } : {}),
  };
  client.on("connect", () => {
    backoff = minBackoff;
    client.options.reconnectPeriod = backoff;
    lastError = undefined;
    subscribed = false;
    client.subscribe(filters, (err, granted) => {
      if (err) log.error("satellite: subscribe failed", { error: err.message });
      const refused = (granted ?? []).filter((g) => g.qos >= 0x80).map((g) => g.topic);
      if (refused.length > 0) log.error("satellite: the broker refused subscriptions (shared subscriptions unsupported?)", { refused });
      subscribed = !err && refused.length === 0;
    });
    log.info("satellite: connected", { url: redact(url), protocolVersion, shareGroup: group ?? null });
  });
  client.on("close", () => {
    if (closing) return;
    client.options.reconnectPeriod = backoff;
    backoff = Math.min(backoff * 2, maxBackoff);
  });
  client.on("error", (err) => {
    const msg = err.message || String(err);
    if (msg !== lastError) log.warn("satellite: MQTT problem; retrying with backoff", { url: redact(url), error: msg });
    lastError = msg;
  });

  const publish = (topic: string, payload: Buffer | string, opts: IClientPublishOptions = {}) => {
    if (!client.connected) return;
    client.publish(topic, payload, { qos: 1, ...opts }, (err) => {
      if (err) log.warn("satellite: publish failed", { topic, error: err.message });
    });
  };

  const sessionFor = (device: string): LinkSession => {
    let s = sessions.get(device);
    if (!s) {
      const profile = known.get(device);
      s = new LinkSession({
        core,
        profiles,
        send: (frame) => publish(`${base}/${device}/link/out`, frame),
        log,
        stats,
        source: "mqtt",
        hub,
        device,
        ...(profile ? { profile } : {}),
        fixedDevice: true,
        onHello: (sess, hello) => {
          const state = {
            device,
            profile: sess.profile.name,
            capabilities: hello.capabilities,
            firmware: hello.firmware,
            protocol: hello.protocol,
            hub,
            hubId,
            at: new Date().toISOString(),
          };
          publish(`${base}/${device}/link/state`, JSON.stringify(state), { retain: true });
        },
      });
      sessions.set(device, s);
    }
    return s;
  };

  const deviceOf = (topic: string, suffix: string): string | undefined => {
    if (!topic.startsWith(`${base}/`) || !topic.endsWith(suffix)) return undefined;
    const device = topic.slice(base.length + 1, topic.length - suffix.length);
    return checkDevice(device) ? undefined : device;
  };

  const onSay = async (device: string, payload: Buffer, packet: IPublishPacket) => {
    const cmd = parseCommand(payload);
    const props = packet.properties;
    const id = cmd.id ?? (props?.correlationData ? props.correlationData.toString("utf8") : undefined);
    if (id !== undefined) {
      const key = `${device}\u0000${String(id)}`;
      if (seenSet.has(key)) {
        shared.duplicates++;
        log.info("satellite: dropped a repeated command", { device, id });
        return;
      }
      seenSet.add(key);
      seenIds.push(key);
      if (seenIds.length > SEEN_IDS) seenSet.delete(seenIds.shift()!);
    }
    shared.commands++;
    let answer: Answer;
    if ("error" in cmd) {
      shared.badInput++;
      answer = { ok: false, say: `Sorry: ${cmd.error}.`, error: { code: "BAD_INPUT", message: cmd.error }, ms: 0 };
    } else {
      answer = await core.say({ text: cmd.text, device, source: "mqtt" });
    }
    const body = JSON.stringify({ ...answer, ...(id !== undefined ? { id } : {}) });
    if (props?.responseTopic) {
      publish(props.responseTopic, body, props.correlationData ? { properties: { correlationData: props.correlationData } } : {});
    } else {
      publish(`${base}/${device}/reply`, body);
    }
  };

  const track = (p: Promise<void>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  client.on("message", (topic, payload, packet) => {
    if (closing) return;
    // A bug of ours must not break mqtt.js's packet loop (and with it every satellite).
    try {
      onMessage(topic, payload, packet);
    } catch (err) {
      log.error("satellite: handling a message failed", { topic, error: String((err as Error)?.stack ?? err) });
    }
  });

  const onMessage = (topic: string, payload: Buffer, packet: IPublishPacket) => {
    let device: string | undefined;
    if ((device = deviceOf(topic, "/link/in"))) {
      const s = sessionFor(device);
      for (const frame of splitFrames(payload)) s.receive(frame);
      return;
    }
    if ((device = deviceOf(topic, "/link/state"))) {
      try {
        const state = JSON.parse(payload.toString("utf8")) as { profile?: unknown; hubId?: unknown };
        const p = typeof state.profile === "string" ? profiles.get(state.profile) : undefined;
        if (p) {
          known.set(device, p.name);
          const s = sessions.get(device);
          if (s) s.profile = p;
          // Another daemon got the device's hello: it restarted, so forget its old seqs here too.
          if (s && state.hubId !== hubId) {
            log.debug("satellite: the device said hello to another daemon; forgetting its seqs", { device });
            s.reset();
          }
        }
      } catch {
        log.debug("satellite: unreadable link/state", { topic });
      }
      return;
    }
    if (group && (device = deviceOf(topic, "/say"))) {
      if (packet.retain) {
        log.warn("satellite: ignoring a retained say message", { topic });
        return;
      }
      track(
        onSay(device, payload, packet).catch((err) => log.error("satellite: say failed", { device, error: String(err) })),
      );
    }
  };

  const stopEvents = ctx.events.subscribe((e: EventEnvelope) => {
    if (e.device === undefined) {
      for (const s of sessions.values()) s.deliverEvent(e);
      return;
    }
    // A device that spoke to this hub, or one another hub told us about (timers persist across restarts).
    const s = sessions.get(e.device) ?? (known.has(e.device) ? sessionFor(e.device) : undefined);
    s?.deliverEvent(e);
  });

  log.info("satellite channel started", { url: redact(url), protocolVersion, shareGroup: group ?? null, topics: Object.keys(filters) });

  return {
    close: async () => {
      stopEvents();
      closing = true;
      await Promise.race([
        new Promise<void>((resolve) => client.unsubscribe(Object.keys(filters), () => resolve())),
        new Promise((r) => setTimeout(r, 2000)),
      ]);
      // Commands already taken are answered before the connection goes.
      await Promise.race([Promise.all([...inflight]), new Promise((r) => setTimeout(r, 5000))]);
      for (const s of sessions.values()) s.close();
      await client.endAsync(false).catch(() => {});
    },
    health: () => ({
      url: redact(url),
      protocolVersion,
      connected: client.connected,
      subscribed: client.connected && subscribed,
      ...(lastError ? { lastError } : {}),
      shareGroup: group ?? null,
      devices: [...sessions.values()].map((s) => s.status()),
      ...(group ? { shared } : {}),
      ...stats.json(),
    }),
  };
}
