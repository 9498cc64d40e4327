// The engine end to end on real onnxruntime sessions: openEngine + predict on the trained model (models/default,
// or until it exists a model exported from the training checkpoint), bad inputs, concurrency and abort, and the
// paths a trained model rarely takes (first token not <tool_call>, an answer that runs out of decoder positions)
// on a small random-weight model.
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Ajv } from "ajv";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { NeedleEngine, openEngine } from "../src/engine/index.js";
import { MAX_TEXT_CHARS } from "../src/engine/query-text.js";
import { EngineError, type ToolDeclaration } from "../src/engine/types.js";
import { catalogue, randomModel, trainedModel, type ModelHandle } from "./helpers/needle-models.js";

const trained = trainedModel();
const random = randomModel();
afterAll(() => {
  for (const m of [trained, random]) if (!("skip" in m)) m.cleanup();
});
const ajv = new Ajv({ strict: false, validateFormats: false, allowUnionTypes: true });

async function engineError(p: Promise<unknown>): Promise<EngineError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(EngineError);
    return err as EngineError;
  }
  throw new Error("expected an EngineError");
}

function expectValid(calls: Array<{ name: string; arguments: Record<string, unknown> }>, tools: ToolDeclaration[]) {
  for (const c of calls) {
    const tool = tools.find((t) => t.name === c.name);
    expect(tool, `${c.name} is declared`).toBeDefined();
    const ok = ajv.validate((tool!.parameters ?? {}) as object, c.arguments);
    expect(ok, `${JSON.stringify(c)}: ${ajv.errorsText()}`).toBe(true);
  }
}

const TIMER: ToolDeclaration = {
  name: "set_timer",
  description: "Start a countdown timer",
  parameters: { type: "object", properties: { duration: { type: "string" } }, required: ["duration"] },
};

