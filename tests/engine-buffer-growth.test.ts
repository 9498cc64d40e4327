// The engine's cross K/V buffer when requests grow: the outgrown buffer must not stay resident beside the new one.
// Runs in a child node with --expose-gc, as the daemon runs (src/cli/node-flags.ts), on a small random model
// (max_encoder_len 1024) that /usr/bin/python3 exports.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { PYTHON } from "./helpers/onnx-reference.js";

const ROOT = join(import.meta.dirname, "..");
const hasTorch = spawnSync(PYTHON, ["-c", "import torch, onnx"], { stdio: "ignore" }).status === 0;
// per encoder token: 4 decoder layers x (k, v) x 2 kv heads x 32 + d_model 128 = 640 floats = 2560 bytes
const SHAPE = { d_model: 128, num_heads: 4, num_kv_heads: 2, head_dim: 32, decoder_layers: 4, max_encoder_len: 1024 };
const BYTES_PER_TOKEN = 2560;

describe.skipIf(!hasTorch)("cross K/V buffer growth (child node --expose-gc)", () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "needle-growth-"));
    const r = spawnSync(PYTHON, [join(ROOT, "training", "export.py"), "--random", "--shape", "tiny", "--config",
      JSON.stringify(SHAPE), "--out", join(dir, "m"), "--quant", "fp32"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Encodes each length in turn (released, as the engine does); arrayBuffers (MB) after each, with no gc() of
   * the script's own: only what the engine collects is gone. */
  function grow(lengths: number[], flags: string[]): number[] {
    const script = `
      import { NeedleOnnxModel } from ${JSON.stringify(join(ROOT, "dist", "src", "engine", "onnx-model.js"))};
      const m = await NeedleOnnxModel.load(${JSON.stringify(join(dir, "m"))}, { requireTokenizer: false });
      const ids = (n) => Array.from({ length: n }, (_, i) => 6 + (i * 37) % 250);
      async function once(n) { m.release(await m.encode(ids(n))); }
      const out = [];
      for (const n of ${JSON.stringify(lengths)}) {
        await once(n);
        out.push(process.memoryUsage().arrayBuffers / 1048576);
      }
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, [...flags, "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout) as number[];
  }

  test("growing 256 -> 768 -> 1024 tokens leaves one buffer, the largest, resident", () => {
    const mb = (tokens: number) => (tokens * BYTES_PER_TOKEN) / 1048576;
    const [, at768, at1024] = grow([200, 600, 1000], ["--expose-gc"]);
    // buffers are sized in steps of 256 tokens: 256, then 768, then 1024
    expect(at768!).toBeGreaterThanOrEqual(mb(768));
    expect(at768!).toBeLessThan(mb(768) + mb(256) / 2);
    expect(at1024!).toBeGreaterThanOrEqual(mb(1024));
    expect(at1024!).toBeLessThan(mb(1024) + mb(256) / 2);
  });

  test("without gc exposed the engine works the same (the outgrown buffers then wait for V8)", () => {
    const [, at768] = grow([200, 600], []);
    expect(at768!).toBeGreaterThanOrEqual((768 * BYTES_PER_TOKEN) / 1048576);
  });
});
