// The HTTP API on a real fastify server (in-process daemon, fixture plugins, scripted TEST DOUBLE engine
// for /v1/say; the real-engine path is in tests/daemon-e2e.test.ts).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { join } from "node:path";
import { createServer } from "node:net";
import { startTestDaemon, type TestDaemon } from "./helpers/in-process.js";
import { scriptedEngine } from "./helpers/scripted-engine.js";
import { FIXTURE_PLUGINS } from "./helpers/daemon.js";
import { openSse } from "./helpers/sse.js";
import { ConfigError } from "../src/daemon/config.js";
import { isLoopback } from "../src/channels/http.js";

async function req(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    ...(body !== undefined ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as any };
}

describe("HTTP API (loopback, no token)", () => {
  let t: TestDaemon;
  let base: string;
  beforeAll(async () => {
    t = await startTestDaemon({
      config: { http: { enabled: true, host: "127.0.0.1", port: 0 }, plugin_dirs: [join(FIXTURE_PLUGINS, "echo")] },
      engine: async () => scriptedEngine({ "echo hello": { calls: [{ name: "fx_echo", arguments: { text: "hello" } }], confidence: 0.8 } }),
    });
    base = t.daemon.httpUrl!;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
  afterAll(async () => t.close());

  it("POST /v1/say runs the text and answers {say, data, ...}", async () => {
    const r = await req(base, "POST", "/v1/say", { text: "echo hello", device: "watch-1" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: true, say: "hello", calls: [{ name: "fx_echo" }], confidence: 0.8, data: { device: "watch-1" } });
  });

  it("POST /v1/say defaults the device to http, and a no-match is still a 200 reply", async () => {
    const r = await req(base, "POST", "/v1/say", { text: "tell me a joke" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ ok: false, say: "Sorry, I can't help with that.", error: { code: "NO_MATCH" } });
  });

  it.each([
    [{}, 400, /body must have required property 'text'/],
    [{ text: 5 }, 400, /body\/text must be string/],
    [{ text: "hi", colour: "red" }, 400, /must NOT have additional properties/],
    [{ text: "" }, 400, /text must be a non-empty string/],
    [{ text: "echo hello", device: "a/b" }, 400, /device must match/],
  ])("POST /v1/say %j -> %i", async (body, status, message) => {
    const r = await req(base, "POST", "/v1/say", body);
    expect(r.status).toBe(status);
    expect(r.json.ok).toBe(false);
    expect(r.json.error.message).toMatch(message);
  });

  it("malformed JSON is a 400 that says so", async () => {
    const r = await req(base, "POST", "/v1/say", '{"text": ');
    expect(r.status).toBe(400);
    expect(r.json.error.message).toMatch(/invalid JSON body/);
  });

  it.each([
    ["fx_echo", { text: "a" }, 200, true, "a"],
    ["fx_refuse", { target: "x" }, 200, false, "no device called x"],
    ["nope", {}, 404, false, "Sorry, there is no tool called nope."],
    ["fx_echo", { times: 2 }, 400, false, "Sorry, invalid arguments for fx_echo: text is required."],
    ["fx_throws", {}, 500, false, "Sorry, fx_throws failed: kaboom"],
    ["fx_hang", {}, 504, false, "Sorry, fx_hang did not answer in time."],
  ])("POST /v1/call %s %j -> %i", async (name, args, status, ok, say) => {
    const r = await req(base, "POST", "/v1/call", { name, arguments: args, device: "cli" });
    expect(r.status).toBe(status);
    expect(r.json.ok).toBe(ok);
    expect(r.json.say).toBe(say);
  });

  it("POST /v1/call without arguments calls with {}", async () => {
    const r = await req(base, "POST", "/v1/call", { name: "fx_bad_reply" });
    expect(r.status).toBe(500);
    expect(r.json.error.code).toBe("BAD_REPLY");
  });

  it("GET /v1/tools lists declarations with plugin and sensitivity", async () => {
    const r = await req(base, "GET", "/v1/tools");
    expect(r.status).toBe(200);
    const byName = Object.fromEntries(r.json.tools.map((x: any) => [x.name, x]));
    expect(byName.fx_echo).toMatchObject({ plugin: "fx-echo", sensitive: false, examples: ["echo hello"], parameters: { type: "object" } });
    expect(byName.fx_unlock.sensitive).toBe(true);
    expect(byName.fx_open_cover.sensitive).toBe("depends");
  });

  it("GET /healthz reports engine, mqtt, plugins, state", async () => {
    const r = await req(base, "GET", "/healthz");
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      status: "ok",
      pid: process.pid,
      engine: { ok: true },
      mqtt: { enabled: false },
      http: { url: base },
      plugins: { loaded: [{ name: "fx-echo", builtin: false }], failed: [] },
      state: { problems: [] },
      inflight: 0,
    });
  });

  it("an unknown route is a 404 with a reason", async () => {
    const r = await req(base, "GET", "/v2/nothing");
    expect(r.status).toBe(404);
    expect(r.json.error.message).toBe("no route GET /v2/nothing");
  });

  it("GET /v1/events streams events as server-sent events, filtered by ?device", async () => {
    const all = await openSse(`${base}/v1/events`);
    const mine = await openSse(`${base}/v1/events?device=watch-9`);
    try {
      await req(base, "POST", "/v1/call", { name: "fx_notify", arguments: { say: "for 8" }, device: "watch-8" });
      await req(base, "POST", "/v1/call", { name: "fx_notify", arguments: { say: "for 9" }, device: "watch-9" });
      const e8 = await all.next((e) => e.event === "note" && JSON.parse(e.data).device === "watch-8");
      expect(JSON.parse(e8.data)).toMatchObject({ device: "watch-8", plugin: "fx-echo", event: { type: "note", say: "for 8", haptic: "tap" } });
      expect(Number(e8.id)).toBeGreaterThan(0);
      await mine.next((e) => e.event === "note");
      await mine.next((e) => e.event === "broadcast" && JSON.parse(e.data).event.say === "all: for 9");
      // watch-9's stream got its own note and the broadcasts, not watch-8's note.
      const notes = mine.events.filter((e) => e.event === "note").map((e) => JSON.parse(e.data).device);
      expect(notes).toEqual(["watch-9"]);
    } finally {
      all.close();
      mine.close();
    }
  });
});