describe.skipIf("skip" in trained)("predict on the trained model", () => {
  const model = trained as ModelHandle;
  let engine: NeedleEngine;
  let tools: ToolDeclaration[];
  beforeAll(async () => {
    tools = (await catalogue()).map(({ name, description, parameters }) => ({ name, description, parameters }) as ToolDeclaration);
    engine = await openEngine({ modelDir: model.dir });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
  });

  test("the whole catalogue declared: valid calls, confidence in [0,1], K tools in the prompt", async () => {
    for (const text of ["set a timer for 5 minutes", "turn off the kitchen lights", "tell me a joke about penguins"]) {
      const p = await engine.predictDetailed(text, tools);
      expect(Array.isArray(p.calls)).toBe(true);
      expectValid(p.calls, tools);
      expect(p.confidence).toBeGreaterThanOrEqual(0);
      expect(p.confidence).toBeLessThanOrEqual(1);
      expect(p.ms).toBeGreaterThan(0);
      expect(p.toolsInPrompt).toHaveLength(8);
      expect(p.details.retrieval).toBe(true);
      expect(p.details.encoderTokens).toBeLessThanOrEqual(1024);
      if (p.details.status === "eos") expect(p.confidence).toBe(Math.min(...p.details.decisions));
      for (const c of p.calls) expect(p.toolsInPrompt).toContain(c.name);
    }
  });

  test("string values are spans of what was said (enums aside); spanValues: false lifts that", async () => {
    const texts = ["walk me to the Old Harbour", "remind me to water the ferns tonight", "set a pasta timer for 8 minutes",
      "dim the bedroom lamp to 30 percent", "activate movie night", "how long to cycle to grandma's house"];
    let strings = 0;
    for (const text of texts) {
      const p = await engine.predict(text, tools);
      expectValid(p.calls, tools);
      for (const c of p.calls) {
        const props = (tools.find((t) => t.name === c.name)!.parameters as { properties: Record<string, { enum?: unknown[] }> }).properties;
        for (const [k, v] of Object.entries(c.arguments)) {
          if (typeof v !== "string" || props[k]?.enum) continue;
          strings++;
          expect(text.toLowerCase(), `${c.name}.${k}`).toContain(v.toLowerCase());
        }
      }
    }
    expect(strings).toBeGreaterThan(3);
    const free = await openEngine({ modelDir: model.dir, spanValues: false });
    try {
      expect(free.spanValues).toBe(false);
      expectValid((await free.predict(texts[0]!, tools)).calls, tools);
    } finally {
      await free.close();
    }
  });

  // Model quality is measured by `npm run eval`, not here: this only checks that a plain request goes end to end
  // to the right tool with a string argument (the argument's value is the model's to get right).
  test.skipIf(model.kind !== "default")("the trained model answers a plain timer request with set_timer", async () => {
    const p = await engine.predict("set a timer for 5 minutes", tools);
    expect(p.calls).toHaveLength(1);
    expect(p.calls[0]!.name).toBe("set_timer");
    expect(typeof p.calls[0]!.arguments.duration).toBe("string");
    expect(p.confidence).toBeGreaterThan(0);
  });

  test("a single declared tool: no retrieval, answer valid for it", async () => {
    const p = await engine.predictDetailed("set a timer for 10 minutes", [TIMER]);
    expect(p.details.retrieval).toBe(false);
    expect(p.toolsInPrompt).toEqual(["set_timer"]);
    expectValid(p.calls, [TIMER]);
  });

  test("declared names that are not snake_case come back as declared", async () => {
    const camel: ToolDeclaration = { ...TIMER, name: "SetTimer" };
    const p = await engine.predictDetailed("set a timer for 10 minutes", [camel]);
    expect(p.toolsInPrompt).toEqual(["SetTimer"]);
    for (const c of p.calls) expect(c.name).toBe("SetTimer");
  });

  test("Needle v1 flat parameters are accepted", async () => {
    const flat: ToolDeclaration = {
      name: "set_timer",
      description: "Start a countdown timer",
      parameters: { duration: { type: "string", description: "how long", required: true } },
    };
    const p = await engine.predict("set a timer for 10 minutes", [flat]);
    for (const c of p.calls) expect(typeof c.arguments.duration).toBe("string");
  });

  test("no tools declared: [] without running the model", async () => {
    const p = await engine.predictDetailed("set a timer for 10 minutes", []);
    expect(p.calls).toEqual([]);
    expect(p.details.status).toBe("no-tools");
  });

  test("empty or blank text is BAD_INPUT with a clear message", async () => {
    for (const text of ["", "   ", "\n\t "]) {
      const e = await engineError(engine.predict(text, tools));
      expect(e.code).toBe("BAD_INPUT");
      expect(e.message).toMatch(/text is empty/);
    }
    expect((await engineError(engine.predict(42 as unknown as string, tools))).code).toBe("BAD_INPUT");
  });

  test("a 100 kB text is cut to the query limit and answered", async () => {
    const text = "please set a timer for five minutes because the pasta needs it ".repeat(1600);
    expect(text.length).toBeGreaterThan(100_000);
    const p = await engine.predictDetailed(text, tools);
    expect(p.details.truncated.query).toBe(true);
    expect(p.details.encoderTokens).toBeLessThanOrEqual(1024);
    expectValid(p.calls, tools);
    // a 100 kB text without a single space is tokenized whole and answered too
    const dense = await engine.predictDetailed("x".repeat(100_000), [TIMER]);
    expect(dense.details.truncated.query).toBe(true);
    expectValid(dense.calls, [TIMER]);
  });

  test("text over the length limit is BAD_INPUT", async () => {
    const e = await engineError(engine.predict("a ".repeat(MAX_TEXT_CHARS), tools));
    expect(e.code).toBe("BAD_INPUT");
    expect(e.message).toMatch(/characters long/);
  });

  test("malformed tool declarations are BAD_TOOLS naming the problem", async () => {
    const cases: Array<[unknown, RegExp]> = [
      ["not a list", /tools must be an array/],
      [[{ description: "no name" }], /has no name/],
      [[{ name: "t", parameters: 5 }], /parameters/],
      [[{ name: "t", parameters: { type: "object", properties: { a: { type: "dict2" } } } }], /unknown type "dict2"/],
      [[TIMER, TIMER], /declared twice/],
      [[{ name: "t", parameters: { type: "object", properties: { a: { type: "integer", minimum: 5, maximum: 1 } }, required: ["a"] } }], /t/],
    ];
    for (const [decl, message] of cases) {
      const e = await engineError(engine.predict("set a timer", decl as ToolDeclaration[]));
      expect(e.code, String(message)).toBe("BAD_TOOLS");
      expect(e.message).toMatch(message);
    }
  });

  test("huge tool declarations are BAD_TOOLS", async () => {
    const many = Array.from({ length: 300 }, (_, i) => ({ ...TIMER, name: `tool_${i}` }));
    expect((await engineError(engine.predict("set a timer", many))).message).toMatch(/too many tools/);
    const big = [{ ...TIMER, description: "x".repeat(1_100_000) }];
    expect((await engineError(engine.predict("set a timer", big))).message).toMatch(/too large/);
  });

  test("unknown schema keywords are ignored", async () => {
    const odd: ToolDeclaration = {
      name: "set_timer",
      description: "Start a countdown timer",
      "x-vendor": { anything: true },
      parameters: {
        type: "object",
        $comment: "not for the model",
        properties: { duration: { type: "string", "x-unit": "spoken", examples: ["5 minutes"], deprecated: false } },
        required: ["duration"],
        "x-strange": [1, 2, 3],
      },
    } as ToolDeclaration;
    const p = await engine.predict("set a timer for 10 minutes", [odd]);
    for (const c of p.calls) expect(typeof c.arguments.duration).toBe("string");
  });

  test("a bad K is BAD_INPUT", async () => {
    for (const k of [0, -1, 2.5]) {
      expect((await engineError(engine.predict("set a timer", tools, { maxToolsInPrompt: k }))).code).toBe("BAD_INPUT");
    }
  });

  test("the same tool set in a new array is a cache hit (content key); a changed one is not", async () => {
    await engine.predict("set a timer for 3 minutes", tools);
    const before = engine.stats;
    await engine.predict("set a timer for 3 minutes", structuredClone(tools));
    const after = engine.stats;
    expect(after.toolSetHits).toBe(before.toolSetHits + 1);
    expect(after.toolSetMisses).toBe(before.toolSetMisses);
    const changed = structuredClone(tools);
    changed[0]!.description = "something else";
    await engine.predict("set a timer for 3 minutes", changed);
    expect(engine.stats.toolSetMisses).toBe(after.toolSetMisses + 1);
  });

  test("calls are serialised: concurrent predictions equal sequential ones and finish in order", async () => {
    const texts = ["turn on the lights in the hall", "set a timer for 2 minutes", "navigate to the airport"];
    const sequential = [];
    for (const t of texts) sequential.push((await engine.predict(t, tools)).calls);
    const order: number[] = [];
    const parallel = await Promise.all(texts.map((t, i) => engine.predict(t, tools).then((p) => (order.push(i), p.calls))));
    expect(parallel).toEqual(sequential);
    expect(order).toEqual([0, 1, 2]);
  });

  test("abort: before the start, while queued and while decoding; the engine keeps working", async () => {
    const pre = AbortSignal.abort();
    expect((await engineError(engine.predict("set a timer", tools, { signal: pre }))).code).toBe("ABORTED");

    const first = engine.predict("set a timer for 4 minutes", tools);
    const ctl = new AbortController();
    const queued = engine.predict("set a timer for 5 minutes", tools, { signal: ctl.signal });
    ctl.abort();
    expect((await engineError(queued)).code).toBe("ABORTED");
    expectValid((await first).calls, tools);

    const mid = new AbortController();
    const running = engine.predict("set a timer for 6 minutes", tools, { signal: mid.signal });
    setTimeout(() => mid.abort(new Error("client went away")), 1);
    const outcome = await running.then(() => "finished", (err: EngineError) => err.code);
    expect(["finished", "ABORTED"]).toContain(outcome);
    const after = await engine.predict("set a timer for 7 minutes", tools);
    expectValid(after.calls, tools);
  });
});

