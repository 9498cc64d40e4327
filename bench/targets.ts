// Issue 2's targets for the 26M Needle shape, checked against one engine-speed measurement (pure: no I/O).
// Peak RSS counts both the speed run (with the uncached reference decode) and the serving run.

export interface ShapeOf {
  d_model: number;
  encoder_layers: number;
  decoder_layers: number;
  vocab_size: number;
}

/** The released Needle's shape (../shared/needle-v1.md): what the targets are stated for. */
export const isNeedle26m = (a: ShapeOf): boolean =>
  a.d_model === 512 && a.encoder_layers === 12 && a.decoder_layers === 8 && a.vocab_size === 8192;

export const TARGETS_26M = { prefill512TokS: 6000, decodeTokS: 1200, peakRssMB: 150 } as const;

export interface TargetInput {
  /** Median time of a 512-token encoder run (ms). */
  prefill512Ms: number | undefined;
  /** Median time of one decoder step (ms). */
  decodeMs: number;
  speedPeakRssMB: number;
  servePeakRssMB: number;
}

export interface TargetCheck {
  prefill512TokS: number | undefined;
  decodeTokS: number;
  peakRssMB: number;
  met: { prefill: boolean; decode: boolean; memory: boolean };
  allMet: boolean;
}

export function checkTargets(m: TargetInput): TargetCheck {
  const prefill512TokS = m.prefill512Ms === undefined ? undefined : (512 * 1000) / m.prefill512Ms;
  const decodeTokS = 1000 / m.decodeMs;
  const peakRssMB = Math.max(m.speedPeakRssMB, m.servePeakRssMB);
  const met = {
    prefill: prefill512TokS !== undefined && prefill512TokS >= TARGETS_26M.prefill512TokS,
    decode: decodeTokS >= TARGETS_26M.decodeTokS,
    memory: peakRssMB <= TARGETS_26M.peakRssMB,
  };
  return { prefill512TokS, decodeTokS, peakRssMB, met, allMet: met.prefill && met.decode && met.memory };
}

/** One line per model, e.g. "NAME: prefill 512 9120 tok/s (>= 6000) met, decode 1656 tok/s (>= 1200) met, peak RSS
 * 152 MB (<= 150) NOT met". */
export function targetLine(name: string, c: TargetCheck): string {
  const say = (ok: boolean) => (ok ? "met" : "NOT met");
  const pf = c.prefill512TokS === undefined ? "-" : c.prefill512TokS.toFixed(0);
  return `${name}: prefill 512 ${pf} tok/s (>= ${TARGETS_26M.prefill512TokS}) ${say(c.met.prefill)}, ` +
    `decode ${c.decodeTokS.toFixed(0)} tok/s (>= ${TARGETS_26M.decodeTokS}) ${say(c.met.decode)}, ` +
    `peak RSS ${c.peakRssMB.toFixed(0)} MB (<= ${TARGETS_26M.peakRssMB}) ${say(c.met.memory)}`;
}
