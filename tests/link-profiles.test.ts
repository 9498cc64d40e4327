// Wearable profiles (devices/profiles, devices/profile.schema.json) and what they do to reply, event and
// haptic frames.
import { mkdtemp, rm, writeFile, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/daemon/config.js";
import type { Answer } from "../src/daemon/core.js";
import { checkProfile, loadProfiles } from "../src/channels/serial-profiles.js";
import { eventMessage, hapticMessage, replyMessage } from "../src/channels/serial-session.js";

const ROOT = join(import.meta.dirname, "..");

describe("built-in profiles", () => {
  const set = loadProfiles();
  it("are the watch, the glasses and the hub speaker, all valid", () => {
    expect(set.names()).toEqual(["glasses", "hub-speaker", "watch"]);
    for (const n of set.names()) expect(checkProfile(set.get(n))).toEqual([]);
    expect(set.default.name).toBe("watch");
  });

  it("define the haptic patterns the built-in plugins name in events", async () => {
    // tools/timers and tools/navigation send haptic "alarm" and "tap"
    const timers = await readFile(join(ROOT, "tools", "timers", "service.ts"), "utf8");
    const named = new Set([...timers.matchAll(/haptic: "([a-z]+)"/g)].map((m) => m[1]!));
    expect(named.size).toBeGreaterThan(0);
    for (const n of named) expect(Object.keys(set.get("watch")!.haptics!.patterns)).toContain(n);
  });
});

describe("frames per profile", () => {
  const set = loadProfiles();
  const answer: Answer = {
    ok: true,
    say: "Pasta timer set for 8 minutes. I will buzz you when it is done, wherever you are in the house.",
    calls: [{ name: "set_timer", arguments: { duration: "8 minutes", name: "pasta" } }],
    ms: 12,
  };

  it("watch: lines fitted to 4 x 16 with its ellipsis, no full text, tool name as kind", () => {
    const r = replyMessage(answer, 7, set.get("watch")!);
    expect(r).toMatchObject({ type: "reply", replyTo: 7, ok: true, confirm: false, truncated: true, kind: "set_timer", text: "" });
    expect(r.lines).toHaveLength(4);
    expect(r.lines.every((l) => l.length <= 16)).toBe(true);
    expect(r.lines[3]!.endsWith("...")).toBe(true);
  });

  it("glasses: 3 x 28 lines and the full text (it has a speaker)", () => {
    const r = replyMessage(answer, 1, set.get("glasses")!);
    expect(r.lines.length).toBeLessThanOrEqual(3);
    expect(r.lines.every((l) => [...l].length <= 28)).toBe(true);
    expect(r.text).toBe(answer.say);
  });

  it("hub-speaker: no screen, so no lines and the full text", () => {
    const r = replyMessage(answer, 1, set.get("hub-speaker")!);
    expect(r.lines).toEqual([]);
    expect(r.text).toBe(answer.say);
  });

  it("errors and confirmations show in flags and kind", () => {
    const no = replyMessage({ ok: false, say: "Sorry, I can't help with that.", calls: [], error: { code: "NO_MATCH", message: "x" }, ms: 1 }, 2, set.get("watch")!);
    expect(no).toMatchObject({ ok: false, confirm: false, kind: "NO_MATCH" });
    const ask = replyMessage(
      { ok: true, say: "Say yes to confirm: unlock back door", calls: [{ name: "unlock", arguments: { target: "back door" } }], confirm: { what: "unlock back door", expiresAt: "" }, ms: 1 },
      3,
      set.get("watch")!,
    );
    expect(ask).toMatchObject({ ok: true, confirm: true, kind: "unlock" });
  });

  it("events: fitted text; haptics spelled out, unknown names fall back to the profile's default", () => {
    const e = eventMessage({ id: 9, at: "", device: "w", plugin: "timers", event: { type: "timer.fired", say: "Your pasta timer is done.", haptic: "alarm" } }, set.get("watch")!);
    expect(e).toEqual({ type: "event", id: 9, name: "timer.fired", plugin: "timers", text: "", lines: ["Your pasta timer", "is done."] });
    expect(hapticMessage(set.get("watch")!, "alarm")).toEqual({ type: "haptic", pattern: "alarm", intensity: 200, steps: [[400, 200], [400, 200], [400, 200], [800, 0]] });
    expect(hapticMessage(set.get("watch")!, "no-such")?.pattern).toBe("tap");
    expect(hapticMessage(set.get("glasses")!, "alarm")).toBeUndefined();
  });
});

describe("custom profiles and bad ones", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "needled-profiles-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const band = {
    name: "band",
    screen: { lines: 2, columns: 10 },
    haptics: { patterns: { tap: [[30, 0]] }, on_reply: { ok: "tap" } },
    audio: { microphone: false },
    transport: { preferred: "serial", serial: { baud_rate: 115200 } },
  };

  it("a directory adds profiles; one may become the default", async () => {
    await writeFile(join(dir, "band.json"), JSON.stringify(band));
    const set = loadProfiles([dir], "band");
    expect(set.names()).toContain("band");
    expect(set.default.screen).toEqual({ lines: 2, columns: 10 });
  });

  it("reports unknown keys, dangling pattern names and names that differ from the file", () => {
    expect(checkProfile({ ...band, colour: "red" })).toEqual(['(top level): unknown key "colour"']);
    expect(checkProfile({ ...band, haptics: { patterns: { tap: [[30, 0]] }, on_reply: { ok: "buzz" } } })).toEqual([
      'haptics.on_reply.ok: no pattern called "buzz"',
    ]);
    expect(checkProfile({ ...band, audio: { microphone: true, sample_rate: 44100 } })[0]).toMatch(/audio.sample_rate/);
    expect(checkProfile({ ...band, screen: { lines: 2, columns: 1000 } }).length).toBeGreaterThan(0);
  });

  it("a bad file is a ConfigError naming the file; an unknown default too", async () => {
    const bad = await mkdtemp(join(tmpdir(), "needled-profiles-bad-"));
    try {
      await writeFile(join(bad, "other.json"), JSON.stringify(band));
      await writeFile(join(bad, "broken.json"), "{ not json");
      let err: unknown;
      try {
        loadProfiles([bad]);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as ConfigError).message;
      expect(msg).toContain("broken.json");
      expect(msg).toContain('other.json: name: "band" must match the file name');
      expect(() => loadProfiles([], "nope")).toThrow(/devices.default_profile: no profile called "nope"/);
      expect(() => loadProfiles([join(bad, "missing")])).toThrow(/cannot read/);
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });
});
