// The state directory: atomic JSON files, corrupt-file recovery, the persistent scheduler, plugin contexts.
import { describe, it, expect, beforeEach, afterEach } from "vitest";
import { mkdtemp, rm, readFile, writeFile, readdir, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FileStore } from "../src/daemon/store.js";
import { PersistentScheduler, MAX_TIMEOUT_MS } from "../src/daemon/scheduler.js";
import { createPluginContext } from "../src/daemon/plugin-context.js";
import { createLogger } from "../src/daemon/log.js";
import type { FiredJob, DeviceEvent } from "../src/plugins/api.js";
import type { StateProblem } from "../src/daemon/state-file.js";
import { LineCollector } from "./helpers/lines.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "needled-state-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function waitFor<T>(get: () => T | undefined, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const tick = () => {
      const v = get();
      if (v !== undefined) return resolve(v);
      if (Date.now() - t0 > ms) return reject(new Error("timed out waiting"));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe("FileStore", () => {
  it("persists values atomically and reads them back after reopening", async () => {
    const path = join(dir, "store.json");
    const s = await FileStore.open(path);
    await s.set("a", { n: 1 });
    await s.set("b", [1, 2, 3]);
    await s.delete("a");
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ b: [1, 2, 3] });
    const again = await FileStore.open(path);
    expect(again.get("b")).toEqual([1, 2, 3]);
    expect(again.keys()).toEqual(["b"]);
    // No temp files are left behind.
    expect((await readdir(dir)).sort()).toEqual(["store.json"]);
  });

  it("keeps every one of many concurrent writes", async () => {
    const path = join(dir, "store.json");
    const s = await FileStore.open(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => s.set(`k${i}`, i)));
    const onDisk = JSON.parse(await readFile(path, "utf8"));
    expect(Object.keys(onDisk)).toHaveLength(50);
    expect(onDisk.k49).toBe(49);
  });

  it("returns copies, so mutating a result does not change the store", async () => {
    const s = await FileStore.open(join(dir, "store.json"));
    await s.set("x", { list: [1] });
    s.get<{ list: number[] }>("x")!.list.push(2);
    expect(s.get("x")).toEqual({ list: [1] });
  });

  it("rejects values that are not JSON", async () => {
    const s = await FileStore.open(join(dir, "store.json"));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(s.set("c", cyclic)).rejects.toThrow(/not JSON-serializable/);
    await expect(s.set("f", () => 1)).rejects.toThrow(/not JSON-serializable/);
  });

  it("moves a corrupt file aside, reports it and starts empty", async () => {
    const path = join(dir, "store.json");
    await writeFile(path, '{"half": ');
    const problems: StateProblem[] = [];
    const lines = new LineCollector();
    const log = createLogger({ level: "info", destination: lines });
    const s = await FileStore.open(path, { log, onProblem: (p) => problems.push(p) });
    expect(s.keys()).toEqual([]);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.reason).toMatch(/not valid JSON/);
    const names = await readdir(dir);
    const aside = names.find((n) => n.startsWith("store.json.corrupt-"));
    expect(aside).toBeDefined();
    expect(await readFile(join(dir, aside!), "utf8")).toBe('{"half": ');
    expect(lines.json().some((l) => l.level === "error" && /corrupt state file/.test(String(l.msg)))).toBe(true);
    // And it is usable.
    await s.set("ok", true);
    expect(JSON.parse(await readFile(path, "utf8"))).toEqual({ ok: true });
  });

  it("treats valid JSON of the wrong shape as corrupt", async () => {
    const path = join(dir, "store.json");
    await writeFile(path, "[1,2]");
    const problems: StateProblem[] = [];
    const s = await FileStore.open(path, { onProblem: (p) => problems.push(p) });
    expect(s.keys()).toEqual([]);
    expect(problems[0]!.reason).toMatch(/not a JSON object/);
  });

  it("removes temp files left by a write that was cut off", async () => {
    const path = join(dir, "store.json");
    await writeFile(join(dir, ".store.json.tmp-123-abcd"), "partial");
    await writeFile(path, '{"a":1}');
    const s = await FileStore.open(path);
    expect(s.get("a")).toBe(1);
    expect(await readdir(dir)).toEqual(["store.json"]);
  });
});

