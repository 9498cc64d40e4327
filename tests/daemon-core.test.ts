// The daemon's lifecycle in-process: engine problems, plugin start/stop, events, graceful stop.
import { describe, it, expect } from "vitest";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { startTestDaemon } from "./helpers/in-process.js";
import { scriptedEngine } from "./helpers/scripted-engine.js";
import { FIXTURE_PLUGINS } from "./helpers/daemon.js";
import { definePlugin, type PluginContext } from "../src/plugins/api.js";
import { EngineError, type ToolCaller } from "../src/engine/types.js";

const echoDir = join(FIXTURE_PLUGINS, "echo");

describe("engine problems", () => {
  it("no engine: say answers ENGINE_UNAVAILABLE with the reason, direct calls still work", async () => {
    const t = await startTestDaemon({
      config: { plugin_dirs: [echoDir] },
      engine: async () => {
        throw new EngineError("models/default: config.json missing", "MODEL_MISSING");
      },
    });
    try {
      const a = await t.daemon.core.say({ text: "hello", device: "w", source: "test" });
      expect(a).toMatchObject({ ok: false, say: "Sorry, my language model is not available.", error: { code: "ENGINE_UNAVAILABLE" } });
      expect(a.error!.message).toContain("config.json missing");
      expect((await t.daemon.core.call("fx_echo", { text: "ok" }, "w", "test")).ok).toBe(true);
      const h = t.daemon.health();
      expect(h.status).toBe("degraded");
      expect(h.engine).toMatchObject({ ok: false, error: "models/default: config.json missing" });
    } finally {
      await t.close();
    }
  });

  it("a prediction that fails is an ENGINE_ERROR reply, and the next one works", async () => {
    let calls = 0;
    const engine: ToolCaller = {
      async predict() {
        calls++;
        if (calls === 1) throw new EngineError("input too long", "BAD_INPUT");
        return { calls: [{ name: "fx_echo", arguments: { text: "back" } }], confidence: 0.9, ms: 1 };
      },
      async close() {},
    };
    const t = await startTestDaemon({ config: { plugin_dirs: [echoDir] }, engine: async () => engine });
    try {
      const a = await t.daemon.core.say({ text: "x", device: "w", source: "test" });
      expect(a).toMatchObject({ ok: false, error: { code: "ENGINE_ERROR", message: "prediction failed: input too long" } });
      expect((await t.daemon.core.say({ text: "x", device: "w", source: "test" })).say).toBe("back");
    } finally {
      await t.close();
    }
  });

  it("the engine is opened with the model dir and retrieval K from config, and closed on stop", async () => {
    const engine = scriptedEngine({});
    let opts: unknown;
    const t = await startTestDaemon({
      config: { model: { dir: "/opt/needle", retrieval_k: 3, threads: 2 } },
      engine: async (o) => {
        opts = o;
        return engine;
      },
    });
    expect(opts).toEqual({ modelDir: "/opt/needle", maxToolsInPrompt: 3, threads: 2 });
    await t.close();
    expect(engine.closed).toBe(true);
  });
});

describe("not sure: calls below the confidence floor are not run", () => {
  const lowEngine = (minConfidence?: number): ToolCaller => ({
    async predict(text) {
      const confidence = text === "echo this" ? 0.6 : 0.05;
      return { calls: [{ name: "fx_echo", arguments: { text: `ran ${text}` } }], confidence, ms: 1 };
    },
    async close() {},
    ...(minConfidence !== undefined ? { minConfidence } : {}),
  });

  it("the engine's recommended floor: a low-confidence guess is NOT_SURE and nothing runs", async () => {
    const t = await startTestDaemon({ config: { plugin_dirs: [echoDir] }, engine: async () => lowEngine(0.1) });
    try {
      const unsure = await t.daemon.core.say({ text: "mumble", device: "w", source: "test" });
      expect(unsure).toMatchObject({ ok: false, say: "Sorry, I'm not sure what you meant.", calls: [], error: { code: "NOT_SURE" } });
      expect(unsure.confidence).toBe(0.05);
      const logged = t.lines.lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.error && (l.error as { code: string }).code === "NOT_SURE");
      expect(logged?.withheld).toEqual([{ name: "fx_echo", arguments: { text: "ran mumble" } }]);
      expect(await t.daemon.core.say({ text: "echo this", device: "w", source: "test" })).toMatchObject({ ok: true, say: "ran echo this" });
    } finally {
      await t.close();
    }
  });

  it("config model.min_confidence overrides it (0: always run; no recommendation: 0)", async () => {
    const t = await startTestDaemon({ config: { plugin_dirs: [echoDir], model: { min_confidence: 0 } }, engine: async () => lowEngine(0.1) });
    try {
      expect(await t.daemon.core.say({ text: "mumble", device: "w", source: "test" })).toMatchObject({ ok: true, say: "ran mumble" });
    } finally {
      await t.close();
    }
    const u = await startTestDaemon({ config: { plugin_dirs: [echoDir], model: { min_confidence: 0.9 } }, engine: async () => lowEngine() });
    try {
      expect(await u.daemon.core.say({ text: "echo this", device: "w", source: "test" })).toMatchObject({ ok: false, error: { code: "NOT_SURE" } });
    } finally {
      await u.close();
    }
  });
});

