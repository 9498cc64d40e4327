// Greedy decoding from a step's top-K scores (decoder I/O 3) gives the picks of the whole row: pickFromTopK
// either agrees with pickGreedy or says it cannot decide (null), and decodeConstrained fed TopKScores writes the
// same answers, with the same probabilities for the picked tokens, as fed whole rows (seeded random logits over
// the synthetic vocabulary of the grammar tests, ties, -Infinity and NaN logits included).
import { describe, expect, it } from "vitest";
import { logSumExp, tokenProbability, topKProbability } from "../src/engine/confidence.js";
import { compileGrammar, decodeConstrained, type TokenGrammar } from "../src/engine/grammar/index.js";
import { pickFromTopK, type TopKScores } from "../src/engine/grammar/decode.js";
import { closingBias, compilableTools, greedyTokenizer, int, randomLogits, rng, syntheticVocabulary } from "./grammar-helpers.js";

/** The K highest logits of `row` as a runtime's TopK gives them: highest first, equal logits in any order
 * (a random one here), and log-sum-exp NaN when the row holds a NaN (what the I/O 3 graph computes). */
function topK(row: Float32Array, K: number, r: () => number): Omit<TopKScores, "full"> {
  const salt = Array.from(row, () => r());
  const order = Array.from(row.keys()).filter((i) => !Number.isNaN(row[i]!));
  order.sort((a, b) => row[b]! - row[a]! || salt[a]! - salt[b]!);
  const ids = Int32Array.from(order.slice(0, K));
  const values = Float32Array.from(ids, (i) => row[i]!);
  const hasNaN = row.some((v) => Number.isNaN(v));
  return { ids, values, logSumExp: hasNaN ? NaN : logSumExp(row) };
}

/** Random logits with some -Infinity (masked) entries, a NaN now and then, and many ties. */
function roughLogits(r: () => number, bias: Float32Array): Float32Array {
  const row = randomLogits(r, bias);
  const mode = r();
  for (let i = 0; i < row.length; i++) {
    if (mode < 0.2 && r() < 0.3) row[i] = -Infinity;
    else if (mode < 0.35) row[i] = Math.round(row[i]! * 2) / 2; // coarse: long runs of equal logits
  }
  if (r() < 0.03) row[int(r, 0, row.length - 1)] = NaN;
  return row;
}

