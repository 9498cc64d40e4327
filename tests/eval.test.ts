// `needled eval` as a real process: predict --batch on a small self-written set (catalogue tools, and a line
// with its own tools), then the eval kit's score.py (skipped when ../shared/eval is not beside the repository).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runCli } from "./helpers/daemon.js";
import { evalDir, trainedModel, type ModelHandle } from "./helpers/needle-models.js";

const trained = trainedModel();
const kit = evalDir();
let dir: string;

// Written for this test (not from the dev sets).
const ITEMS = [
  { id: "t1", query: "start a timer for twelve minutes", expected: [{ name: "set_timer", arguments: { duration: "twelve minutes" } }] },
  { id: "t2", query: "switch the porch light off", expected: [{ name: "turn_off", arguments: { target: "porch light" } }] },
  { id: "t3", query: "what is the capital of peru", expected: [] },
  {
    id: "g1",
    query: "convert 3 miles to km",
    tools: [{ name: "convert", description: "Convert a distance", parameters: { type: "object", properties: { miles: { type: "number" } }, required: ["miles"] } }],
    expected: [{ name: "convert", arguments: { miles: 3 } }],
  },
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "needled-eval-"));
  writeFileSync(join(dir, "set.jsonl"), `${ITEMS.map((i) => JSON.stringify(i)).join("\n")}\n`);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  if (!("skip" in trained)) trained.cleanup();
});

describe("needled eval: errors", () => {
  test("no eval file / unreadable file / no scorer: exit 2 with the reason", async () => {
    expect((await runCli(["eval"])).code).toBe(2);
    const missing = await runCli(["eval", join(dir, "absent.jsonl")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read/);
    const noScorer = await runCli(["eval", join(dir, "set.jsonl"), "--scorer", join(dir, "nope.py")]);
    expect(noScorer.code).toBe(2);
    expect(noScorer.stderr).toMatch(/--scorer .*nope\.py: no such file/);
  });

  test.skipIf(!kit)("a missing model directory: exit 2, one line", async () => {
    const r = await runCli(["eval", join(dir, "set.jsonl"), "--model", join(dir, "no-model")], { env: { NEEDLED_EVAL_DIR: kit! } });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^needled eval: model directory .* does not exist$/);
  });
});

describe.skipIf("skip" in trained || !kit)("needled eval on a real model with the eval kit's scorer", () => {
  const model = () => (trained as ModelHandle).dir;

  test("prints the scorer's report; --out keeps the predictions, one per line", async () => {
    const out = join(dir, "pred.jsonl");
    const r = await runCli(["eval", join(dir, "set.jsonl"), "--model", model(), "--out", out], {
      env: { NEEDLED_EVAL_DIR: kit! }, timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/call_accuracy=\d\.\d{4} refusal_accuracy=(\d\.\d{4}|na) n=4/);
    expect(r.stdout).toMatch(/latency_ms/);
    expect(r.stderr).toMatch(/predicted 4 line\(s\)/);
    const preds = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(preds.map((p) => p.id)).toEqual(["t1", "t2", "t3", "g1"]);
    for (const p of preds) {
      expect(Array.isArray(p.calls)).toBe(true);
      expect(p.confidence).toBeGreaterThanOrEqual(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
    }
    for (const c of preds[3].calls) expect(c.name).toBe("convert");
  });

  test("--json: the scorer's JSON summary on stdout; --scorer names it", async () => {
    const r = await runCli(["eval", join(dir, "set.jsonl"), "--model", model(), "--json", "--scorer", join(kit!, "score.py")], {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.n).toBe(4);
    expect(summary).toHaveProperty("call_accuracy");
    expect(summary).toHaveProperty("schema_validity");
  });
});
