// The serial channel inside a real Daemon in this process (the daemon's normal engine, real PTYs):
// autodetection by USB ids, the audio path to the speech hook, buttons, the hub-speaker profile, the
// doctor check. The only stand-ins, named as such: a made-up sysfs tree (no USB device can be plugged in
// here) and a TEST DOUBLE speech recogniser registered through the real hook (src/speech owns the real one).
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { onAudioUtterance, onButton, type AudioUtterance, type ButtonPress } from "../src/channels/link/hooks.js";
import { serialChannelFactory } from "../src/channels/serial.js";
import { checks as serialChecks } from "../src/cli/checks/serial.js";
import { SimDevice } from "../src/cli/device-sim.js";
import { loadProfiles } from "../src/channels/serial-profiles.js";
import { listSerialPorts } from "../src/channels/serial-port.js";
import { parseConfig } from "../src/daemon/config.js";
import { Daemon } from "../src/daemon/daemon.js";
import { createLogger } from "../src/daemon/log.js";
import { LineCollector } from "./helpers/lines.js";
import { until } from "./helpers/wait.js";
import { ptyPair, RawDevice, type PtyPair } from "./serial-helpers.js";

async function startDaemon(dir: string, serial: Record<string, unknown>, list?: { sysRoot: string; devRoot: string }) {
  const config = parseConfig(
    stringify({ http: { enabled: false }, mqtt: { enabled: false }, builtin_plugins: true, stdin: false, state_dir: join(dir, "state"), serial }),
    { env: {} },
  );
  const lines = new LineCollector();
  const daemon = await Daemon.start({
    config,
    log: createLogger({ level: "debug", destination: lines }),
    channels: [serialChannelFactory(list ? { list } : {})],
  });
  const serialHealth = () => (daemon.health().channels as { serial: any }).serial;
  return { daemon, lines, serialHealth };
}

const profiles = loadProfiles();