describe("not sure: a single call to a tool far from the request is not run", () => {
  // A scripted engine (test double): the similarity comes from the script, the floor logic is the daemon's.
  const farEngine = (minToolSimilarity?: number): ToolCaller => ({
    async predict(text) {
      const toolSimilarity = text === "echo this" ? 0.95 : 0.41;
      return { calls: [{ name: "fx_echo", arguments: { text: `ran ${text}` } }], confidence: 0.97, ms: 1, toolSimilarity };
    },
    async close() {},
    minConfidence: 0.005,
    ...(minToolSimilarity !== undefined ? { minToolSimilarity } : {}),
  });

  it("the engine's recommended similarity floor: NOT_SURE, saying why, and nothing runs", async () => {
    const t = await startTestDaemon({ config: { plugin_dirs: [echoDir] }, engine: async () => farEngine(0.84) });
    try {
      const unsure = await t.daemon.core.say({ text: "what's the weather", device: "w", source: "test" });
      expect(unsure).toMatchObject({ ok: false, say: "Sorry, I'm not sure what you meant.", calls: [], error: { code: "NOT_SURE" } });
      expect(unsure.error!.message).toBe("the tool's similarity to the request 0.410 is below 0.84");
      expect(await t.daemon.core.say({ text: "echo this", device: "w", source: "test" })).toMatchObject({ ok: true, say: "ran echo this" });
    } finally {
      await t.close();
    }
  });

  it("config model.min_tool_similarity overrides it, and asks the engine to score the tools", async () => {
    let opts: Record<string, unknown> = {};
    const t = await startTestDaemon({
      config: { plugin_dirs: [echoDir], model: { min_tool_similarity: 0 } },
      engine: async (o) => {
        opts = o as unknown as Record<string, unknown>;
        return farEngine(0.84);
      },
    });
    try {
      expect(opts.scoreTools).toBeUndefined();
      expect(await t.daemon.core.say({ text: "mumble", device: "w", source: "test" })).toMatchObject({ ok: true, say: "ran mumble" });
    } finally {
      await t.close();
    }
    const u = await startTestDaemon({
      config: { plugin_dirs: [echoDir], model: { min_tool_similarity: 0.99 } },
      engine: async (o) => {
        opts = o as unknown as Record<string, unknown>;
        return farEngine();
      },
    });
    try {
      expect(opts.scoreTools).toBe(true);
      expect(await u.daemon.core.say({ text: "echo this", device: "w", source: "test" })).toMatchObject({ ok: false, error: { code: "NOT_SURE" } });
    } finally {
      await u.close();
    }
  });
});

describe("a tool's own similarity floor from its declared examples", () => {
  // A scripted engine (test double) for the similarities; the floors are the daemon's logic. "paint" declares
  // examples that the (scripted) retrieval head finds far from it, "sweep" declares none.
  const plugin = definePlugin({
    name: "chores",
    tools: [
      {
        name: "paint", description: "Paint something", examples: ["paint the fence blue", "colour the shed"],
        parameters: { type: "object", properties: { what: { type: "string" } }, required: ["what"] },
        handler: (args) => ({ say: `painted ${String(args.what)}` }),
      },
      {
        name: "sweep", description: "Sweep a room",
        parameters: { type: "object", properties: { room: { type: "string" } }, required: ["room"] },
        handler: (args) => ({ say: `swept ${String(args.room)}` }),
      },
    ],
  });
  const scored: string[] = [];
  const engine: ToolCaller = {
    async predict(text) {
      const [tool, sim] = text.split(" ") as [string, string];
      const args = tool === "paint" ? { what: "door" } : { room: "hall" };
      return { calls: [{ name: tool, arguments: args }], confidence: 0.97, ms: 1, toolSimilarity: Number(sim) };
    },
    async toolSimilarities(text, tools) {
      scored.push(`${text} -> ${tools.map((t) => t.name).join(",")}`);
      return [text === "paint the fence blue" ? 0.78 : 0.7];
    },
    async close() {},
    minToolSimilarity: 0.84,
  };

  it("lowers the floor to just under the tool's lowest example, computed once; a tool without examples keeps it", async () => {
    const t = await startTestDaemon({ engine: async () => engine, plugins: [plugin] });
    try {
      expect(await t.daemon.core.say({ text: "paint 0.66", device: "w", source: "test" })).toMatchObject({ ok: true, say: "painted door" });
      const far = await t.daemon.core.say({ text: "paint 0.6", device: "w", source: "test" });
      expect(far).toMatchObject({ ok: false, error: { code: "NOT_SURE" } });
      expect(far.error!.message).toBe("the tool's similarity to the request 0.600 is below 0.65");
      expect(scored).toEqual(["paint the fence blue -> paint", "colour the shed -> paint"]); // once, then kept
      expect(await t.daemon.core.say({ text: "sweep 0.66", device: "w", source: "test" })).toMatchObject({ ok: false, error: { code: "NOT_SURE" } });
      expect(await t.daemon.core.say({ text: "sweep 0.9", device: "w", source: "test" })).toMatchObject({ ok: true, say: "swept hall" });
    } finally {
      await t.close();
    }
  });
});