describe("PersistentScheduler", () => {
  const log = createLogger({ level: "silent" });

  it("fires a one-off job at its time and then forgets it", async () => {
    const path = join(dir, "jobs.json");
    const s = await PersistentScheduler.open(path, { log });
    const fired: FiredJob[] = [];
    s.onFire((j) => {
      fired.push(j);
    });
    s.start();
    const at = Date.now() + 150;
    await s.schedule({ id: "t1", at, data: { label: "tea" } });
    expect(s.nextRun("t1")).toBe(at);
    expect(s.list()).toEqual([{ id: "t1", at, data: { label: "tea" } }]);
    const job = await waitFor(() => fired[0]);
    expect(Date.now()).toBeGreaterThanOrEqual(at);
    expect(job).toMatchObject({ id: "t1", late: false, dueAt: at, data: { label: "tea" } });
    await waitFor(() => (s.list().length === 0 ? true : undefined));
    await s.stop();
    expect(JSON.parse(await readFile(path, "utf8")).jobs).toEqual({});
  });

  it("cancels a job so that it never fires", async () => {
    const s = await PersistentScheduler.open(join(dir, "jobs.json"), { log });
    const fired: FiredJob[] = [];
    s.onFire((j) => void fired.push(j));
    s.start();
    await s.schedule({ id: "x", at: Date.now() + 100, data: {} });
    expect(await s.cancel("x")).toBe(true);
    expect(await s.cancel("x")).toBe(false);
    await sleep(250);
    expect(fired).toEqual([]);
    await s.stop();
  });

  it("fires jobs that fell due while it was stopped, once, marked late", async () => {
    const path = join(dir, "jobs.json");
    const a = await PersistentScheduler.open(path, { log });
    a.start();
    const at = Date.now() + 100;
    await a.schedule({ id: "late-one", at, data: { n: 1 } });
    await a.schedule({ id: "later", at: Date.now() + 60_000, data: { n: 2 } });
    await a.stop(); // the "daemon" goes down before it is due
    await sleep(200);

    const b = await PersistentScheduler.open(path, { log });
    const fired: FiredJob[] = [];
    b.onFire((j) => void fired.push(j));
    b.start();
    const job = await waitFor(() => fired[0]);
    expect(job).toMatchObject({ id: "late-one", late: true, dueAt: at, data: { n: 1 } });
    await sleep(100);
    expect(fired).toHaveLength(1);
    expect(b.list().map((j) => j.id)).toEqual(["later"]);
    await b.stop();
  });

  it("holds fired jobs until the plugin registers its handler", async () => {
    const path = join(dir, "jobs.json");
    const a = await PersistentScheduler.open(path, { log });
    await a.schedule({ id: "early", at: Date.now() - 1000, data: {} });
    await a.stop();
    const b = await PersistentScheduler.open(path, { log });
    b.start();
    await sleep(50);
    const fired: FiredJob[] = [];
    b.onFire((j) => void fired.push(j));
    expect(fired.map((j) => [j.id, j.late])).toEqual([["early", true]]);
    await b.stop();
  });

  it("runs cron jobs repeatedly and keeps their next due time", async () => {
    const path = join(dir, "jobs.json");
    const s = await PersistentScheduler.open(path, { log });
    const fired: FiredJob[] = [];
    s.onFire((j) => void fired.push(j));
    s.start();
    await s.schedule({ id: "tick", cron: "* * * * * *", data: { every: "second" } });
    const first = s.nextRun("tick")!;
    expect(first).toBeGreaterThan(Date.now() - 1);
    expect(first - Date.now()).toBeLessThanOrEqual(1000);
    await waitFor(() => (fired.length >= 2 ? true : undefined), 4000);
    expect(fired[0]).toMatchObject({ id: "tick", late: false, cron: "* * * * * *", data: { every: "second" } });
    expect(fired[1]!.dueAt).toBeGreaterThan(fired[0]!.dueAt);
    expect(s.list()).toHaveLength(1); // recurring jobs stay
    await s.stop();
    const onDisk = JSON.parse(await readFile(path, "utf8"));
    expect(onDisk.jobs.tick.due).toBeGreaterThan(fired[1]!.dueAt);
  });

  it("fires a missed cron occurrence once, late, on start", async () => {
    const path = join(dir, "jobs.json");
    // A job whose stored next due time has passed (the daemon was down through it).
    const due = Date.now() - 3_600_000;
    await mkdir(dir, { recursive: true });
    await writeFile(path, JSON.stringify({ jobs: { daily: { id: "daily", cron: "0 7 * * *", data: {}, due } } }));
    const s = await PersistentScheduler.open(path, { log });
    const fired: FiredJob[] = [];
    s.onFire((j) => void fired.push(j));
    s.start();
    await waitFor(() => fired[0]);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ id: "daily", late: true, dueAt: due });
    expect(s.nextRun("daily")!).toBeGreaterThan(Date.now());
    await s.stop();
  });

  it("does not fire a job due beyond 2^31 ms early (setTimeout's limit)", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on("warning", onWarning);
    try {
      const s = await PersistentScheduler.open(join(dir, "jobs.json"), { log });
      const fired: FiredJob[] = [];
      s.onFire((j) => void fired.push(j));
      s.start();
      const at = Date.now() + MAX_TIMEOUT_MS + 60_000; // ~25 days
      await s.schedule({ id: "far", at, data: {} });
      await sleep(300);
      expect(fired).toEqual([]);
      expect(s.nextRun("far")).toBe(at);
      await s.stop();
    } finally {
      process.off("warning", onWarning);
    }
    expect(warnings).not.toContain("TimeoutOverflowWarning");
  });

  it("rejects bad jobs with a clear reason", async () => {
    const s = await PersistentScheduler.open(join(dir, "jobs.json"), { log });
    await expect(s.schedule({ id: "", at: 1, data: {} })).rejects.toThrow(/id must be a non-empty string/);
    await expect(s.schedule({ id: "b", data: {} })).rejects.toThrow(/exactly one of "at"/);
    await expect(s.schedule({ id: "b", at: 1, cron: "* * * * *", data: {} })).rejects.toThrow(/exactly one/);
    await expect(s.schedule({ id: "b", at: Number.NaN, data: {} })).rejects.toThrow(/finite number/);
    await expect(s.schedule({ id: "b", cron: "every day", data: {} })).rejects.toThrow(/invalid cron expression/);
    await expect(s.schedule({ id: "b", cron: "99 * * * *", data: {} })).rejects.toThrow(/invalid cron expression/);
    expect(s.list()).toEqual([]);
  });

  it("survives a handler that throws (the next job still fires)", async () => {
    const s = await PersistentScheduler.open(join(dir, "jobs.json"), { log });
    const fired: string[] = [];
    s.onFire((j) => {
      fired.push(j.id);
      if (j.id === "bad") throw new Error("boom");
    });
    s.start();
    await s.schedule({ id: "bad", at: Date.now() + 20, data: {} });
    await s.schedule({ id: "good", at: Date.now() + 80, data: {} });
    await waitFor(() => (fired.length === 2 ? true : undefined));
    expect(fired).toEqual(["bad", "good"]);
    await waitFor(() => (s.list().length === 0 ? true : undefined));
    await s.stop();
  });

  it("moves a corrupt jobs file aside and starts with no jobs", async () => {
    const path = join(dir, "jobs.json");
    await writeFile(path, JSON.stringify({ jobs: { a: { id: "a", data: {} } } }));
    const problems: StateProblem[] = [];
    const s = await PersistentScheduler.open(path, { log, onProblem: (p) => problems.push(p) });
    expect(s.list()).toEqual([]);
    expect(problems[0]!.reason).toMatch(/malformed/);
    await s.stop();
  });
});