describe.skipIf("skip" in random)("paths a trained model rarely takes (small random-weight model)", () => {
  const model = random as ModelHandle;
  let engine: NeedleEngine;
  // free strings: a random model's endless string is what runs into the decoder's budget
  beforeAll(async () => {
    engine = await openEngine({ modelDir: model.dir, spanValues: false });
  }, 120_000);
  afterAll(async () => {
    await engine?.close();
  });

  test("first choice not <tool_call>: fed regardless; an answer that does not fit the decoder is [] with confidence 0", async () => {
    const p = await engine.predictDetailed("set a timer for 5 minutes", [TIMER]);
    expect(p.details.firstTokenWasToolCall).toBe(false);
    expect(p.details.decisions[0]!).toBeLessThan(0.5); // p(<tool_call>) counts in the confidence
    expect(p.details.status).toBe("budget");
    expect(p.calls).toEqual([]);
    expect(p.confidence).toBe(0);
    expect(p.details.answerTokens).toBeLessThanOrEqual(62);
  });

  test("an answer that breaks a keyword the grammar does not enforce (pattern) becomes []", async () => {
    // the grammar can only write "a" or "b"; the pattern accepts neither, so any call fails the final ajv check
    const strict: ToolDeclaration = {
      name: "set_code",
      parameters: { type: "object", properties: { code: { type: "string", enum: ["a", "b"], pattern: "^c$" } }, required: ["code"] },
    };
    let withCall = 0;
    for (const text of ["the code is 1234", "set the code", "hello"]) {
      const p = await engine.predictDetailed(text, [strict]);
      expect(p.calls).toEqual([]);
      if (p.details.answer === "[]") continue;
      withCall++;
      expect(p.details.answer).toMatch(/^\[\{"name":"set_code","arguments":\{"code":"[ab]"\}\}\]$/);
      expect(p.details.status).toBe("invalid");
      expect(p.confidence).toBe(0);
    }
    expect(withCall).toBeGreaterThan(0); // the random weights (seed 0) do write calls here
  });

  test("close waits for the request in flight, then predictions fail", async () => {
    const e = await openEngine({ modelDir: model.dir, spanValues: false });
    const inFlight = e.predict("set a timer", [TIMER]);
    await e.close();
    await expect(inFlight).resolves.toMatchObject({ calls: [] });
    expect((await engineError(e.predict("set a timer", [TIMER]))).message).toMatch(/closed/);
  });
});

