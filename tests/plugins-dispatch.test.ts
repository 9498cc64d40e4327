// Argument validation, handler isolation (throw, hang, bad reply), timeouts, and the sensitive-tool policy,
// on a real in-process daemon with the fixture plugins. The engine here is the scripted TEST DOUBLE
// (tests/helpers/scripted-engine.ts): these tests need chosen calls and confidences.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { join } from "node:path";
import { startTestDaemon, type TestDaemon } from "./helpers/in-process.js";
import { scriptedEngine, type ScriptedEngine } from "./helpers/scripted-engine.js";
import { FIXTURE_PLUGINS } from "./helpers/daemon.js";
import { definePlugin } from "../src/plugins/api.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("dispatch: validation and isolation", () => {
  let t: TestDaemon;
  beforeAll(async () => {
    t = await startTestDaemon({
      config: { plugin_dirs: [join(FIXTURE_PLUGINS, "echo")], plugins: { "fx-echo": { greeting: "hi" } } },
      plugins: [
        definePlugin({
          name: "inline-bad-start",
          tools: [{ name: "never_offered", description: "x", parameters: { type: "object" }, handler: () => ({ say: "x" }) }],
          start() {
            throw new Error("device unreachable");
          },
        }),
      ],
    });
  });
  afterAll(async () => t.close());

  const call = (name: string, args: unknown = {}, device = "test") => t.daemon.core.call(name, args, device, "test");

  it("runs a valid call, with schema defaults filled and the plugin's config section", async () => {
    const a = await call("fx_echo", { text: "hello" }, "watch-1");
    expect(a).toMatchObject({ ok: true, say: "hello", calls: [{ name: "fx_echo", arguments: { text: "hello", times: 1 } }] });
    expect(a.data).toEqual({ device: "watch-1", utterance: null, config: { greeting: "hi" } });
    expect((await call("fx_echo", { text: "hi", times: 3 })).say).toBe("hi hi hi");
  });

  it.each([
    [{}, "text is required"],
    [{ text: 5 }, "text must be string"],
    [{ text: "x", times: 9 }, "times must be <= 5"],
    [{ text: "x", times: 1.5 }, "times must be integer"],
    [[1, 2], "arguments must be a JSON object"],
  ])("rejects invalid arguments %j with a clear reply", async (args, problem) => {
    const a = await call("fx_echo", args);
    expect(a.ok).toBe(false);
    expect(a.error?.code).toBe("INVALID_ARGUMENTS");
    expect(a.error?.message).toContain(problem);
    expect(a.say).toContain(problem);
  });

  it("an unknown tool is a clear reply", async () => {
    const a = await call("make_coffee", {});
    expect(a).toMatchObject({ ok: false, say: "Sorry, there is no tool called make_coffee.", error: { code: "UNKNOWN_TOOL" } });
  });

  it("a handler that throws gives a clear reply and the plugin keeps working", async () => {
    const a = await call("fx_throws");
    expect(a).toMatchObject({ ok: false, say: "Sorry, fx_throws failed: kaboom", error: { code: "HANDLER_ERROR" } });
    expect(t.lines.json().some((l) => l.msg === "handler threw" && l.tool === "fx_throws" && /kaboom/.test(String(l.stack)))).toBe(true);
    expect((await call("fx_echo", { text: "still here" })).ok).toBe(true);
  });

  it("a ToolError is the reply itself, with its data", async () => {
    const a = await call("fx_refuse", { target: "garage" });
    expect(a).toMatchObject({ ok: false, say: "no device called garage", data: { target: "garage" }, error: { code: "TOOL_ERROR" } });
  });

  it("a handler that hangs times out while other calls go on", async () => {
    const t0 = Date.now();
    const hung = call("fx_hang");
    const other = await call("fx_echo", { text: "meanwhile" });
    expect(other.ok).toBe(true);
    expect(Date.now() - t0).toBeLessThan(250);
    const a = await hung;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(a).toMatchObject({ ok: false, say: "Sorry, fx_hang did not answer in time.", error: { code: "TIMEOUT" } });
  });

  it("a reply that is not {say, data} is reported, not passed on", async () => {
    const a = await call("fx_bad_reply");
    expect(a).toMatchObject({ ok: false, error: { code: "BAD_REPLY" } });
    expect(a.error!.message).toMatch(/expected \{say, data\?\}, got number/);
  });

  it("bad device ids are refused", async () => {
    const a = await call("fx_echo", { text: "x" }, "watch/1");
    expect(a).toMatchObject({ ok: false, error: { code: "BAD_INPUT" } });
    expect(a.error!.message).toMatch(/device must match/);
  });

  it("a plugin whose start() fails is skipped and reported; the others run", async () => {
    expect(t.daemon.registry.get("never_offered")).toBeUndefined();
    const h = t.daemon.health();
    expect(h.plugins.failed).toEqual([{ source: "(inline)", reason: 'plugin "inline-bad-start" start() failed: device unreachable' }]);
    expect(h.plugins.loaded.map((p) => p.name)).toEqual(["fx-echo"]);
    expect((await call("never_offered")).error?.code).toBe("UNKNOWN_TOOL");
  });

  it("events from a plugin reach the bus (device and broadcast); malformed ones are dropped", async () => {
    const before = t.events.length;
    await call("fx_notify", { say: "tea is ready" }, "watch-7");
    const got = t.events.slice(before);
    expect(got.map((e) => [e.device, e.plugin, e.event.type, e.event.say])).toEqual([
      ["watch-7", "fx-echo", "note", "tea is ready"],
      [undefined, "fx-echo", "broadcast", "all: tea is ready"],
    ]);
    expect(got[0]!.event.haptic).toBe("tap");
  });
});

