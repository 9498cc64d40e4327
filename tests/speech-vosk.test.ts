// The real Vosk binding, as far as it goes without an acoustic model (none can be downloaded here):
// libvosk is found and loaded (the vosk package's bundled x86-64 library), and a missing, empty or broken
// model directory, or a bad library path, gives a clear error and no crash. Then the daemon itself:
// without a model it runs text-only and says so once; `needled doctor` says what to install.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VoiceUnavailable } from "../src/speech/recognizer.js";
import { checkModelDir, findLibrary, libraryCandidates, loadLibrary, openVosk } from "../src/speech/vosk.js";
import { runCli, spawnDaemon, type DaemonProcess } from "./helpers/daemon.js";

const tmp = () => mkdtempSync(join(tmpdir(), "needled-vosk-"));

function brokenModel(): string {
  const dir = tmp();
  mkdirSync(join(dir, "am"));
  mkdirSync(join(dir, "conf"));
  mkdirSync(join(dir, "graph"));
  writeFileSync(join(dir, "am", "final.mdl"), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 255)));
  writeFileSync(join(dir, "conf", "model.conf"), "--min-active=200\n--max-active=3000\n--beam=10.0\n--lattice-beam=2.0\n");
  writeFileSync(join(dir, "conf", "mfcc.conf"), "--sample-frequency=16000\n");
  writeFileSync(join(dir, "graph", "HCLr.fst"), "not an fst");
  return dir;
}

describe("libvosk (real library)", () => {
  it("is found in the vosk package on Linux x86-64 and loads", () => {
    const lookup = findLibrary();
    expect(lookup.found?.source).toBe(process.platform === "linux" && process.arch === "x64" ? "vosk" : expect.any(String));
    expect(lookup.looked.map((c) => c.source)).toEqual(["vosk-koffi", "vosk"]);
    const api = loadLibrary(lookup.found!.path);
    expect(typeof api.modelNew).toBe("function");
  });

  it("a configured path is the only place looked; a folder means its libvosk.so", () => {
    const dir = tmp();
    expect(libraryCandidates(dir)).toEqual([{ path: join(dir, "libvosk.so"), source: "config" }]);
    expect(findLibrary(join(dir, "nope.so")).found).toBeUndefined();
  });

  it("a configured path that does not exist, or is not a library, is a clear error", async () => {
    const dir = tmp();
    await expect(openVosk({ modelDir: dir, libvosk: join(dir, "missing.so") })).rejects.toThrow(/voice\.libvosk: .*missing\.so does not exist/);
    const junk = join(dir, "libvosk.so");
    writeFileSync(junk, "this is not an ELF file");
    // (a model directory with the right layout: the library is opened only once a model is there)
    const err = await openVosk({ modelDir: brokenModel(), libvosk: junk }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoiceUnavailable);
    expect((err as Error).message).toMatch(/cannot load .*libvosk\.so/);
  });

  it("a missing model directory says to run `needled voice setup`", async () => {
    const err = await openVosk({ modelDir: join(tmp(), "no-such-model") }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VoiceUnavailable);
    expect((err as VoiceUnavailable).what).toBe("model");
    expect((err as Error).message).toMatch(/no-such-model does not exist; run `needled voice setup`/);
  });

  it("an empty directory is not a Vosk model", async () => {
    await expect(openVosk({ modelDir: tmp() })).rejects.toThrow(/is not a Vosk model \(no am\/final\.mdl with conf\/model\.conf\)/);
  });

  it("garbage model files: libvosk itself refuses them, and the process lives on", async () => {
    const dir = brokenModel();
    expect(checkModelDir(dir)).toEqual({ ok: true, sampleRate: 16000 }); // the layout is right ...
    const err = await openVosk({ modelDir: dir }).catch((e: unknown) => e); // ... the contents are not
    expect(err).toBeInstanceOf(VoiceUnavailable);
    expect((err as Error).message).toMatch(/libvosk could not load the model in .* \(damaged or not a Vosk model/);
    // Still alive, and the library still answers.
    await expect(openVosk({ modelDir: dir })).rejects.toThrow(/could not load the model/);
  });

  it("reads the model's sample rate from conf/mfcc.conf", () => {
    const dir = brokenModel();
    writeFileSync(join(dir, "conf", "mfcc.conf"), "--use-energy=false\n--sample-frequency=8000\n");
    expect(checkModelDir(dir).sampleRate).toBe(8000);
  });
});

describe("the daemon without a Vosk model", () => {
  let d: DaemonProcess | undefined;
  afterEach(async () => {
    await d?.stop();
    d = undefined;
  });

  it("runs text-only, says why in one log line, and still answers text", async () => {
    const dir = tmp();
    d = await spawnDaemon({
      config: { builtin_plugins: ["timers"], voice: { model: join(dir, "no-model") } },
    });
    const lines = d.logs().filter((l) => /voice/.test(String(l.msg)));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: "warn" });
    expect(String(lines[0]!.msg)).toMatch(/voice unavailable, running text-only: voice\.model: .*no-model does not exist; run `needled voice setup`/);
    const r = await d.http("POST", "/v1/say", { text: "set a timer for 5 minutes" });
    expect(r.json).toMatchObject({ ok: true });
    const health = await d.http("GET", "/healthz");
    expect(health.json.channels?.voice).toMatchObject({ enabled: false });
  });

  it("voice.enabled: false starts no speech at all", async () => {
    d = await spawnDaemon({ config: { voice: { enabled: false } } });
    expect(d.logs().some((l) => /voice off/.test(String(l.msg)))).toBe(true);
    expect(d.logs().some((l) => /voice unavailable/.test(String(l.msg)))).toBe(false);
  });
});

describe("needled doctor", () => {
  it("says what to install for voice: a warning while voice is optional, a failure when required", async () => {
    const dir = tmp();
    const cfg = join(dir, "config.yaml");
    writeFileSync(cfg, `state_dir: ${join(dir, "state")}\nvoice:\n  model: ${dir}\n`);
    const r = await runCli(["doctor", "--json", "--config", cfg]);
    const checks = (JSON.parse(r.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName["voice library"]).toMatchObject({ status: "ok" });
    expect(byName["voice model"]!.status).toBe("warn");
    expect(byName["voice model"]!.detail).toMatch(/not a Vosk model .*needled voice setup.*text-only/);

    writeFileSync(cfg, `state_dir: ${join(dir, "state")}\nvoice:\n  enabled: true\n  libvosk: ${join(dir, "nowhere.so")}\n`);
    const r2 = await runCli(["doctor", "--json", "--config", cfg]);
    const checks2 = (JSON.parse(r2.stdout) as { checks: Array<{ name: string; status: string; detail: string }> }).checks;
    const lib = checks2.find((c) => c.name === "voice library")!;
    expect(lib.status).toBe("fail");
    expect(lib.detail).toMatch(/voice\.libvosk: .*nowhere\.so does not exist/);
    expect(r2.code).toBe(1);
  });
});
