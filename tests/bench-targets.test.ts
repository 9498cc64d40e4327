// The bench's verdict on issue 2's 26M targets (bench/targets.ts): pure arithmetic on one measurement.
import { describe, expect, test } from "vitest";
import { checkTargets, isNeedle26m, targetLine } from "../bench/targets.js";

describe("checkTargets", () => {
  test("turns medians into tok/s and takes the larger of the two peaks", () => {
    const c = checkTargets({ prefill512Ms: 51.2, decodeMs: 0.625, speedPeakRssMB: 138, servePeakRssMB: 145 });
    expect(c.prefill512TokS).toBeCloseTo(10000, 6);
    expect(c.decodeTokS).toBeCloseTo(1600, 6);
    expect(c.peakRssMB).toBe(145);
    expect(c.allMet).toBe(true);
  });

  test("each target fails on its own, at its boundary", () => {
    const base = { prefill512Ms: 512 / 6, decodeMs: 1000 / 1200, speedPeakRssMB: 150, servePeakRssMB: 150 };
    expect(checkTargets(base).allMet).toBe(true); // exactly on every target
    expect(checkTargets({ ...base, prefill512Ms: 512 / 5.99 }).met).toEqual({ prefill: false, decode: true, memory: true });
    expect(checkTargets({ ...base, decodeMs: 1000 / 1199 }).met).toEqual({ prefill: true, decode: false, memory: true });
    expect(checkTargets({ ...base, servePeakRssMB: 150.5 }).met).toEqual({ prefill: true, decode: true, memory: false });
    expect(checkTargets({ ...base, servePeakRssMB: 150.5 }).allMet).toBe(false);
    expect(checkTargets({ ...base, prefill512Ms: undefined }).met.prefill).toBe(false); // not measured is not met
  });

  test("the line names what is not met", () => {
    const line = targetLine("m", checkTargets({ prefill512Ms: 56, decodeMs: 0.7, speedPeakRssMB: 149, servePeakRssMB: 152 }));
    expect(line).toBe("m: prefill 512 9143 tok/s (>= 6000) met, decode 1429 tok/s (>= 1200) met, peak RSS 152 MB (<= 150) NOT met");
  });

  test("only the released Needle's shape is held to them", () => {
    expect(isNeedle26m({ d_model: 512, encoder_layers: 12, decoder_layers: 8, vocab_size: 8192 })).toBe(true);
    expect(isNeedle26m({ d_model: 256, encoder_layers: 6, decoder_layers: 4, vocab_size: 8192 })).toBe(false);
  });
});
