// Several daemons, one stream of commands: two `needled start` processes on one real mosquitto with
// mqtt.share_group. 200 commands are each answered exactly once (counted by command id), replies reach
// the device that asked (or the MQTT v5 response topic), and link frames from a satellite are answered
// with its profile by whichever daemon gets them.
import mqtt, { type MqttClient } from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadProfiles } from "../src/channels/serial-profiles.js";
import { SimDevice } from "../src/cli/device-sim.js";
import { removeDir, runCli, spawnDaemon, type DaemonProcess } from "./helpers/daemon.js";
import { startMosquitto, type Mosquitto } from "./helpers/mosquitto.js";
import { until } from "./helpers/wait.js";

describe("two daemons sharing commands through MQTT v5 shared subscriptions", () => {
  let broker: Mosquitto;
  const hubs: DaemonProcess[] = [];
  let client: MqttClient;
  const sat = async (d: DaemonProcess) => (await d.http("GET", "/healthz")).json.channels.satellite;

  beforeAll(async () => {
    broker = await startMosquitto();
    for (let i = 0; i < 2; i++) {
      hubs.push(
        await spawnDaemon({
          config: { builtin_plugins: true, mqtt: { enabled: true, url: broker.url, share_group: "hubs" }, log: { level: "info" } },
        }),
      );
    }
    for (const d of hubs) await until(() => sat(d), (s) => s?.subscribed === true, 10_000, "satellite subscribed");
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  }, 60_000);

  afterAll(async () => {
    await client?.endAsync();
    for (const d of hubs) {
      await d.stop();
      await removeDir(d.dir);
    }
    await broker?.dispose();
  });

  it("200 commands: every one answered exactly once, on the asking device's reply topic, by either daemon", async () => {
    const before = await Promise.all(hubs.map(sat));
    const replies = new Map<string, Array<{ topic: string; body: any }>>();
    client.on("message", (topic, payload) => {
      if (!/^needled\/[^/]+\/reply$/.test(topic)) return;
      const body = JSON.parse(payload.toString());
      const list = replies.get(body.id) ?? [];
      list.push({ topic, body });
      replies.set(body.id, list);
    });
    await client.subscribeAsync("needled/+/reply", { qos: 1 });
    const N = 200;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        client.publishAsync(`needled/band-${i % 7}/say`, JSON.stringify({ id: `cmd-${i}`, text: "stop navigating" }), { qos: 1 }),
      ),
    );
    await until(() => replies.size, (n) => n === N, 60_000, "200 answered commands");
    await new Promise((r) => setTimeout(r, 500)); // room for a duplicate to show up
    for (let i = 0; i < N; i++) {
      const got = replies.get(`cmd-${i}`);
      expect(got, `cmd-${i}`).toHaveLength(1);
      expect(got![0]!.topic).toBe(`needled/band-${i % 7}/reply`);
      expect(typeof got![0]!.body.say).toBe("string");
    }
    const after = await Promise.all(hubs.map(sat));
    const handled = after.map((s, i) => s.shared.commands - before[i].shared.commands);
    expect(handled[0]! + handled[1]!).toBe(N);
    expect(handled[0]).toBeGreaterThan(0);
    expect(handled[1]).toBeGreaterThan(0);
  }, 90_000);

  it("an MQTT v5 response topic gets the answer, with the correlation data echoed", async () => {
    const got: Array<{ topic: string; corr?: string; body: any }> = [];
    client.on("message", (topic, payload, packet) => {
      if (topic.startsWith("client-7/answers")) {
        got.push({ topic, corr: packet.properties?.correlationData?.toString(), body: JSON.parse(payload.toString()) });
      }
    });
    await client.subscribeAsync("client-7/answers", { qos: 1 });
    for (let i = 0; i < 6; i++) {
      await client.publishAsync("needled/phone-7/say", "stop navigating", {
        qos: 1,
        properties: { responseTopic: "client-7/answers", correlationData: Buffer.from(`corr-${i}`) },
      });
    }
    await until(() => got.length, (n) => n >= 6, 20_000, "6 answers on the response topic");
    expect(got.map((g) => g.corr).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `corr-${i}`));
    expect(got.map((g) => g.body.id).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `corr-${i}`));
  });

  it("a redelivered command id is dropped by the daemon that saw it", async () => {
    const seen: any[] = [];
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
    c.on("message", (_topic, payload) => seen.push(JSON.parse(payload.toString())));
    await c.subscribeAsync("needled/dup-1/reply", { qos: 1 });
    const before = (await Promise.all(hubs.map(sat))).reduce((a, s) => a + s.shared.duplicates, 0);
    // Round robin hands consecutive messages to alternating daemons: four copies reach each daemon twice.
    for (let i = 0; i < 4; i++) await c.publishAsync("needled/dup-1/say", JSON.stringify({ id: "same", text: "stop navigating" }), { qos: 1 });
    await until(() => seen.length, (n) => n >= 1, 10_000, "an answer");
    await new Promise((r) => setTimeout(r, 800));
    const dups = (await Promise.all(hubs.map(sat))).reduce((a, s) => a + s.shared.duplicates, 0) - before;
    await c.endAsync();
    expect(seen.length + dups).toBe(4);
    expect(seen.length).toBeLessThanOrEqual(2); // at most once per daemon
    expect(seen.every((a) => a.id === "same")).toBe(true);
  });

  it("link frames: a glasses satellite says hello to one daemon; every daemon answers it with its profile", async () => {
    const r = await runCli(["device-sim", "--mqtt", broker.url, "--device", "glasses-1", "--profile", "glasses", "--text", "stop navigating"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.stdout);
    expect(reply).toMatchObject({ type: "reply", replyTo: 1 });
    expect(reply.text.length).toBeGreaterThan(0); // glasses want the full text

    const state = await new Promise<any>((resolve) => {
      const c = mqtt.connect(broker.url, { reconnectPeriod: 0 });
      c.on("message", (_t, p, packet) => {
        c.end();
        resolve({ retain: packet.retain, ...JSON.parse(p.toString()) });
      });
      c.subscribe("needled/glasses-1/link/state");
    });
    expect(state).toMatchObject({ retain: true, device: "glasses-1", profile: "glasses", firmware: "needled-device-sim/1" });

    const before = await Promise.all(hubs.map(sat));
    const sim = await SimDevice.mqtt(broker.url, "needled", "glasses-1", loadProfiles().get("glasses")!);
    try {
      // A restarted device says hello first (its seqs start again at 0); one daemon answers, all learn of it.
      expect((await sim.hello(5000)).msg).toMatchObject({ type: "welcome", profile: "glasses" });
      for (let i = 0; i < 10; i++) {
        const f = await sim.text("stop navigating", 10_000);
        expect(f.msg.type).toBe("reply");
        const m = f.msg as { text: string; lines: string[] };
        expect(m.text.length).toBeGreaterThan(0);
        expect(m.lines.length).toBeLessThanOrEqual(3);
        for (const l of m.lines) expect([...l].length).toBeLessThanOrEqual(28);
      }
    } finally {
      await sim.close();
    }
    const after = await Promise.all(hubs.map(sat));
    const handled = after.map((s, i) => s.commands - before[i].commands);
    expect(handled[0]! + handled[1]!).toBe(10);
    expect(Math.min(...handled)).toBeGreaterThan(0);
  });

  it("share_group without an external broker is a config error", async () => {
    const d = await spawnDaemon({ config: { mqtt: { enabled: true, share_group: "hubs" } }, waitReady: false });
    const exit = await d.exited;
    expect(exit.code).toBe(2);
    expect(d.err.text()).toContain("mqtt.share_group: needs mqtt.url");
    await removeDir(d.dir);
  });
});