describe("a missing or broken model directory", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "needle-broken-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("missing directory: MODEL_MISSING", async () => {
    const e = await engineError(openEngine({ modelDir: join(dir, "nope") }));
    expect(e.code).toBe("MODEL_MISSING");
    expect(e.message).toMatch(/does not exist/);
  });

  test("no config.json: MODEL_MISSING; config.json not JSON: MODEL_INVALID", async () => {
    expect((await engineError(openEngine({ modelDir: dir }))).code).toBe("MODEL_MISSING");
    writeFileSync(join(dir, "config.json"), "{not json");
    const e = await engineError(openEngine({ modelDir: dir }));
    expect(e.code).toBe("MODEL_INVALID");
    expect(e.message).toMatch(/config\.json: not valid JSON/);
  });

  test.skipIf("skip" in random)("a graph that is not ONNX, a tokenizer of another size: MODEL_INVALID", async () => {
    const src = (random as ModelHandle).dir;
    const copy = join(dir, "copy");
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(copy);
    for (const f of readdirSync(src)) copyFileSync(join(src, f), join(copy, f));
    writeFileSync(join(copy, "decoder.onnx"), "garbage");
    const e = await engineError(openEngine({ modelDir: copy }));
    expect(e.code).toBe("MODEL_INVALID");
    expect(e.message).toMatch(/decoder/);

    copyFileSync(join(src, "decoder.onnx"), join(copy, "decoder.onnx"));
    copyFileSync(join(import.meta.dirname, "fixtures", "tokenizer", "bpe-1k.model"), join(copy, "tokenizer.model"));
    const t = await engineError(openEngine({ modelDir: copy }));
    expect(t.code).toBe("MODEL_INVALID");
    expect(t.message).toMatch(/tokenizer\.model/);
  });
});
