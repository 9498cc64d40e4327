// Tool retrieval: the pure ranking (cosine, top-K in declared order, LRU) and, on real onnxruntime sessions, the
// engine's use of it: exactly K tools in the prompt, tool embeddings cached, the target tool kept for clear
// requests (the trained model; the requests are the built-in tools' own declared examples, not eval sentences).
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NeedleEngine, openEngine } from "../src/engine/index.js";
import { cosine, LruCache, selectTools, topK } from "../src/engine/retrieval.js";
import type { ToolDeclaration } from "../src/engine/types.js";
import { catalogue, trainedModel, type ModelHandle } from "./helpers/needle-models.js";

describe("ranking", () => {
  test("cosine: parallel 1, orthogonal 0, opposite -1; zero vectors and length mismatch give 0", () => {
    expect(cosine([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(cosine([1, 0], [0, 5])).toBe(0);
    expect(cosine([1, 1], [-1, -1])).toBeCloseTo(-1, 12);
    expect(cosine([0, 0], [1, 1])).toBe(0);
    expect(cosine([1, 2], [1, 2, 3])).toBe(0);
    expect(cosine(new Float32Array([0.6, 0.8]), new Float32Array([0.8, 0.6]))).toBeCloseTo(0.96, 6);
  });

  test("topK keeps the k best in declared order; ties go to the earlier tool; NaN ranks last", () => {
    expect(topK([0.1, 0.9, 0.5, 0.7], 2)).toEqual([1, 3]);
    expect(topK([0.5, 0.5, 0.5, 0.9], 2)).toEqual([0, 3]);
    expect(topK([NaN, 0.1, -0.2], 2)).toEqual([1, 2]);
    expect(topK([0.3, 0.2], 5)).toEqual([0, 1]);
    expect(topK([0.3, 0.2], 0)).toEqual([]);
  });

  test("selectTools ranks by cosine to the query", () => {
    const q = [1, 0, 0];
    const tools = [[0, 1, 0], [0.9, 0.1, 0], [0.2, 0, 1], [1, 0, 0]];
    const r = selectTools(q, tools, 2);
    expect(r.kept).toEqual([1, 3]);
    expect(r.scores[3]).toBeCloseTo(1, 12);
  });

  test("LruCache evicts the least recently used and counts hits", () => {
    const c = new LruCache<string, number>(2);
    c.set("a", 1);
    c.set("b", 2);
    expect(c.get("a")).toBe(1); // a is now the most recent
    c.set("c", 3); // evicts b
    expect(c.has("b")).toBe(false);
    expect(c.get("b")).toBeUndefined();
    expect(c.get("c")).toBe(3);
    expect([c.hits, c.misses, c.size]).toEqual([2, 1, 2]);
    expect(() => new LruCache(0)).toThrow(RangeError);
  });
});

const trained = trainedModel();

describe.skipIf("skip" in trained)("retrieval in the engine (real sessions)", () => {
  const model = trained as ModelHandle;
  let engine: NeedleEngine;
  let declared: Awaited<ReturnType<typeof catalogue>>;
  let tools: ToolDeclaration[];
  beforeAll(async () => {
    declared = await catalogue();
    tools = declared.map(({ name, description, parameters }) => ({ name, description, parameters }) as ToolDeclaration);
    engine = await openEngine({ modelDir: model.dir, maxToolsInPrompt: 8, scoreTools: false });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
    model.cleanup();
  });

  test("more tools than K: exactly K in the prompt, in declared order; tool embeddings computed once", async () => {
    expect(tools.length).toBe(18);
    const s0 = engine.stats;
    const first = await engine.predictDetailed("turn on the lights in the kitchen", tools);
    expect(first.details.retrieval).toBe(true);
    expect(first.toolsInPrompt).toHaveLength(8);
    const names = tools.map((t) => t.name);
    const positions = first.toolsInPrompt!.map((n) => names.indexOf(n));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(first.details.retrievalScores).toHaveLength(18);
    const s1 = engine.stats;
    expect(s1.toolEmbeddingsComputed - s0.toolEmbeddingsComputed).toBeLessThanOrEqual(18);
    expect(s1.queryEmbeddings - s0.queryEmbeddings).toBe(1);

    // second call, another query: every tool embedding comes from the cache
    const second = await engine.predictDetailed("set a timer for ten minutes", tools);
    const s2 = engine.stats;
    expect(s2.toolEmbeddingsComputed).toBe(s1.toolEmbeddingsComputed);
    expect(s2.toolEmbeddingHits - s1.toolEmbeddingHits).toBe(18);
    expect(second.toolsInPrompt).toHaveLength(8);

    // the cache is keyed by each tool's JSON: the same tools in another order and another array hit it too
    await engine.predict("set a timer for ten minutes", [...tools].reverse());
    expect(engine.stats.toolEmbeddingsComputed).toBe(s1.toolEmbeddingsComputed);
  });

  test("the retrieval scores decide: the kept tools are the K best by cosine", async () => {
    const p = await engine.predictDetailed("navigate to the central station", tools);
    const scores = p.details.retrievalScores!;
    const kept = new Set(p.toolsInPrompt);
    const worstKept = Math.min(...tools.filter((t) => kept.has(t.name)).map((t) => scores[tools.indexOf(t)]!));
    const bestDropped = Math.max(...tools.filter((t) => !kept.has(t.name)).map((t) => scores[tools.indexOf(t)]!));
    expect(worstKept).toBeGreaterThanOrEqual(bestDropped);
  });

  test("K per call; K >= the declared count means no retrieval", async () => {
    const three = await engine.predictDetailed("set a timer for ten minutes", tools, { maxToolsInPrompt: 3 });
    expect(three.toolsInPrompt).toHaveLength(3);
    const before = engine.stats.queryEmbeddings;
    const all = await engine.predictDetailed("set a timer for ten minutes", tools, { maxToolsInPrompt: 18 });
    expect(all.details.retrieval).toBe(false);
    expect(all.toolsInPrompt).toEqual(tools.map((t) => t.name));
    expect(engine.stats.queryEmbeddings).toBe(before);
  });

  test("scoreTools: every request is scored, also without retrieval; toolSimilarity is the called tool's score", async () => {
    const scoring = await openEngine({ modelDir: model.dir, maxToolsInPrompt: 8, scoreTools: true, warmup: false });
    try {
      const few = tools.filter((t) => ["set_timer", "turn_on", "navigate"].includes(t.name));
      const before = scoring.stats.queryEmbeddings;
      const p = await scoring.predictDetailed("set a timer for ten minutes", few);
      expect(scoring.stats.queryEmbeddings).toBe(before + 1);
      expect(p.details.retrieval).toBe(false);
      expect(p.toolsInPrompt).toEqual(few.map((t) => t.name));
      const scores = p.details.retrievalScores!;
      expect(scores).toHaveLength(3);
      expect(p.calls.map((c) => c.name)).toEqual(["set_timer"]);
      expect(p.toolSimilarity).toBe(scores[few.findIndex((t) => t.name === "set_timer")]);
      // toolSimilarities gives the same scores without predicting; empty text is a clear error
      const direct = await scoring.toolSimilarities("set a timer for ten minutes", few);
      for (const [i, s] of direct.entries()) expect(s).toBeCloseTo(scores[i]!, 6);
      await expect(scoring.toolSimilarities("  ", few)).rejects.toMatchObject({ code: "BAD_INPUT" });
      // the scores are the retrieval head's: the same as when retrieval ranks the whole catalogue
      const all = await scoring.predictDetailed("set a timer for ten minutes", tools);
      for (const [i, t] of few.entries()) expect(scores[i]).toBeCloseTo(all.details.retrievalScores![tools.indexOf(t)]!, 6);
    } finally {
      await scoring.close();
    }
  });

  test("without scoreTools and without retrieval nothing is scored: no toolSimilarity", async () => {
    const few = tools.slice(0, 3);
    const p = await engine.predictDetailed("set a timer for ten minutes", few);
    expect(p.details.retrievalScores).toBeUndefined();
    expect(p.toolSimilarity).toBeUndefined();
  });

  test.skipIf(model.kind !== "default")("the trained model keeps the target tool for its own declared examples", async () => {
    const missed: string[] = [];
    let n = 0;
    for (const tool of declared) {
      for (const example of tool.examples ?? []) {
        n++;
        const p = await engine.predict(example, tools);
        if (!p.toolsInPrompt!.includes(tool.name)) missed.push(`${tool.name}: "${example}" -> ${p.toolsInPrompt!.join(",")}`);
      }
    }
    expect(n).toBeGreaterThan(30);
    expect(missed, missed.join("\n")).toEqual([]);
  });
});