describe("createPluginContext", () => {
  it("gives a plugin a real store, scheduler, config and notify, and per-call contexts", async () => {
    const events: Array<[string | undefined, DeviceEvent]> = [];
    const ctx = await createPluginContext({
      name: "demo",
      stateDir: dir,
      config: { greeting: "hi" },
      notify: (d, e) => events.push([d, e]),
    });
    expect(ctx.config).toEqual({ greeting: "hi" });
    await ctx.store.set("k", 1);
    expect(JSON.parse(await readFile(join(dir, "plugins", "demo", "store.json"), "utf8"))).toEqual({ k: 1 });
    const fired: FiredJob[] = [];
    ctx.scheduler.onFire((j) => {
      fired.push(j);
      ctx.notify("watch", { type: "job", say: `fired ${j.id}` });
    });
    ctx.startScheduler();
    await ctx.scheduler.schedule({ id: "j", at: Date.now() + 30, data: {} });
    await waitFor(() => fired[0]);
    expect(events).toEqual([["watch", { type: "job", say: "fired j" }]]);

    const call = ctx.forCall({ device: "watch", utterance: "hello" });
    expect(call.device).toBe("watch");
    expect(call.utterance).toBe("hello");
    expect(call.store).toBe(ctx.store);
    await expect(call.mqtt.publish("a/b", "x")).rejects.toThrow(/MQTT is not configured/);
    expect(call.signal.aborted).toBe(false);
    await ctx.close();
    expect(ctx.signal.aborted).toBe(true);
    expect(call.signal.aborted).toBe(true);
  });

  it("refuses a plugin name that cannot name a directory", async () => {
    await expect(createPluginContext({ name: "../evil", stateDir: dir })).rejects.toThrow(/plugin name/);
  });
});
