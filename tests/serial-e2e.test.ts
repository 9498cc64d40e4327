// The serial channel end to end with real parts: a `needled start` process whose config names one end of
// a socat PTY pair, `needled device-sim` processes (and a raw device) on the other end. Text goes through
// the daemon's normal engine (src/engine with models/default); when that model is not installed the
// daemon answers ENGINE_UNAVAILABLE, and these tests compare the reply frame with the daemon's own HTTP
// answer to the same text, so they hold either way (the engine-specific check runs when it loaded).
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import wavefile from "wavefile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fitText } from "../src/channels/link/fit.js";
import { encodeFrame } from "../src/channels/link/frame.js";
import { encodeMessage } from "../src/channels/link/messages.js";
import { slipEncode } from "../src/channels/link/slip.js";
import { removeDir, runCli, spawnDaemon, type DaemonProcess } from "./helpers/daemon.js";
import { until } from "./helpers/wait.js";
import { ptyPair, RawDevice, type PtyPair } from "./serial-helpers.js";

describe("serial channel, daemon process + device-sim on socat PTYs", () => {
  let pty: PtyPair;
  let d: DaemonProcess;
  let engineOk = false;
  const serial = async () => (await d.http("GET", "/healthz")).json.channels.serial;

  beforeAll(async () => {
    pty = await ptyPair();
    d = await spawnDaemon({
      config: {
        builtin_plugins: true,
        serial: { ports: [{ path: pty.a, device: "watch-1", profile: "watch" }], reconnect: { min_ms: 50, max_ms: 400 } },
      },
    });
    const h = (await d.http("GET", "/healthz")).json;
    engineOk = h.engine.ok === true;
    await until(serial, (s) => s?.ports?.[0]?.state === "open", 10_000, "serial port open");
  }, 60_000);

  afterAll(async () => {
    await d?.stop();
    await pty?.dispose();
    if (d) await removeDir(d.dir);
  });

  it("device-sim --text: hello, text, the reply frame as JSON; the same answer the daemon gives over HTTP", async () => {
    const r = await runCli(["device-sim", "--serial", pty.b, "--device", "watch-1", "--text", "stop navigating"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.stdout.trim());
    expect(reply).toMatchObject({ type: "reply", replyTo: 1, text: "" });
    const http = (await d.http("POST", "/v1/say", { text: "stop navigating", device: "watch-2" })).json;
    expect(reply.ok).toBe(http.ok);
    expect(reply.lines).toEqual(fitText(http.say, { lines: 4, columns: 16, ellipsis: "..." }).lines);
    expect(reply.kind).toBe(http.error?.code ?? http.calls[0].name);
    if (engineOk) expect(reply.kind).toBe("stop_navigation");
    else expect(reply.kind).toBe("ENGINE_UNAVAILABLE");
    const s = await serial();
    expect(s.ports[0]).toMatchObject({ device: "watch-1", profile: "watch", firmware: "needled-device-sim/1" });
    expect(s.replies).toBeGreaterThanOrEqual(1);
  });

  it("device-sim --listen: a timer set for the device fires as an event frame plus the profile's alarm haptic", async () => {
    const before = (await serial()).ports[0].helloAt;
    const listen = runCli(["device-sim", "--serial", pty.b, "--device", "watch-1", "--listen", "--count", "1", "--timeout", "20"], { timeoutMs: 30_000 });
    await until(serial, (s) => s.ports[0].helloAt !== before, 10_000, "the listener's hello");
    const call = await d.http("POST", "/v1/call", { name: "set_timer", arguments: { duration: "1 second", name: "tea" }, device: "watch-1" });
    expect(call.json.ok).toBe(true);
    const r = await listen;
    expect(r.code).toBe(0);
    const frames = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(frames[0]).toMatchObject({ type: "event", name: "timer.fired", plugin: "timers", lines: ["Your tea timer", "is done."] });
    expect(frames[1]).toEqual({ seq: frames[0].seq + 1, type: "haptic", pattern: "alarm", intensity: 200, steps: [[400, 200], [400, 200], [400, 200], [800, 0]] });
  });

  it("unplug (socat killed) and replug on the same paths: the channel reopens with backoff and answers again", async () => {
    await pty.unplug();
    const lost = await until(serial, (s) => s.ports[0].state === "waiting", 10_000, "port lost");
    expect(lost.ports[0].lastError).toBeTruthy();
    await new Promise((r) => setTimeout(r, 600)); // a few failed reopen attempts
    await pty.plug();
    const back = await until(serial, (s) => s.ports[0].state === "open", 10_000, "port reopened");
    expect(back.ports[0].reconnects).toBeGreaterThanOrEqual(1);
    const r = await runCli(["device-sim", "--serial", pty.b, "--device", "watch-1", "--text", "stop navigating"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).type).toBe("reply");
    const logs = d.logs().map((l) => l.msg);
    expect(logs).toContain("serial port lost; reopening with backoff");
    expect(logs).toContain("serial port reopened");
  });

  it("fuzz: garbage, truncated frames, bad CRCs, huge lengths and unknown types between good frames", async () => {
    const dev = await RawDevice.open(pty.b);
    try {
      const before = await serial();
      let rnd = 12345;
      const rand = (n: number) => ((rnd = (rnd * 1103515245 + 12345) & 0x7fffffff), rnd % n);
      const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => rand(256)));
      const N = 60;
      for (let i = 0; i < N; i++) {
        const good = encodeMessage({ type: "ping", nonce: 1000 + i }, i);
        const badCrc = Buffer.from(good);
        badCrc[8]! ^= 0x40;
        const huge = Buffer.from(good);
        huge.writeUInt16LE(0xfff0, 4);
        const mess = [
          junk(rand(300)), // random bytes (may hold END bytes: then they are frames of garbage)
          slipEncode(good.subarray(0, rand(good.length))), // truncated
          slipEncode(badCrc),
          slipEncode(huge),
          i % 10 === 0 ? Buffer.concat([Buffer.from([0xc0]), Buffer.alloc(5000 + rand(5000), 0x55)]) : Buffer.alloc(0), // never ends
          i % 15 === 0 ? slipEncode(encodeFrame(0x7e, 5000 + i)) : Buffer.alloc(0), // unknown type, CRC fine
          i % 20 === 0 ? slipEncode(encodeFrame(0x21, 6000 + i, Buffer.alloc(4), 9)) : Buffer.alloc(0), // version 9
        ];
        await dev.write(Buffer.concat([...mess, slipEncode(good)]));
      }
      const pongs = await until(
        () => dev.frames.filter((f) => f.msg.type === "pong").map((f) => (f.msg as { nonce: number }).nonce),
        (n) => n.length >= N,
        15_000,
        "a pong for every good ping",
      );
      expect([...pongs].sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => 1000 + i));
      const errors = dev.frames.filter((f) => f.msg.type === "error").map((f) => f.msg as { code: string; refSeq: number });
      expect(errors).toContainEqual({ type: "error", refSeq: 5000, code: "UNKNOWN_TYPE", message: "unknown message type 0x7e" });
      expect(errors.some((e) => e.code === "UNSUPPORTED_VERSION" && e.refSeq === 6000)).toBe(true);
      const after = await serial();
      const delta = (k: string) => after.dropped[k] - before.dropped[k];
      expect(delta("crc")).toBeGreaterThanOrEqual(N);
      expect(delta("length")).toBeGreaterThanOrEqual(N); // the huge length fields at least
      expect(delta("oversize")).toBeGreaterThanOrEqual(N / 10);
      expect(delta("type")).toBe(N / 15);
      expect(delta("version")).toBe(N / 20);
      // Still alive, still answering.
      expect((await d.http("GET", "/healthz")).status).toBe(200);
      const seq = await dev.send({ type: "text", text: "stop navigating" });
      const reply = await dev.waitFor((f) => f.msg.type === "reply" && f.msg.replyTo === seq);
      expect(reply.msg.type).toBe("reply");
      expect(d.logs().some((l) => l.msg === "link: dropped a damaged frame" && l.problem === "crc")).toBe(true);
    } finally {
      await dev.close();
    }
  });

  it("a retransmitted text (same seq) runs once: ack and reply are sent again", async () => {
    const dev = await RawDevice.open(pty.b);
    try {
      await dev.send({ type: "hello", protocol: 1, device: "watch-1", profile: "", capabilities: ["screen"], firmware: "raw" });
      await dev.waitFor((f) => f.msg.type === "welcome");
      const before = await serial();
      await dev.send({ type: "text", text: "stop navigating" }, 500);
      await dev.waitFor((f) => f.msg.type === "reply" && f.msg.replyTo === 500);
      await dev.send({ type: "text", text: "stop navigating" }, 500);
      await until(() => dev.frames.filter((f) => f.msg.type === "reply" && f.msg.replyTo === 500).length, (n) => n === 2, 5000, "the reply sent again");
      const replies = dev.frames.filter((f) => f.msg.type === "reply" && f.msg.replyTo === 500);
      expect(replies[1]).toEqual(replies[0]);
      expect(dev.frames.filter((f) => f.msg.type === "ack" && f.msg.ackSeq === 500)).toHaveLength(2);
      const after = await serial();
      expect(after.commands - before.commands).toBe(1);
      expect(after.duplicates - before.duplicates).toBe(1);
    } finally {
      await dev.close();
    }
  });

  it("a hello with an unusable id gets an error frame and changes nothing", async () => {
    const dev = await RawDevice.open(pty.b);
    try {
      const seq = await dev.send({ type: "hello", protocol: 1, device: "bad/id+", profile: "watch", capabilities: [], firmware: "" });
      const err = await dev.waitFor((f) => f.msg.type === "error" && f.msg.refSeq === seq);
      expect(err.msg).toMatchObject({ code: "BAD_DEVICE" });
      expect((await serial()).ports[0].device).toBe("watch-1");
      // An unknown profile name: welcomed with the configured profile.
      await dev.send({ type: "hello", protocol: 1, device: "watch-1", profile: "toaster", capabilities: [], firmware: "" });
      const w = await dev.waitFor((f) => f.msg.type === "welcome");
      expect(w.msg).toMatchObject({ profile: "watch", lines: 4, columns: 16 });
    } finally {
      await dev.close();
    }
  });

  it("device-sim --wav: the audio frames arrive whole; this daemon has no speech model, so it says NO_SPEECH", async () => {
    const w = new wavefile.WaveFile();
    w.fromScratch(1, 22050, "16", Array.from({ length: 22050 }, (_, i) => Math.round(9000 * Math.sin(i / 5))));
    const file = join(pty.dir, "cmd.wav");
    await writeFile(file, w.toBuffer());
    const before = await serial();
    const r = await runCli(["device-sim", "--serial", pty.b, "--device", "watch-1", "--wav", file]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: "error", code: "NO_SPEECH" });
    const after = await serial();
    // hello + audio_start + 50 chunks of 20 ms (1 s resampled to 16 kHz) + audio_end, none damaged
    expect(after.framesIn - before.framesIn).toBe(53);
    expect(after.dropped.total).toBe(before.dropped.total);
    expect(after.errorsSent - before.errorsSent).toBe(1);
    expect(d.logs().some((l) => /voice unavailable|voice off/.test(String(l.msg)))).toBe(true);
  });

  it("device-sim reports a missing port clearly", async () => {
    const r = await runCli(["device-sim", "--serial", `${pty.dir}/nope`, "--text", "hi"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot open .*nope/);
  });
});
