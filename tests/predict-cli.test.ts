// `needled predict` as a real process (node dist/src/cli.js; `npm test` builds first) on a real model directory.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCli } from "./helpers/daemon.js";
import { catalogue, trainedModel, type ModelHandle } from "./helpers/needle-models.js";

const trained = trainedModel();
const ajv = new Ajv({ strict: false, allowUnionTypes: true });
let dir: string;
let catalogueByName: Map<string, object>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "needled-predict-"));
  catalogueByName = new Map((await catalogue()).map((t) => [t.name, t.parameters as object]));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (!("skip" in trained)) trained.cleanup();
});

const DIM = {
  name: "dimLights",
  description: "Set the brightness of the lights",
  parameters: {
    type: "object",
    properties: { level: { type: "number", minimum: 0.0, maximum: 100.0 }, room: { type: "string" } },
    required: ["level"],
  },
};

function expectCatalogueCalls(calls: Array<{ name: string; arguments: object }>) {
  for (const c of calls) {
    const schema = catalogueByName.get(c.name);
    expect(schema, c.name).toBeDefined();
    expect(ajv.validate(schema!, c.arguments), ajv.errorsText()).toBe(true);
  }
}

describe("needled predict: errors that need no model", () => {
  test("a missing model directory: exit 2, one clear line, no stack trace", async () => {
    const r = await runCli(["predict", "set a timer", "--model", join(dir, "nope")]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/^needled predict: model directory .*nope does not exist/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("a broken model directory: exit 2, one line", async () => {
    const broken = join(dir, "broken");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(broken, { recursive: true });
    writeFileSync(join(broken, "config.json"), JSON.stringify({ format: "needled-model/1" }));
    const r = await runCli(["predict", "set a timer", "--model", broken]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toMatch(/config\.json: architecture is missing/);
  });

  test("usage errors: no text, both text and --batch, a bad --k", async () => {
    expect((await runCli(["predict"])).code).toBe(2);
    expect((await runCli(["predict", "x", "--batch", "f.jsonl"])).code).toBe(2);
    const k = await runCli(["predict", "x", "--k", "0"]);
    expect(k.code).toBe(2);
    expect(k.stderr).toMatch(/--k must be a positive integer/);
    const floor = await runCli(["predict", "x", "--min-confidence", "2"]);
    expect(floor.code).toBe(2);
    expect(floor.stderr).toMatch(/--min-confidence must be a number in \[0, 1\], got "2"/);
    const sim = await runCli(["predict", "x", "--min-tool-similarity", "1.5"]);
    expect(sim.code).toBe(2);
    expect(sim.stderr).toMatch(/--min-tool-similarity must be a number in \[0, 1\], got "1.5"/);
  });
});

describe.skipIf("skip" in trained)("needled predict on a real model", () => {
  const model = () => (trained as ModelHandle).dir;

  test("TEXT with the installed catalogue: {calls, confidence, ms}", async () => {
    const r = await runCli(["predict", "set a timer for 5 minutes", "--model", model(), "--min-confidence", "0"], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // a model with a tool-similarity floor scores the tools on every request, and says how close the called one is
    const decision = (JSON.parse(readFileSync(join(model(), "config.json"), "utf8")) as { decision?: Record<string, unknown> }).decision;
    const scored = typeof decision?.min_tool_similarity === "number" && decision.min_tool_similarity > 0;
    expect(Object.keys(out)).toEqual(scored && out.calls.length > 0 ? ["calls", "confidence", "tool_similarity", "ms"] : ["calls", "confidence", "ms"]);
    expect(out.confidence).toBeGreaterThanOrEqual(0);
    expect(out.confidence).toBeLessThanOrEqual(1);
    expect(out.ms).toBeGreaterThan(0);
    expectCatalogueCalls(out.calls);
  });

  test("--min-confidence: a call below the floor is withheld (calls [], withheld [...]); 0 keeps it", async () => {
    const args = ["predict", "turn on the kitchen lights", "--model", model()];
    const kept = JSON.parse((await runCli([...args, "--min-confidence", "0"], { timeoutMs: 60_000 })).stdout);
    expect(kept.calls.length).toBeGreaterThan(0);
    expect(kept.confidence).toBeLessThan(1);
    const r = await runCli([...args, "--min-confidence", "1"], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ calls: [], confidence: kept.confidence, withheld: kept.calls });
  });

  test("--score-tools prints the called tool's similarity; --min-tool-similarity withholds a single call below it", async () => {
    const args = ["predict", "set a timer for 5 minutes", "--model", model(), "--min-confidence", "0"];
    const kept = JSON.parse((await runCli([...args, "--score-tools", "--min-tool-similarity", "0"], { timeoutMs: 60_000 })).stdout);
    expect(kept.calls.map((c: { name: string }) => c.name)).toEqual(["set_timer"]);
    expect(kept.tool_similarity).toBeGreaterThan(-1);
    expect(kept.tool_similarity).toBeLessThan(1);
    const r = await runCli([...args, "--min-tool-similarity", "1"], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ calls: [], tool_similarity: kept.tool_similarity, withheld: kept.calls });
  });

  test("--tools FILE (lossless numbers, camelCase name) and --verbose", async () => {
    const file = join(dir, "tools.json");
    writeFileSync(file, JSON.stringify([DIM], null, 2));
    const r = await runCli(["predict", "dim the lights to 40 percent", "--tools", file, "--model", model(), "--verbose"],
      { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.toolsInPrompt).toEqual(["dimLights"]);
    expect(out.details.encoderTokens).toBeGreaterThan(10);
    for (const c of out.calls) {
      expect(c.name).toBe("dimLights");
      expect(ajv.validate(DIM.parameters, c.arguments), ajv.errorsText()).toBe(true);
    }
  });

  test("--tools with malformed JSON or a bad declaration: exit 2 with the reason", async () => {
    const bad = join(dir, "bad.json");
    writeFileSync(bad, "[{\"name\": ");
    const r = await runCli(["predict", "x", "--tools", bad, "--model", model()]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.json is not valid JSON/);
    writeFileSync(bad, JSON.stringify([{ name: "t", parameters: { type: "object", properties: { a: { type: "dict2" } } } }]));
    const r2 = await runCli(["predict", "x", "--tools", bad, "--model", model()]);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/unknown type "dict2"/);
    const r3 = await runCli(["predict", "x", "--tools", join(dir, "absent.json"), "--model", model()]);
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/cannot read --tools/);
  });

  test("--batch: one output line per input line, own tools or the catalogue; bad lines answered with an error", async () => {
    const file = join(dir, "batch.jsonl");
    writeFileSync(file, [
      JSON.stringify({ id: "a", query: "set a timer for 5 minutes" }),
      JSON.stringify({ id: 2, query: "dim the lights to 40 percent", tools: [DIM] }),
      "{not json",
      "",
      JSON.stringify({ id: "no-query" }),
      JSON.stringify({ id: "empty", query: "  " }),
      JSON.stringify({ id: "last", query: "turn off the bedroom light" }),
    ].join("\n"));
    const r = await runCli(["predict", "--batch", file, "--model", model(), "--min-tool-similarity", "0"], { timeoutMs: 60_000 });
    expect(r.code).toBe(1); // some lines failed; all were answered
    const lines = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(["a", 2, null, "no-query", "empty", "last"]);
    expect(Object.keys(lines[0]).filter((k) => k !== "tool_similarity")).toEqual(["id", "calls", "confidence", "ms"]);
    expectCatalogueCalls(lines[0].calls);
    expectCatalogueCalls(lines[5].calls);
    for (const c of lines[1].calls) expect(c.name).toBe("dimLights");
    expect(lines[2].error.message).toMatch(/line 3 is not valid JSON/);
    expect(lines[3].error.message).toMatch(/no "query"/);
    expect(lines[4].error).toMatchObject({ code: "BAD_INPUT" });
    for (const l of lines.slice(2, 5)) expect(l.calls).toEqual([]);
    expect(r.stderr).toMatch(/predicted 6 line\(s\).*3 line\(s\) failed/);
  });

  test("--batch - (stdin) with --out FILE: the file gets the lines, exit 0", async () => {
    const out = join(dir, "pred.jsonl");
    const input = `${JSON.stringify({ id: "x", query: "navigate to the airport" })}\n${JSON.stringify({ id: "y", query: "lock the front door" })}\n`;
    const r = await runCli(["predict", "--batch", "-", "--out", out, "--model", model()], { input, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines.map((l) => l.id)).toEqual(["x", "y"]);
  });
});