describe("say: the data path and the policy for sensitive tools", () => {
  let t: TestDaemon;
  let engine: ScriptedEngine;
  const script = {
    "echo hello": { calls: [{ name: "fx_echo", arguments: { text: "hello" } }] },
    "unlock the back door": { calls: [{ name: "fx_unlock", arguments: { target: "back door" } }], confidence: 0.97 },
    "unlock the shed": { calls: [{ name: "fx_unlock", arguments: { target: "shed" } }], confidence: 0.5 },
    "open the blinds": { calls: [{ name: "fx_open_cover", arguments: { target: "blinds" } }], confidence: 0.5 },
    "open the garage door": { calls: [{ name: "fx_open_cover", arguments: { target: "garage door" } }], confidence: 0.5 },
    "unlock with bad arguments": { calls: [{ name: "fx_unlock", arguments: { target: 5 } }], confidence: 0.5 },
    "echo twice": {
      calls: [
        { name: "fx_echo", arguments: { text: "one" } },
        { name: "fx_echo", arguments: { text: "two" } },
      ],
    },
  };
  beforeAll(async () => {
    engine = scriptedEngine(script);
    t = await startTestDaemon({
      config: {
        plugin_dirs: [join(FIXTURE_PLUGINS, "echo")],
        policy: { confirm_window_s: 0.4, auto_confirm_confidence: 0.95 },
      },
      engine: async () => engine,
    });
  });
  afterAll(async () => t.close());

  const say = (text: string, device = "watch-1") => t.daemon.core.say({ text, device, source: "test" });

  it("text -> engine (with the registry's declarations) -> handler -> reply", async () => {
    const a = await say("echo hello");
    expect(a).toMatchObject({ ok: true, say: "hello", calls: [{ name: "fx_echo", arguments: { text: "hello", times: 1 } }], confidence: 0.9 });
    expect(a.data).toMatchObject({ device: "watch-1", utterance: "echo hello" });
    expect(engine.seen.at(-1)!.tools).toContain("fx_unlock");
    expect(engine.seen.at(-1)!.tools).toHaveLength(t.daemon.registry.size);
  });

  it("no call -> a clear 'can't help' reply", async () => {
    const a = await say("what's the weather");
    expect(a).toMatchObject({ ok: false, say: "Sorry, I can't help with that.", calls: [], error: { code: "NO_MATCH" } });
  });

  it("several calls run in order and their replies are joined", async () => {
    const a = await say("echo twice");
    expect(a.say).toBe("one two");
    expect((a.data as { results: unknown[] }).results).toHaveLength(2);
  });

  it("a sensitive call below the threshold asks; yes from the same device runs it", async () => {
    const ask = await say("unlock the shed", "watch-1");
    expect(ask).toMatchObject({ ok: true, say: "Say yes to confirm: fx unlock shed", confirm: { what: "fx unlock shed" } });
    const done = await say("Yes!", "watch-1");
    expect(done).toMatchObject({ ok: true, say: "Unlocked shed", data: { unlocked: "shed" } });
    // Consumed: a second yes has nothing to confirm (and is not sent to the model).
    const seen = engine.seen.length;
    expect(await say("yes", "watch-1")).toMatchObject({ ok: false, say: "There is nothing to confirm." });
    expect(engine.seen.length).toBe(seen);
  });

  it("a yes from ANOTHER device does not confirm", async () => {
    await say("unlock the shed", "watch-1");
    expect(await say("do it", "glasses-2")).toMatchObject({ ok: false, error: { code: "NOTHING_TO_CONFIRM" } });
    expect(await say("confirm", "watch-1")).toMatchObject({ ok: true, say: "Unlocked shed" });
  });

  it("no cancels; anything else cancels and is handled as a new request", async () => {
    await say("unlock the shed");
    expect(await say("no")).toMatchObject({ ok: true, say: "Cancelled: fx unlock shed." });
    expect((await say("yes")).error?.code).toBe("NOTHING_TO_CONFIRM");

    await say("unlock the shed");
    expect(await say("echo hello")).toMatchObject({ ok: true, say: "hello" });
    expect((await say("yes")).error?.code).toBe("NOTHING_TO_CONFIRM");
  });

  it("the window running out cancels, and the device is told", async () => {
    await say("unlock the shed", "watch-3");
    await sleep(500);
    const expired = t.events.find((e) => e.device === "watch-3" && e.event.type === "confirmation_expired");
    expect(expired?.event.say).toBe("Cancelled: fx unlock shed (not confirmed in time).");
    expect((await say("yes", "watch-3")).error?.code).toBe("NOTHING_TO_CONFIRM");
  });

  it("a confidence above the configured threshold runs a sensitive call at once", async () => {
    expect(await say("unlock the back door")).toMatchObject({ ok: true, say: "Unlocked back door" });
  });

  it("sensitive can depend on the arguments, and a tool may word its own prompt", async () => {
    expect(await say("open the blinds")).toMatchObject({ ok: true, say: "Opened blinds" });
    expect(await say("open the garage door")).toMatchObject({ say: "Say yes to confirm: open the garage door" });
    expect(await say("yeah")).toMatchObject({ ok: true, say: "Opened garage door" });
  });

  it("a sensitive call with invalid arguments is refused, not held", async () => {
    const a = await say("unlock with bad arguments");
    expect(a).toMatchObject({ ok: false, error: { code: "INVALID_ARGUMENTS" } });
    expect(a.confirm).toBeUndefined();
  });

  it("bad input is a clear error", async () => {
    expect((await say("   ")).error).toEqual({ code: "BAD_INPUT", message: "text must be a non-empty string" });
    expect((await say("x".repeat(1001))).error?.message).toMatch(/text is too long/);
    expect((await say("echo hello", "a+b")).error?.code).toBe("BAD_INPUT");
  });
});

describe("policy default: always confirm", () => {
  it("with no threshold configured even a 0.999 prediction asks first", async () => {
    const engine = scriptedEngine({ "unlock the back door": { calls: [{ name: "fx_unlock", arguments: { target: "back door" } }], confidence: 0.999 } });
    const t = await startTestDaemon({ config: { plugin_dirs: [join(FIXTURE_PLUGINS, "echo")] }, engine: async () => engine });
    try {
      const a = await t.daemon.core.say({ text: "unlock the back door", device: "w", source: "test" });
      expect(a.say).toBe("Say yes to confirm: fx unlock back door");
    } finally {
      await t.close();
    }
  });
});