describe("plugin lifecycle and events", () => {
  it("start() gets a context, stop() runs on shutdown, and the store is on disk afterwards", async () => {
    const seen: string[] = [];
    let ctx: PluginContext | undefined;
    const plugin = definePlugin({
      name: "life",
      tools: [
        {
          name: "remember",
          description: "Remember a word",
          parameters: { type: "object", properties: { word: { type: "string" } }, required: ["word"] },
          async handler(args, c) {
            await c.store.set("word", args.word);
            return { say: `remembered ${args.word}` };
          },
        },
      ],
      start(c) {
        ctx = c;
        seen.push("start");
        c.signal.addEventListener("abort", () => seen.push("aborted"));
      },
      stop() {
        seen.push("stop");
      },
    });
    const t = await startTestDaemon({ plugins: [plugin], config: { plugins: { life: { colour: "green" } } } });
    const stateDir = join(t.dir, "state");
    expect(ctx!.config).toEqual({ colour: "green" });
    expect((await t.daemon.core.call("remember", { word: "teapot" }, "w", "test")).say).toBe("remembered teapot");
    await t.daemon.stop();
    expect(seen).toEqual(["start", "aborted", "stop"]);
    expect(JSON.parse(await readFile(join(stateDir, "plugins", "life", "store.json"), "utf8"))).toEqual({ word: "teapot" });
    // After stop, requests are refused clearly.
    expect((await t.daemon.core.call("remember", { word: "x" }, "w", "test")).error?.code).toBe("STOPPING");
    await t.close();
  });

  it("malformed events from a plugin are dropped with a warning; good ones are logged", async () => {
    const plugin = definePlugin({
      name: "noisy",
      tools: [
        {
          name: "emit",
          description: "Emit events",
          parameters: { type: "object", properties: {} },
          handler(_a, c) {
            c.notify(c.device, { type: "" } as never);
            c.notify(c.device, { type: "x", say: 5 } as never);
            c.notify(c.device, { type: "fine", say: "ok", data: { n: 1 } });
            return { say: "done" };
          },
        },
      ],
    });
    const t = await startTestDaemon({ plugins: [plugin] });
    try {
      await t.daemon.core.call("emit", {}, "w", "test");
      expect(t.events.map((e) => e.event.type)).toEqual(["fine"]);
      const warnings = t.lines.json().filter((l) => l.msg === "plugin sent an unusable event; dropped");
      expect(warnings.map((w) => w.reason)).toEqual(['an event needs a non-empty string "type"', '"say" must be a string']);
      expect(t.lines.json().some((l) => l.msg === "event" && l.event?.type === "fine" && l.device === "w")).toBe(true);
    } finally {
      await t.close();
    }
  });

  it("stop() waits for calls in flight", async () => {
    const t = await startTestDaemon({ config: { plugin_dirs: [echoDir] } });
    const slow = t.daemon.core.call("fx_slow", { ms: 300 }, "w", "test");
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    await t.daemon.stop();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
    expect(await slow).toMatchObject({ ok: true, say: "done after 300 ms" });
    await t.close();
  });
});

describe("extra channels", () => {
  it("a channel factory gets the data path and the event bus, and is closed first on shutdown", async () => {
    const order: string[] = [];
    const { Daemon } = await import("../src/daemon/daemon.js");
    const { parseConfig } = await import("../src/daemon/config.js");
    const { createLogger } = await import("../src/daemon/log.js");
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const dir = await mkdtemp(join(tmpdir(), "needled-chan-"));
    const config = parseConfig(
      `http: {enabled: false}\nmqtt: {enabled: false}\nbuiltin_plugins: false\nplugin_dirs: [${JSON.stringify(echoDir)}]\nstate_dir: ${JSON.stringify(join(dir, "state"))}\n`,
      { env: {} },
    );
    let reply: string | undefined;
    const seenEvents: string[] = [];
    const daemon = await Daemon.start({
      config,
      log: createLogger({ level: "silent" }),
      engineFactory: async () => scriptedEngine({ "ping": { calls: [{ name: "fx_notify", arguments: { say: "pong" } }] } }),
      channels: [
        {
          name: "fake-serial",
          async start(ctx) {
            order.push("start");
            ctx.events.subscribe((e) => seenEvents.push(`${e.device}:${e.event.type}`));
            reply = (await ctx.core.say({ text: "ping", device: "band-1", source: "serial" })).say;
            return { close: () => void order.push("close") };
          },
        },
      ],
    });
    expect(reply).toBe("sent");
    expect(seenEvents).toEqual(["band-1:note", "undefined:broadcast"]);
    await daemon.stop();
    expect(order).toEqual(["start", "close"]);
    await rm(dir, { recursive: true, force: true });
  });
});