describe("HTTP auth when exposed", () => {
  const token = "s3cret-token-0123456789";

  it("refuses to start on a non-loopback host without a token", async () => {
    const err = await startTestDaemon({ config: { http: { enabled: true, host: "0.0.0.0", port: 0 } } }).catch((e) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toMatch(/config error: http.token: required when http.host \(0.0.0.0\) is not a loopback address/);
  });

  it("with a token, every route needs `Authorization: Bearer <token>`", async () => {
    const t = await startTestDaemon({
      config: { http: { enabled: true, host: "0.0.0.0", port: 0, token }, plugin_dirs: [join(FIXTURE_PLUGINS, "echo")] },
    });
    const base = t.daemon.httpUrl!.replace("0.0.0.0", "127.0.0.1");
    try {
      for (const [method, path, body] of [
        ["GET", "/healthz", undefined],
        ["GET", "/v1/tools", undefined],
        ["POST", "/v1/call", { name: "fx_echo", arguments: { text: "x" } }],
      ] as const) {
        expect((await req(base, method, path, body)).status).toBe(401);
        expect((await req(base, method, path, body, { authorization: "Bearer wrong" })).status).toBe(401);
        expect((await req(base, method, path, body, { authorization: token })).status).toBe(401);
        expect((await req(base, method, path, body, { authorization: `Bearer ${token}` })).status).toBe(200);
      }
      const denied = await fetch(`${base}/v1/events`);
      expect(denied.status).toBe(401);
      await denied.body?.cancel();
      expect(t.lines.json().some((l) => l.msg === "http: unauthorized request")).toBe(true);
    } finally {
      await t.close();
    }
  });

  it("a port in use is a config error naming http.port", async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const err = await startTestDaemon({ config: { http: { enabled: true, host: "127.0.0.1", port } } }).catch((e) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err.message).toContain(`http.port: port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it("knows loopback addresses", () => {
    expect(["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "::ffff:127.0.0.1"].every(isLoopback)).toBe(true);
    expect(["0.0.0.0", "192.168.1.5", "::", "example.com"].some(isLoopback)).toBe(false);
  });
});
