// Shared by the ONNX parity tests: the Python reference of the model (training/needle/reference.py, run with
// Debian's python3 and torch), seeded token ids, and the largest elementwise difference.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";

export const PYTHON = "/usr/bin/python3";
const ROOT = join(import.meta.dirname, "..", "..");

/** Runs reference.py on `request` (JSON on stdin) and returns its JSON answer. */
export function pythonReference<T>(request: unknown): T {
  const r = spawnSync(PYTHON, [join(ROOT, "training", "needle", "reference.py")], {
    input: JSON.stringify(request), encoding: "utf8", maxBuffer: 256 << 20,
  });
  if (r.status !== 0) throw new Error(`reference.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Seeded ids in [6, V): no special tokens. */
export function ids(n: number, seed: number, V: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 6 + (s % (V - 6));
  });
}
