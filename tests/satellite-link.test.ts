// The link protocol over MQTT with one daemon and its embedded broker (MQTT 3.1.1): device-sim as a
// Wi-Fi satellite, events as frames on link/out, garbage on link/in counted and survived, the JSON `say`
// topic still answered (no share group: the daemon's own MQTT channel handles it).
import mqtt from "mqtt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeMessage } from "../src/channels/link/messages.js";
import { removeDir, runCli, spawnDaemon, type DaemonProcess } from "./helpers/daemon.js";
import { freePort } from "./helpers/ports.js";
import { until } from "./helpers/wait.js";

describe("MQTT satellites on the embedded broker", () => {
  let d: DaemonProcess;
  let url: string;
  const sat = async () => (await d.http("GET", "/healthz")).json.channels.satellite;

  beforeAll(async () => {
    const port = await freePort();
    url = `mqtt://127.0.0.1:${port}`;
    d = await spawnDaemon({ config: { builtin_plugins: true, mqtt: { enabled: true, broker: { port } } } });
    await until(sat, (s) => s?.subscribed === true, 10_000, "satellite subscribed");
  }, 60_000);
  afterAll(async () => {
    await d?.stop();
    if (d) await removeDir(d.dir);
  });

  it("device-sim --mqtt: hello and text, the reply frame fitted to the glasses", async () => {
    const r = await runCli(["device-sim", "--mqtt", url, "--device", "glasses-7", "--profile", "glasses", "--text", "stop navigating"]);
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.stdout);
    const http = (await d.http("POST", "/v1/say", { text: "stop navigating", device: "other" })).json;
    expect(reply).toMatchObject({ type: "reply", replyTo: 1, ok: http.ok, text: http.say });
    expect(reply.lines.length).toBeGreaterThan(0);
    expect((await sat()).protocolVersion).toBe(4);
  });

  it("device-sim --mqtt --listen: a timer for the satellite arrives as an event frame on its link/out", async () => {
    const listen = runCli(["device-sim", "--mqtt", url, "--device", "band-3", "--listen", "--count", "1", "--timeout", "20"], { timeoutMs: 30_000 });
    await until(sat, (s) => s.devices.some((x: { device: string; helloAt?: string }) => x.device === "band-3" && x.helloAt), 10_000, "band-3 hello");
    const call = await d.http("POST", "/v1/call", { name: "set_timer", arguments: { duration: "1 second" }, device: "band-3" });
    expect(call.json.ok).toBe(true);
    const r = await listen;
    expect(r.code).toBe(0);
    const [event, haptic] = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(event).toMatchObject({ type: "event", name: "timer.fired", plugin: "timers" });
    expect(event.lines.join(" ")).toMatch(/timer is done/);
    expect(haptic).toMatchObject({ type: "haptic", pattern: "alarm" });
  });

  it("garbage on link/in is counted and dropped; the next good frame is answered", async () => {
    const before = await sat();
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    try {
      const got: Buffer[] = [];
      c.on("message", (_t, p) => got.push(p));
      await c.subscribeAsync("needled/junk-1/link/out", { qos: 1 });
      const good = encodeMessage({ type: "ping", nonce: 77 }, 3);
      const bad = Buffer.from(good);
      bad[7]! ^= 1;
      await c.publishAsync("needled/junk-1/link/in", Buffer.from("hello?"), { qos: 1 });
      await c.publishAsync("needled/junk-1/link/in", bad, { qos: 1 });
      await c.publishAsync("needled/junk-1/link/in", Buffer.concat([good, good.subarray(0, 7)]), { qos: 1 }); // a good frame + a torn one
      await c.publishAsync("needled/bad id/link/in", good, { qos: 1 }); // not a usable device id: ignored
      await until(() => got.length, (n) => n >= 1, 5000, "a pong");
      expect(got.map((b) => b.toString("hex"))).toEqual([encodeMessage({ type: "pong", nonce: 77 }, 0).toString("hex")]);
      const after = await until(sat, (s) => s.dropped.total - before.dropped.total >= 3, 5000, "3 dropped");
      expect(after.dropped.short - before.dropped.short).toBe(2);
      expect(after.dropped.crc - before.dropped.crc).toBe(1);
      expect((await d.http("GET", "/healthz")).status).toBe(200);
    } finally {
      await c.endAsync();
    }
  });

  it("the JSON say topic works alongside, echoing nothing it was not given", async () => {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
    try {
      await c.subscribeAsync("needled/plain-1/reply");
      const reply = new Promise<any>((resolve) => c.once("message", (_t, p) => resolve(JSON.parse(p.toString()))));
      await c.publishAsync("needled/plain-1/say", "stop navigating");
      expect(typeof (await reply).say).toBe("string");
    } finally {
      await c.endAsync();
    }
  });
});
