// needled device-sim: reading WAV files into 16 kHz mono PCM, and its usage errors (real CLI processes).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wavefile from "wavefile";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { capabilitiesOf, readWav } from "../src/cli/device-sim.js";
import { loadProfiles } from "../src/channels/serial-profiles.js";
import { runCli } from "./helpers/daemon.js";

describe("device-sim", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "needled-devsim-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const wav = async (name: string, channels: number, rate: number, depth: string, samples: number[][]) => {
    const w = new wavefile.WaveFile();
    w.fromScratch(channels, rate, depth, channels === 1 ? samples[0]! : samples);
    const file = join(dir, name);
    await writeFile(file, w.toBuffer());
    return file;
  };

  it("reads 16 kHz mono s16 as it is", async () => {
    const s = Array.from({ length: 1600 }, (_, i) => (i * 97) % 30000 - 15000);
    expect(Array.from(await readWav(await wav("a.wav", 1, 16000, "16", [s])))).toEqual(s);
  });

  it("converts other rates, depths and channel counts to 16 kHz 16-bit mono", async () => {
    const n = 44100; // 1 s
    const left = Array.from({ length: n }, () => 8000);
    const right = Array.from({ length: n }, () => 4000);
    const pcm = await readWav(await wav("b.wav", 2, 44100, "16", [left, right]));
    expect(Math.abs(pcm.length - 16000)).toBeLessThanOrEqual(2);
    expect(pcm[8000]).toBeGreaterThan(5900); // the channels averaged: 6000
    expect(pcm[8000]).toBeLessThan(6100);
    const f32 = await readWav(await wav("c.wav", 1, 16000, "32f", [Array.from({ length: 160 }, () => 0.5)]));
    expect(f32.length).toBe(160);
    expect(Math.abs(f32[80]! - 16384)).toBeLessThan(2);
  });

  it("says clearly what is wrong with the arguments (exit 2)", async () => {
    const cases: Array<[string[], RegExp]> = [
      [["device-sim", "--text", "hi"], /exactly one of --serial PATH or --mqtt URL/],
      [["device-sim", "--serial", "/dev/null", "--mqtt", "mqtt://x", "--text", "hi"], /exactly one/],
      [["device-sim", "--serial", "/dev/null"], /nothing to do/],
      [["device-sim", "--serial", "/dev/null", "--text", "hi", "--profile", "toaster"], /--profile: no profile "toaster"/],
      [["device-sim", "--serial", "/dev/null", "--text", "hi", "--device", "a/b"], /--device: "a\/b" is not a usable id/],
      [["device-sim", "--serial", "/dev/null", "--wav", join("/nonexistent", "x.wav")], /cannot read \/nonexistent\/x.wav \(ENOENT\)/],
      [["device-sim", "--serial", "/dev/null", "--wav", "/etc/hostname"], /not a WAV file we can read/],
      [["device-sim", "--mqtt", "mqtt://127.0.0.1:1", "--text", "hi"], /cannot reach the MQTT broker/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(args);
      expect(r.stderr, args.join(" ")).toMatch(re);
      expect(r.code, args.join(" ")).toBe(2);
    }
  });

  it("announces what the profile can do", () => {
    const p = loadProfiles();
    expect(capabilitiesOf(p.get("watch")!)).toEqual(["screen", "haptics", "microphone", "buttons"]);
    expect(capabilitiesOf(p.get("hub-speaker")!)).toEqual(["microphone", "speaker", "buttons"]);
  });
});
