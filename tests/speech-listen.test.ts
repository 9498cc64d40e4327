// Speech end to end through real processes, with the ScriptedRecognizer TEST DOUBLE as the recogniser
// ($NEEDLED_SPEECH_MODULE); everything else is real, the default Needle model included: `needled listen --wav` (in-process and against a running daemon), the daemon's microphone through
// a real arecord reading espeak-ng speech from an ALSA file device, and a wearable's audio frames sent by
// `needled device-sim` over a socat PTY pair.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resample } from "../src/speech/resample.js";
import { ROOT, runCli, spawnDaemon, type DaemonProcess } from "./helpers/daemon.js";
import { espeak, espeakWav, joinWithSilence, scriptedSpeechModule, writeWav } from "./speech-helpers.js";

describe("needled listen --wav", () => {
  let d: DaemonProcess | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it("runs the pipeline on a WAV and dispatches in-process when no daemon runs", async () => {
    const dir = mkdtempSync(join(tmpdir(), "needled-listen-"));
    writeFileSync(join(dir, "config.yaml"), `state_dir: ${join(dir, "state")}\nbuiltin_plugins: [timers]\nmqtt: {enabled: false}\nhttp: {port: 1}\n`);
    const r = await runCli(["listen", "--wav", espeakWav("set a timer for five minutes"), "--in-process", "--config", join(dir, "config.yaml")], {
      env: {
        NEEDLED_SPEECH_MODULE: scriptedSpeechModule(dir, ["set a timer for five minutes"]),
      },
    });
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.stdout).toMatch(/^heard: set a timer for 5 minutes {2}\(recognised: "set a timer for five minutes"\)$/m);
    expect(r.stdout).toMatch(/^reply: .*5 minutes/m);
    expect(r.code).toBe(0);
  });

  it("sends each utterance of a WAV to the running daemon (--json)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "needled-listen-"));
    d = await spawnDaemon({ config: { builtin_plugins: ["timers"], voice: { enabled: false } } });
    const parts = await Promise.all(["set a timer for five minutes", "turn on the kitchen lights"].map(espeak));
    const wav = writeWav(join(dir, "two.wav"), joinWithSilence(parts, 1200, 200).audio);
    const r = await runCli(["listen", "--wav", wav, "--http", d.url.replace("http://", ""), "--json"], {
      env: { NEEDLED_SPEECH_MODULE: scriptedSpeechModule(dir, ["set a timer for five minutes", "turn on the kitchen lights"]) },
    });
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { text: string; answer: { ok: boolean; say: string }; startMs: number });
    expect(lines.map((l) => l.text)).toEqual(["set a timer for 5 minutes", "turn on the kitchen lights"]);
    expect(lines[0]!.answer).toMatchObject({ ok: true });
    expect(lines[1]!.answer.ok).toBe(false); // only timer tools are declared: no call, a clear "no match"
    expect(lines[1]!.startMs).toBeGreaterThan(lines[0]!.startMs + 1000);
    expect(r.code).toBe(1);
    // The daemon really did it: the timer is running there.
    const status = await d.http("POST", "/v1/call", { name: "timer_status", arguments: {} });
    expect(status.json.say).toMatch(/left/);
  });

  it("clear errors: a file that is not a WAV, and no Vosk model", async () => {
    const dir = mkdtempSync(join(tmpdir(), "needled-listen-"));
    writeFileSync(join(dir, "notes.wav"), "hello");
    writeFileSync(join(dir, "config.yaml"), `state_dir: ${join(dir, "state")}\n`);
    const bad = await runCli(["listen", "--wav", join(dir, "notes.wav"), "--config", join(dir, "config.yaml")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/notes\.wav is not a WAV file we can read/);
    const noModel = await runCli(["listen", "--wav", espeakWav("set a timer for five minutes"), "--config", join(dir, "config.yaml")]);
    expect(noModel.code).toBe(1);
    expect(noModel.stderr).toMatch(/vosk-model-small-en-us-0\.15 does not exist; run `needled voice setup`/);
  });
});

/** A folder with an ALSA file device "speechfile" that plays `text` (espeak-ng, 16 kHz) then silence. */
async function alsaSpeechDevice(dir: string, text: string): Promise<void> {
  const speech = await espeak(text);
  const pcm = resample(joinWithSilence([speech], 0, 300, 1500).audio.samples, 22050, 16000);
  writeFileSync(join(dir, "speech.raw"), Buffer.from(pcm.buffer));
  writeFileSync(
    join(dir, ".asoundrc"),
    `pcm.speechfile {\n  type file\n  slave.pcm null\n  file "/dev/null"\n  infile "${join(dir, "speech.raw")}"\n  format "raw"\n}\n`,
  );
}

