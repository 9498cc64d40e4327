// MQTT channel against a real mosquitto (random port) and the embedded aedes broker: say in, reply and
// events out, retained messages ignored, a broker that is down (the daemon runs on and reconnects).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { join } from "node:path";
import { createServer } from "node:net";
import mqtt, { type MqttClient } from "mqtt";
import { startMosquitto, type Mosquitto } from "./helpers/mosquitto.js";
import { startTestDaemon, type TestDaemon } from "./helpers/in-process.js";
import { scriptedEngine } from "./helpers/scripted-engine.js";
import { FIXTURE_PLUGINS } from "./helpers/daemon.js";
import { freePort } from "./helpers/ports.js";
import { ConfigError } from "../src/daemon/config.js";
import { topicMatches } from "../src/daemon/mqtt-client.js";

const engine = () =>
  scriptedEngine({
    "echo hello": { calls: [{ name: "fx_echo", arguments: { text: "hello" } }] },
    "notify me": { calls: [{ name: "fx_notify", arguments: { say: "tea" } }] },
  });

async function client(url: string): Promise<MqttClient & { inbox: Array<{ topic: string; text: string; retain: boolean }> }> {
  const c = (await mqtt.connectAsync(url, { reconnectPeriod: 0 })) as MqttClient & { inbox: Array<{ topic: string; text: string; retain: boolean }> };
  c.inbox = [];
  c.on("message", (topic, payload, packet) => c.inbox.push({ topic, text: payload.toString(), retain: packet.retain }));
  return c;
}

function waitMessage(c: { inbox: Array<{ topic: string; text: string }> }, topic: string, timeoutMs = 5000): Promise<any> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      const i = c.inbox.findIndex((m) => m.topic === topic);
      if (i >= 0) {
        const [m] = c.inbox.splice(i, 1);
        try {
          return resolve(JSON.parse(m!.text));
        } catch {
          return resolve(m!.text);
        }
      }
      if (Date.now() - t0 > timeoutMs) return reject(new Error(`no message on ${topic}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

async function waitUntil(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("MQTT channel with mosquitto", () => {
  let broker: Mosquitto;
  let t: TestDaemon;
  let c: Awaited<ReturnType<typeof client>>;
  beforeAll(async () => {
    broker = await startMosquitto();
    t = await startTestDaemon({
      config: { mqtt: { enabled: true, url: broker.url }, plugin_dirs: [join(FIXTURE_PLUGINS, "echo")] },
      engine: async () => engine(),
    });
    await waitUntil(() => t.daemon.health().mqtt.enabled && (t.daemon.health().mqtt as { connected: boolean }).connected);
    c = await client(broker.url);
    await c.subscribeAsync(["needled/+/reply", "needled/+/event", "needled/events", "fixture/#"]);
  });
  afterAll(async () => {
    await c?.endAsync();
    await t?.close();
    await broker?.dispose();
  });

  it("a text payload on needled/<device>/say gets a JSON reply on needled/<device>/reply", async () => {
    await c.publishAsync("needled/watch-1/say", "echo hello");
    const reply = await waitMessage(c, "needled/watch-1/reply");
    expect(reply).toMatchObject({ ok: true, say: "hello", data: { device: "watch-1", utterance: "echo hello" } });
  });

  it("a JSON payload {text} works too; bad payloads get an error reply", async () => {
    await c.publishAsync("needled/glasses/say", JSON.stringify({ text: "echo hello" }));
    expect(await waitMessage(c, "needled/glasses/reply")).toMatchObject({ ok: true, say: "hello" });
    await c.publishAsync("needled/glasses/say", "{not json");
    expect(await waitMessage(c, "needled/glasses/reply")).toMatchObject({ ok: false, error: { code: "BAD_INPUT" } });
    await c.publishAsync("needled/glasses/say", JSON.stringify({ words: "x" }));
    expect((await waitMessage(c, "needled/glasses/reply")).error.message).toMatch(/needs a string "text"/);
  });

  it("events go to needled/<device>/event and needled/events", async () => {
    await c.publishAsync("needled/watch-2/say", "notify me");
    const own = await waitMessage(c, "needled/watch-2/event");
    expect(own).toMatchObject({ type: "note", say: "tea", haptic: "tap", device: "watch-2", plugin: "fx-echo" });
    const all1 = await waitMessage(c, "needled/events");
    const all2 = await waitMessage(c, "needled/events");
    expect([all1.type, all2.type].sort()).toEqual(["broadcast", "note"]);
    expect(await waitMessage(c, "needled/watch-2/reply")).toMatchObject({ ok: true, say: "sent" });
  });

  it("plugins publish through the shared client", async () => {
    const r = await t.daemon.core.call("fx_publish", { topic: "fixture/out", payload: "hi there" }, "cli", "test");
    expect(r.ok).toBe(true);
    expect(await waitMessage(c, "fixture/out")).toBe("hi there");
  });

  it("a retained say is ignored when subscribing (it must not run again on every restart)", async () => {
    await c.publishAsync("other/watch-3/say", "echo hello", { retain: true });
    const t2 = await startTestDaemon({
      config: { mqtt: { enabled: true, url: broker.url, base_topic: "other" }, plugin_dirs: [join(FIXTURE_PLUGINS, "echo")] },
      engine: async () => engine(),
    });
    try {
      await t2.lines.waitFor((l) => l.includes("mqtt: ignoring a retained say message"), 5000);
      await c.subscribeAsync("other/+/reply");
      // A live message on the same topic is handled.
      await c.publishAsync("other/watch-3/say", "echo hello");
      expect(await waitMessage(c, "other/watch-3/reply")).toMatchObject({ ok: true });
      expect(c.inbox.filter((m) => m.topic === "other/watch-3/reply")).toEqual([]);
    } finally {
      await c.publishAsync("other/watch-3/say", "", { retain: true }); // clear it
      await t2.close();
    }
  });

  it("reconnects after the broker restarts and answers again", async () => {
    await broker.stop();
    await waitUntil(() => !(t.daemon.health().mqtt as { connected: boolean }).connected);
    expect(t.daemon.health().status).toBe("degraded");
    // Direct calls keep working while MQTT is down; a plugin publish fails clearly.
    expect((await t.daemon.core.call("fx_echo", { text: "up" }, "cli", "test")).ok).toBe(true);
    const pub = await t.daemon.core.call("fx_publish", { topic: "fixture/x", payload: "x" }, "cli", "test");
    expect(pub.say).toMatch(/MQTT not connected/);
    await broker.restart();
    await waitUntil(() => (t.daemon.health().mqtt as { connected: boolean }).connected, 15_000);
    const c2 = await client(broker.url);
    try {
      await c2.subscribeAsync("needled/+/reply");
      await c2.publishAsync("needled/watch-4/say", "echo hello");
      expect(await waitMessage(c2, "needled/watch-4/reply")).toMatchObject({ ok: true, say: "hello" });
    } finally {
      await c2.endAsync();
    }
    c = await client(broker.url);
    await c.subscribeAsync(["needled/+/reply", "needled/+/event", "needled/events", "fixture/#"]);
  });
});

describe("a broker that is down at start", () => {
  it("the daemon starts anyway, says so in logs and healthz, and connects when the broker comes up", async () => {
    const port = await freePort();
    const t = await startTestDaemon({
      config: { mqtt: { enabled: true, url: `mqtt://127.0.0.1:${port}` }, plugin_dirs: [join(FIXTURE_PLUGINS, "echo")] },
      engine: async () => engine(),
    });
    let broker: Mosquitto | undefined;
    try {
      await waitUntil(() => t.lines.json().some((l) => l.msg === "mqtt broker unreachable; will retry with backoff"));
      const h = t.daemon.health();
      expect(h.status).toBe("degraded");
      expect(h.mqtt).toMatchObject({ enabled: true, connected: false, url: `mqtt://127.0.0.1:${port}` });
      expect((h.mqtt as { lastError?: string }).lastError).toMatch(/ECONNREFUSED/);
      // HTTP-side work is unaffected.
      expect((await t.daemon.core.say({ text: "echo hello", device: "d", source: "test" })).ok).toBe(true);

      broker = await startMosquitto(port);
      await waitUntil(() => (t.daemon.health().mqtt as { connected: boolean }).connected, 20_000);
      const c = await client(broker.url);
      try {
        await c.subscribeAsync("needled/+/reply");
        await c.publishAsync("needled/late/say", "echo hello");
        expect(await waitMessage(c, "needled/late/reply")).toMatchObject({ ok: true });
      } finally {
        await c.endAsync();
      }
    } finally {
      await t.close();
      await broker?.dispose();
    }
  });
});