describe("audio, buttons and profiles over a serial port", () => {
  let pty: PtyPair;
  let dir: string;
  let h: Awaited<ReturnType<typeof startDaemon>>;
  let sim: SimDevice;
  const offs: Array<() => void> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "needled-serial-inproc-"));
    pty = await ptyPair();
    h = await startDaemon(dir, { ports: [{ path: pty.a, device: "watch-1" }] });
    await until(h.serialHealth, (s) => s.ports[0].state === "open");
    sim = await SimDevice.serial(pty.b, 115200, "watch-1", profiles.get("watch")!);
    expect((await sim.hello(5000)).msg).toMatchObject({ type: "welcome", profile: "watch" });
  });
  afterEach(() => {
    for (const off of offs.splice(0)) off();
  });
  afterAll(async () => {
    await sim?.close();
    await h?.daemon.stop();
    await pty?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  const tone = (n: number) => Int16Array.from({ length: n }, (_, i) => Math.round(12_000 * Math.sin(i / 7)) - (i % 3));

  it("an utterance reaches the speech hook sample for sample; the recognised text is answered to the audio_end", async () => {
    const heard: AudioUtterance[] = [];
    // TEST DOUBLE recogniser: records the PCM, "recognises" a fixed sentence.
    offs.push(onAudioUtterance((u) => (heard.push(u), "stop navigating")));
    const pcm = tone(16_000 + 123); // 1 s and a bit: 51 chunks of 20 ms, the last one short
    const reply = await sim.audio(pcm, 10_000);
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ device: "watch-1", source: "serial", sampleRate: 16_000 });
    expect(Array.from(heard[0]!.pcm)).toEqual(Array.from(pcm));
    const direct = await h.daemon.core.say({ text: "stop navigating", device: "watch-1", source: "test" });
    expect(reply.msg).toMatchObject({ type: "reply", ok: direct.ok, kind: direct.error?.code ?? direct.calls?.[0]?.name });
    expect(h.serialHealth().utterances).toBe(1);
  });

  it("no recogniser installed: error NO_SPEECH; nothing recognised: a reply that says so", async () => {
    const r = await sim.audio(tone(3200), 5000, 2);
    expect(r.msg).toMatchObject({ type: "error", code: "NO_SPEECH" });
    offs.push(onAudioUtterance(() => ""));
    const r2 = await sim.audio(tone(3200), 5000, 3);
    expect(r2.msg).toMatchObject({ type: "reply", ok: false, lines: ["Sorry, I didn't", "catch that."] });
  });

  it("lost chunks, a wrong format, odd bytes and a cancel are refused clearly", async () => {
    offs.push(onAudioUtterance(() => "stop navigating"));
    const dev = sim;
    // chunk 1 of 3 never arrives
    await dev.send({ type: "audio_start", stream: 9, sampleRate: 16_000, format: "s16le", channels: 1 });
    await dev.send({ type: "audio_chunk", stream: 9, index: 0, pcm: Buffer.alloc(640) });
    await dev.send({ type: "audio_chunk", stream: 9, index: 2, pcm: Buffer.alloc(640) });
    const since = dev.received.length;
    const end = await dev.send({ type: "audio_end", stream: 9, chunks: 3, cancelled: false });
    const lost = await dev.waitFor((f) => f.msg.type === "error" && f.msg.refSeq === end, 5000, "error", since);
    expect(lost.msg).toMatchObject({ code: "AUDIO", message: "1 audio chunk(s) of 3 were lost; say it again" });

    const start = await dev.send({ type: "audio_start", stream: 10, sampleRate: 44_100, format: "s16le", channels: 2 });
    const fmt = await dev.waitFor((f) => f.msg.type === "error" && f.msg.refSeq === start, 5000, "error");
    expect(fmt.msg).toMatchObject({ code: "AUDIO" });

    await dev.send({ type: "audio_start", stream: 11, sampleRate: 16_000, format: "s16le", channels: 1 });
    const odd = await dev.send({ type: "audio_chunk", stream: 11, index: 0, pcm: Buffer.alloc(3) });
    expect((await dev.waitFor((f) => f.msg.type === "error" && f.msg.refSeq === odd, 5000, "error")).msg).toMatchObject({ code: "BAD_PAYLOAD" });

    await dev.send({ type: "audio_start", stream: 12, sampleRate: 16_000, format: "s16le", channels: 1 });
    await dev.send({ type: "audio_chunk", stream: 12, index: 0, pcm: Buffer.alloc(640) });
    const cancel = await dev.send({ type: "audio_end", stream: 12, chunks: 1, cancelled: true });
    expect((await dev.waitFor((f) => f.msg.type === "ack" && f.msg.ackSeq === cancel, 5000, "ack")).msg.type).toBe("ack");
  });

  it("buttons are acked and reach onButton, push-to-talk marked from the profile", async () => {
    const presses: ButtonPress[] = [];
    offs.push(onButton((b) => presses.push(b)));
    const s0 = await sim.send({ type: "button", button: 0, action: "down" });
    const s1 = await sim.send({ type: "button", button: 3, action: "double" });
    await sim.waitFor((f) => f.msg.type === "ack" && f.msg.ackSeq === s1, 5000, "ack");
    expect(sim.received.some((f) => f.msg.type === "ack" && f.msg.ackSeq === s0)).toBe(true);
    expect(presses).toEqual([
      { device: "watch-1", source: "serial", button: 0, action: "down", pushToTalk: true },
      { device: "watch-1", source: "serial", button: 3, action: "double", pushToTalk: false },
    ]);
  });

  it("a hub speaker (no screen) gets the whole text and no lines; events reach only the device they are for", async () => {
    await sim.close(); // one device on the port at a time (the port is locked)
    const speaker = await SimDevice.serial(pty.b, 115200, "kitchen-speaker", profiles.get("hub-speaker")!);
    try {
      const w = await speaker.hello(5000);
      expect(w.msg).toMatchObject({ profile: "hub-speaker", lines: 0, columns: 0 });
      const r = await speaker.text("stop navigating", 10_000);
      expect(r.msg).toMatchObject({ type: "reply", lines: [] });
      expect((r.msg as { text: string }).text.length).toBeGreaterThan(0);
      const since = speaker.received.length;
      h.daemon.events.emit("test", "someone-else", { type: "x.other", say: "not for you" });
      h.daemon.events.emit("test", "kitchen-speaker", { type: "x.mine", say: "Dinner is ready.", haptic: "alarm" });
      h.daemon.events.emit("test", undefined, { type: "x.everyone", say: "Hello all." });
      await speaker.waitFor((f) => f.msg.type === "event" && f.msg.name === "x.everyone", 5000, "broadcast event", since);
      const got = speaker.received.slice(since).map((f) => f.msg);
      expect(got.filter((m) => m.type === "event").map((m) => (m as { name: string }).name)).toEqual(["x.mine", "x.everyone"]);
      expect(got.find((m) => m.type === "event")).toMatchObject({ text: "Dinner is ready.", lines: [] });
      expect(got.some((m) => m.type === "haptic")).toBe(false); // no motor in a speaker
    } finally {
      await speaker.close();
    }
  });
});

