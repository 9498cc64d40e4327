// MQTT for wearables and satellites:
//   in:  <base>/<device>/say     payload: the text, or JSON {"text": "..."}
//   out: <base>/<device>/reply   JSON Answer ({say, data, ok, ...}) for each say
//        <base>/<device>/event   JSON event for that device
//        <base>/events           every event, with its device
// Retained say messages are ignored (a command must not run again on every restart).
import type { Answer, Core } from "../daemon/core.js";
import { checkDevice } from "../daemon/core.js";
import type { EventBus, EventEnvelope } from "../daemon/events.js";
import type { SharedMqttClient } from "../daemon/mqtt-client.js";
import type { Logger } from "../plugins/api.js";

export interface MqttChannelOptions {
  client: SharedMqttClient;
  core: Core;
  events: EventBus;
  baseTopic: string;
  log: Logger;
  /** Subscribe to <base>/+/say (default true); false when mqtt.share_group hands `say` to the satellite channel. */
  say?: boolean;
}

export interface MqttChannel {
  /** Stops taking say messages and publishing events. */
  close(): Promise<void>;
}

export async function startMqttChannel(opts: MqttChannelOptions): Promise<MqttChannel> {
  const { client, core, log, baseTopic: base } = opts;
  const prefix = `${base}/`;

  const publish = (topic: string, body: object) =>
    client.publish(topic, body, { qos: 0 }).catch((err: Error) => log.warn("mqtt publish failed", { topic, error: err.message }));

  const onSay = async (topic: string, payload: Buffer, meta: { retain: boolean }) => {
    if (meta?.retain) {
      log.warn("mqtt: ignoring a retained say message", { topic });
      return;
    }
    const device = topic.slice(prefix.length, topic.length - "/say".length);
    const badDevice = checkDevice(device);
    if (badDevice) {
      log.warn("mqtt: say on a topic with an unusable device id", { topic, error: badDevice });
      return;
    }
    const replyTopic = `${base}/${device}/reply`;
    const parsed = parsePayload(payload);
    if ("error" in parsed) {
      log.warn("mqtt: bad say payload", { topic, error: parsed.error });
      const answer: Answer = { ok: false, say: `Sorry: ${parsed.error}.`, error: { code: "BAD_INPUT", message: parsed.error }, ms: 0 };
      await publish(replyTopic, answer);
      return;
    }
    const answer = await core.say({ text: parsed.text, device, source: "mqtt" });
    await publish(replyTopic, answer);
  };

  const unsubscribe =
    opts.say === false
      ? async () => {}
      : await client.subscribe(`${base}/+/say`, (topic, payload, meta) => {
          void onSay(topic, payload, meta);
        });

  const stopEvents = opts.events.subscribe((e: EventEnvelope) => {
    if (!client.connected) return;
    const body = { id: e.id, at: e.at, device: e.device, plugin: e.plugin, ...e.event };
    if (e.device !== undefined) void publish(`${base}/${e.device}/event`, body);
    void publish(`${base}/events`, body);
  });

  return {
    close: async () => {
      stopEvents();
      await unsubscribe();
    },
  };
}

/** Text, or JSON {"text": "..."}; anything else gets a clear reason. */
export function parsePayload(payload: Buffer): { text: string } | { error: string } {
  const raw = payload.toString("utf8").trim();
  if (raw === "") return { error: "empty message" };
  if (raw.startsWith("{")) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (err) {
      return { error: `invalid JSON: ${(err as Error).message}` };
    }
    const text = (v as { text?: unknown }).text;
    if (typeof text !== "string") return { error: 'JSON payload needs a string "text"' };
    return { text };
  }
  return { text: raw };
}