describe("needled listen (microphone)", () => {
  it("captures with a real arecord (ALSA file device), prints what it heard and the reply, and stops on SIGINT", async () => {
    const dir = mkdtempSync(join(tmpdir(), "needled-listen-mic-"));
    await alsaSpeechDevice(dir, "hey needle set a timer for five minutes");
    writeFileSync(
      join(dir, "config.yaml"),
      `state_dir: ${join(dir, "state")}\nbuiltin_plugins: [timers]\nmqtt: {enabled: false}\nvoice: {alsa_device: speechfile, arecord_args: ["-d", "3"]}\n`,
    );
    const p = spawn(process.execPath, [join(ROOT, "dist", "src", "cli.js"), "listen", "--in-process", "--config", join(dir, "config.yaml")], {
      env: {
        ...process.env,
        HOME: dir,
        NEEDLED_CONFIG: "",
        NEEDLED_SPEECH_MODULE: scriptedSpeechModule(dir, ["hey needle set a timer for five minutes"]),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    p.stdout.on("data", (d) => (out += d));
    p.stderr.on("data", (d) => (err += d));
    const exited = new Promise<number | null>((r) => p.once("exit", (c) => r(c)));
    for (let i = 0; i < 150 && !/^reply:/m.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    p.kill("SIGINT");
    expect(await exited).toBe(0);
    expect(err).toMatch(/listening on ALSA "speechfile"/);
    expect(out).toMatch(/^heard: set a timer for 5 minutes/m);
    expect(out).toMatch(/^reply: .*5 minutes/m);
  });
});

describe("the daemon's speech channel", () => {
  let d: DaemonProcess | undefined;
  const procs: ChildProcess[] = [];
  afterEach(async () => {
    await d?.stop();
    d = undefined;
    for (const p of procs.splice(0)) p.kill("SIGTERM");
  });

  it("hears the microphone (a real arecord on an ALSA file device playing espeak-ng speech) and dispatches", async () => {
    const dir = mkdtempSync(join(tmpdir(), "needled-mic-"));
    await alsaSpeechDevice(dir, "hey needle set a timer for five minutes");
    d = await spawnDaemon({
      dir,
      config: {
        builtin_plugins: ["timers"],
        // -d 3: three seconds of audio, then arecord exits (the null device is not paced like a real card)
        voice: { alsa_device: "speechfile", arecord_args: ["-d", "3"], activation: "wake" },
      },
      env: {
        HOME: dir,
        NEEDLED_SPEECH_MODULE: scriptedSpeechModule(dir, ["hey needle set a timer for five minutes"]),
      },
    });
    const line = await d.out.waitFor(/"voice: heard"/, 15_000);
    const rec = JSON.parse(line) as Record<string, unknown>;
    expect(rec).toMatchObject({ device: "mic", heard: "hey needle set a timer for five minutes", text: "set a timer for 5 minutes", ok: true });
    expect(String(rec.reply)).toMatch(/5 minutes/);
    const health = await d.http("GET", "/healthz");
    expect(health.json.channels.voice).toMatchObject({ enabled: true, microphone: "capturing", utterances: 1 });
  });

  it("recognises a wearable's audio frames (needled device-sim --wav over a serial PTY) and the wearable gets the reply", async () => {
    const dir = mkdtempSync(join(tmpdir(), "needled-wearable-"));
    const hub = join(dir, "hub-tty");
    const dev = join(dir, "dev-tty");
    const socat = spawn("socat", [`pty,raw,echo=0,link=${hub}`, `pty,raw,echo=0,link=${dev}`], { stdio: "ignore" });
    procs.push(socat);
    for (let i = 0; i < 50 && !(existsSync(hub) && existsSync(dev)); i++) await new Promise((r) => setTimeout(r, 100));
    d = await spawnDaemon({
      config: { builtin_plugins: ["timers"], serial: { ports: [{ path: hub, device: "watch-1" }] }, voice: { microphone: false } },
      env: {
        NEEDLED_SPEECH_MODULE: scriptedSpeechModule(dir, ["set a timer for five minutes"]),
      },
    });
    const r = await runCli(["device-sim", "--serial", dev, "--device", "watch-1", "--wav", espeakWav("set a timer for five minutes"), "--timeout", "15"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const reply = JSON.parse(r.stdout.trim().split("\n").at(-1)!) as { type: string; ok: boolean; kind: string; lines: string[] };
    expect(reply).toMatchObject({ type: "reply", ok: true, kind: "set_timer" });
    // fitted to the watch's screen (the model may also give the timer a name: "Tea timer set for ...")
    expect(reply.lines.join(" ")).toMatch(/set for 5 minutes/i);
    const heard = d.logs().find((l) => l.msg === "voice: heard from a wearable");
    expect(heard).toMatchObject({ device: "watch-1", heard: "set a timer for five minutes", text: "set a timer for 5 minutes" });
  });
});
