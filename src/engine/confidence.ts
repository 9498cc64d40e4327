// The confidence of a prediction: a number in [0, 1] from the probabilities of the tokens the model chose.
//
// Definition. confidence = the minimum, over the decisions the model made while writing the answer, of the
// probability of the chosen token under the model's full softmax (all vocab_size logits, not renormalised over
// the tokens the grammar allows). The decisions are:
//   - the `<tool_call>` token after `[eos]`: the engine feeds it regardless (the grammar starts after it), but a
//     trained Needle always writes it first, so its probability is a check that the model is on familiar ground;
//   - every token picked from the logits under the grammar, the final eos included.
// Not counted: tokens that jump-forward fed without asking the model (the grammar allowed only those bytes),
// and the eos after a complete answer when nothing else was allowed. Their probability says how the model
// would have spelled forced text, not whether it is right.
//
// Why the minimum and the full softmax:
//   - one unsure decision, such as the tool name or the "call or no call" choice (`[{` against `[]`), makes
//     the whole answer unsure; a mean or a product would be diluted or dragged down by the answer's length,
//     while the minimum is the same for a 3-token and a 30-token answer that were equally sure;
//   - when the grammar rejects what the model wanted most, the token it falls back to has a low probability
//     under the full softmax, so a forced correction lowers the confidence (renormalising over the allowed
//     tokens would hide exactly that);
//   - it is cheap: one log-sum-exp over the logits per picked token (decoder I/O 3 models compute it in the
//     graph, so a picked token's probability is exp(its logit - logSumExp) from the step's top-K scores).
// Needle's Python evaluator (training/needle_decode.py) reports the same minimum, so the numbers compare.
// How well it separates right from wrong answers is measured on the dev sets (README, "The engine").

/** log(sum(exp(row))), computed stably; -Infinity for an empty or all -Infinity row, NaN entries skipped. */
export function logSumExp(row: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > max) max = v;
  }
  if (max === -Infinity) return -Infinity;
  if (max === Infinity) return Infinity;
  let sum = 0;
  for (let i = 0; i < row.length; i++) {
    const v = row[i]!;
    if (v > -Infinity) sum += Math.exp(v - max);
  }
  return max + Math.log(sum);
}

/** Probability of `token` under softmax(row), in [0, 1]; 0 for a NaN or -Infinity logit or a degenerate row. */
export function tokenProbability(row: ArrayLike<number>, token: number): number {
  const v = row[token];
  if (v === undefined || !(v > -Infinity)) return 0;
  const lse = logSumExp(row);
  if (!Number.isFinite(lse)) {
    // Infinite logits: the token is certain if it is one of them (shared between them), else impossible.
    if (v !== Infinity) return 0;
    let n = 0;
    for (let i = 0; i < row.length; i++) if (row[i] === Infinity) n++;
    return 1 / n;
  }
  const p = Math.exp(v - lse);
  return p > 1 ? 1 : p;
}

/** A decoder step's top-K scores (decoder I/O 3): the K best ids, their logits and the row's log-sum-exp. */
export interface TopKLike {
  readonly ids: ArrayLike<number>;
  readonly values: ArrayLike<number>;
  readonly logSumExp: number;
}

/**
 * tokenProbability() from top-K scores: exp(logit - logSumExp), in [0, 1]; undefined when the token is not
 * among the K or logSumExp is not finite (then only the whole row can tell).
 */
export function topKProbability(top: TopKLike, token: number): number | undefined {
  if (!Number.isFinite(top.logSumExp)) return undefined;
  for (let j = 0; j < top.ids.length; j++) {
    if (top.ids[j] !== token) continue;
    const v = top.values[j]!;
    if (!(v > -Infinity)) return 0;
    const p = Math.exp(v - top.logSumExp);
    return p > 1 ? 1 : p;
  }
  return undefined;
}

/** Collects the probabilities of the model's decisions for one answer; `value` is the confidence. */
export class Confidence {
  #min = 1;
  #count = 0;
  #sumLog = 0;

  /**
   * Record one decision: `token` chosen from `logits` (the whole row, or top-K scores that hold the token).
   * Returns its probability. Throws when top-K scores cannot give it (the caller needs the whole row).
   */
  observe(logits: ArrayLike<number> | TopKLike, token: number): number {
    let p: number | undefined;
    if ("logSumExp" in logits) {
      p = topKProbability(logits, token);
      if (p === undefined) throw new Error(`confidence: token ${token} is not among the top-K scores`);
    } else p = tokenProbability(logits, token);
    this.observeProbability(p);
    return p;
  }

  observeProbability(p: number): void {
    const q = Number.isNaN(p) ? 0 : Math.min(1, Math.max(0, p));
    if (q < this.#min) this.#min = q;
    this.#count++;
    this.#sumLog += Math.log(Math.max(q, Number.MIN_VALUE));
  }

  /** Decisions recorded. */
  get count(): number {
    return this.#count;
  }

  /** The confidence: the smallest probability recorded (1 when the model made no decision). */
  get value(): number {
    return this.#min;
  }

  /** Geometric mean of the probabilities (for comparison in measurements; not the reported confidence). */
  get geometricMean(): number {
    return this.#count === 0 ? 1 : Math.exp(this.#sumLog / this.#count);
  }
}