describe("greedy picks from top-K scores (decoder I/O 3)", () => {
  const { vocab, pieces } = syntheticVocabulary();
  const encode = greedyTokenizer(pieces);
  const Ks = [1, 2, 8, 32, 64];

  it("pickFromTopK is pickGreedy's pick or null, never another token (200 random grammars, ~3500 steps)", () => {
    let steps = 0;
    let decided = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const r = rng(70_000 + seed);
      const { g } = compilableTools(r, (t) => compileGrammar(t, vocab));
      const bias = closingBias(r, pieces, 1 + 3 * r());
      const K = Ks[seed % Ks.length]!;
      let s = g.startState();
      for (let step = 0; step < 60; step++) {
        const row = roughLogits(r, bias);
        const top = topK(row, K, r);
        const want = g.pickGreedy(s, row)!;
        const got = pickFromTopK(g, s, top);
        steps++;
        if (got !== null) {
          decided++;
          if (got.token !== want.token) throw new Error(`seed ${seed} step ${step} K ${K}: top-K pick ${got.token} != pickGreedy ${want.token}`);
          if (!g.canEnd(s)) {
            // the picked token's probability from the K equals the whole row's
            const p = topKProbability(top, got.token);
            expect(p, `seed ${seed} step ${step}`).toBeDefined();
            expect(Math.abs(p! - tokenProbability(row, got.token))).toBeLessThan(1e-6);
          }
        }
        if (Number.isNaN(top.logSumExp)) expect(got === null || g.canEnd(s)).toBe(true);
        if (want.token === vocab.eosId) break;
        s = want.state;
      }
    }
    expect(steps).toBeGreaterThan(3000);
    // both ways are exercised (random logits rarely put an allowed token in the K; a trained model mostly does)
    expect(decided / steps).toBeGreaterThan(0.1);
    expect(decided).toBeLessThan(steps);
  });

  it("an allowed token tied with the K's smallest logit is left to the whole row (a lower id may be outside)", () => {
    const { g } = compilableTools(rng(3), (t) => compileGrammar(t, vocab));
    const s = g.startState();
    const allowed = g.allowedIds(s);
    expect(allowed.length).toBeGreaterThan(1);
    const id = allowed.at(-1)!;
    const row = new Float32Array(vocab.size).fill(0);
    // the K hold only `id` at logit 0, which every other token ties: pickGreedy takes the lowest allowed id
    expect(pickFromTopK(g, s, { ids: Int32Array.of(id), values: Float32Array.of(0), logSumExp: logSumExp(row) })).toBeNull();
    expect(g.pickGreedy(s, row)!.token).toBe(allowed[0]);
    row[id] = 1;
    // K = 1: the only candidate is also the floor, so the K cannot rule out a tie outside them
    expect(pickFromTopK(g, s, { ids: Int32Array.of(id), values: Float32Array.of(1), logSumExp: logSumExp(row) })).toBeNull();
    const two = { ids: Int32Array.of(id, allowed[0]!), values: Float32Array.of(1, 0), logSumExp: logSumExp(row) };
    expect(pickFromTopK(g, s, two)!.token).toBe(id);
    expect(g.pickGreedy(s, row)!.token).toBe(id);
    // NaN or infinite log-sum-exp (a NaN or +Infinity logit in the row): only the whole row can tell
    expect(pickFromTopK(g, s, { ...two, logSumExp: NaN })).toBeNull();
    expect(pickFromTopK(g, s, { ...two, logSumExp: Infinity })).toBeNull();
  });

  it("decodeConstrained on top-K scores = on whole rows: same tokens, calls, status; same pick probabilities (400 cases)", async () => {
    let fetches = 0;
    let picks = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const K = Ks[seed % Ks.length]!;
      const run = async (asTopK: boolean) => {
        // the same rows in both runs: row i depends on the seed and i only
        const r = rng(90_000 + seed);
        const { g } = compilableTools(r, (t) => compileGrammar(t, vocab));
        const bias = closingBias(r, pieces, 1 + 3 * r());
        const rows = () => roughLogits(r, bias);
        const tie = rng(seed);
        let full = 0;
        const wrap = (row: Float32Array) => (asTopK ? { ...topK(row, K, tie), full: async () => (full++, row) } : row);
        const probs: number[] = [];
        const res = await decodeConstrained(g as TokenGrammar, wrap(rows()), () => wrap(rows()), {
          usedPositions: 2, maxPositions: 512, encode,
          onPick: (token, scores, forced) => {
            if (forced) return;
            probs.push(scores instanceof Float32Array ? tokenProbability(scores, token) : topKProbability(scores, token)!);
          },
        });
        return { res, probs, full };
      };
      const a = await run(false);
      const b = await run(true);
      expect(b.res.tokens, `seed ${seed}`).toEqual(a.res.tokens);
      expect(b.res.calls).toEqual(a.res.calls);
      expect(b.res.status).toBe(a.res.status);
      expect(b.res.decoderCalls).toBe(a.res.decoderCalls);
      expect(b.res.fullRowFetches).toBe(b.full);
      expect(a.res.fullRowFetches).toBe(0);
      expect(b.probs.length).toBe(a.probs.length);
      for (let i = 0; i < a.probs.length; i++) expect(Math.abs(b.probs[i]! - a.probs[i]!)).toBeLessThan(1e-6);
      fetches += b.full;
      picks += b.probs.length;
    }
    expect(picks).toBeGreaterThan(2000);
    expect(fetches).toBeGreaterThan(0);
    expect(fetches).toBeLessThan(picks);
  });
});