describe("embedded broker (aedes)", () => {
  it("runs when no mqtt.url is set; devices talk to it", async () => {
    const port = await freePort();
    const t = await startTestDaemon({
      config: { mqtt: { enabled: true, broker: { port }, base_topic: "home/hub" }, plugin_dirs: [join(FIXTURE_PLUGINS, "echo")] },
      engine: async () => engine(),
    });
    try {
      expect(t.daemon.health().mqtt).toMatchObject({ enabled: true, embeddedBroker: true, connected: true, url: `mqtt://127.0.0.1:${port}` });
      const c = await client(`mqtt://127.0.0.1:${port}`);
      try {
        await c.subscribeAsync("home/hub/#");
        await c.publishAsync("home/hub/watch/say", "echo hello");
        expect(await waitMessage(c, "home/hub/watch/reply")).toMatchObject({ ok: true, say: "hello" });
      } finally {
        await c.endAsync();
      }
    } finally {
      await t.close();
    }
    // Closed with the daemon: the port is free again.
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once("error", reject);
      probe.listen(port, "127.0.0.1", () => resolve());
    });
    probe.close();
  });

  it("a taken port is a clear config error naming the port and the key", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startTestDaemon({ config: { mqtt: { enabled: true, broker: { port } } } }).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(`config error: mqtt.broker.port: port ${port} on 127.0.0.1 is already in use`);
      expect(err.message).toContain("set mqtt.url to use that broker, or mqtt.broker.port to a free port");
    } finally {
      blocker.close();
    }
  });
});

describe("topic filters", () => {
  it("match like MQTT's", () => {
    expect(topicMatches("needled/+/say", "needled/w1/say")).toBe(true);
    expect(topicMatches("needled/+/say", "needled/w1/x/say")).toBe(false);
    expect(topicMatches("a/#", "a")).toBe(true);
    expect(topicMatches("a/#", "a/b/c")).toBe(true);
    expect(topicMatches("#", "$SYS/broker")).toBe(false);
    expect(topicMatches("a/b", "a/b/c")).toBe(false);
  });
});