describe("autodetection by USB vendor/product id", () => {
  let pty: PtyPair;
  let dir: string;
  let sys: string;
  let dev: string;

  const plugUsb = async () => {
    const usb = join(sys, "devices", "pci0000:00", "usb1", "1-1");
    await mkdir(join(usb, "1-1:1.0"), { recursive: true });
    await writeFile(join(usb, "idVendor"), "2e8a\n");
    await writeFile(join(usb, "idProduct"), "000a\n");
    await writeFile(join(usb, "manufacturer"), "Test Watches\n");
    await mkdir(join(sys, "class", "tty", "ttyACM7"), { recursive: true });
    await symlink(join(usb, "1-1:1.0"), join(sys, "class", "tty", "ttyACM7", "device"));
    await symlink(pty.a, join(dev, "ttyACM7"));
  };
  const unplugUsb = async () => {
    await rm(join(sys, "class", "tty", "ttyACM7"), { recursive: true, force: true });
    await rm(join(dev, "ttyACM7"), { force: true });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "needled-autodetect-"));
    sys = join(dir, "sys");
    dev = join(dir, "dev");
    pty = await ptyPair();
    await mkdir(dev, { recursive: true });
    // A port that is not a wearable: another USB id.
    const other = join(sys, "devices", "pci0000:00", "usb2", "2-1");
    await mkdir(join(other, "2-1:1.0"), { recursive: true });
    await writeFile(join(other, "idVendor"), "1a86\n");
    await writeFile(join(other, "idProduct"), "7523\n");
    await mkdir(join(sys, "class", "tty", "ttyUSB0"), { recursive: true });
    await symlink(join(other, "2-1:1.0"), join(sys, "class", "tty", "ttyUSB0", "device"));
    await plugUsb();
  });
  afterAll(async () => {
    await pty?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("lists ports with their USB ids from sysfs", async () => {
    const ports = await listSerialPorts({ sysRoot: sys, devRoot: dev });
    expect(ports).toEqual([
      { path: join(dev, "ttyACM7"), vendorId: "2e8a", productId: "000a", manufacturer: "Test Watches" },
      { path: join(dev, "ttyUSB0"), vendorId: "1a86", productId: "7523" },
    ]);
    // This machine's own ports list without throwing (there may be none).
    expect(Array.isArray(await listSerialPorts())).toBe(true);
  });

  it("opens a matching port, answers on it, forgets it when unplugged and finds it again", async () => {
    const h = await startDaemon(
      dir,
      { autodetect: [{ vendor_id: "2E8A", product_id: "0x000a", profile: "glasses" }], scan_interval_ms: 100 },
      { sysRoot: sys, devRoot: dev },
    );
    try {
      const s = await until(h.serialHealth, (x) => x.ports.length === 1 && x.ports[0].state === "open", 5000, "autodetected port open");
      expect(s.ports[0]).toMatchObject({ path: join(dev, "ttyACM7"), autodetected: true, profile: "glasses", baudRate: 921600 });
      expect(s.autodetect).toEqual(["2e8a:000a"]);
      const sim = await SimDevice.serial(pty.b, 921600, "glasses-1", profiles.get("glasses")!);
      try {
        expect((await sim.hello(5000)).msg).toMatchObject({ profile: "glasses", lines: 3, columns: 28 });
        const r = await sim.text("stop navigating", 10_000);
        expect(r.msg.type).toBe("reply");
      } finally {
        await sim.close();
      }
      await pty.unplug();
      await unplugUsb();
      await until(h.serialHealth, (x) => x.ports.length === 0, 5000, "port forgotten");
      await pty.plug();
      await plugUsb();
      await until(h.serialHealth, (x) => x.ports.length === 1 && x.ports[0].state === "open", 5000, "port found again");
      // Gone from the USB listing while the device node still works (the read side says nothing): forgotten too.
      await unplugUsb();
      await until(h.serialHealth, (x) => x.ports.length === 0, 5000, "port forgotten after leaving the listing");
      await plugUsb();
      await until(h.serialHealth, (x) => x.ports.length === 1 && x.ports[0].state === "open", 5000, "port found a third time");
    } finally {
      await h.daemon.stop();
    }
  });

  it("doctor: lists this machine's ports, says which configured ones are missing", async () => {
    const config = parseConfig(stringify({ serial: { ports: [{ path: pty.a }, { path: join(dir, "no-such-port") }] }, state_dir: join(dir, "s2") }), { env: {} });
    const r = await serialChecks[0]!.run({ config });
    expect(r.status).toBe("warn");
    expect(r.detail).toContain(`${pty.a} present`);
    expect(r.detail).toContain(`${join(dir, "no-such-port")} MISSING`);
    expect(r.detail).toContain("profiles: glasses, hub-speaker, watch");
    const none = await serialChecks[0]!.run({ config: parseConfig("", { env: {} }) });
    expect(none.status).toBe("skip");
  });
});

describe("commands in flight per device", () => {
  it("a fifth command while four are being answered gets BUSY; the four are answered", async () => {
    const dir = await mkdtemp(join(tmpdir(), "needled-serial-busy-"));
    const pty = await ptyPair();
    // TEST DOUBLE engine: a slow one, so that commands pile up (the real model answers in milliseconds).
    const slowEngine = async () => ({
      predict: async () => {
        await new Promise((r) => setTimeout(r, 400));
        return { calls: [], confidence: 0.5, ms: 400 };
      },
      close: async () => {},
    });
    const config = parseConfig(
      stringify({ http: { enabled: false }, mqtt: { enabled: false }, builtin_plugins: false, stdin: false, state_dir: join(dir, "state"), serial: { ports: [{ path: pty.a }] } }),
      { env: {} },
    );
    const daemon = await Daemon.start({ config, log: createLogger({ level: "silent" }), channels: [serialChannelFactory()], engineFactory: slowEngine });
    const dev = await RawDevice.open(pty.b);
    try {
      const health = () => (daemon.health().channels as { serial: any }).serial;
      await until(health, (s) => s.ports[0].state === "open");
      expect(health().ports[0].device).toBe("serial-hub"); // no id configured, no hello: named after the port
      const seqs: number[] = [];
      for (let i = 0; i < 5; i++) seqs.push(await dev.send({ type: "text", text: `command ${i}` }));
      const busy = await dev.waitFor((f) => f.msg.type === "error", 5000, "BUSY");
      expect(busy.msg).toMatchObject({ code: "BUSY", refSeq: seqs[4] });
      await until(() => dev.frames.filter((f) => f.msg.type === "reply").length, (n) => n === 4, 5000, "4 replies");
      const answered = dev.frames.flatMap((f) => (f.msg.type === "reply" ? [f.msg.replyTo] : []));
      expect(answered.sort()).toEqual(seqs.slice(0, 4));
      expect(dev.frames.find((f) => f.msg.type === "reply")!.msg).toMatchObject({ ok: false, kind: "NO_MATCH" });
    } finally {
      await dev.close();
      await daemon.stop();
      await pty.dispose();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
