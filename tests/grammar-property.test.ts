// Property tests over random schemas (seeded: a failure names its seed and reproduces).
//  - random byte walks under the grammar never hit a dead end and always finish as ajv-valid answers;
//  - random-logit greedy decoding over a synthetic vocabulary (multi-byte, merged punctuation, digits,
//    byte-fallback and partial UTF-8 tokens) yields ajv-valid answers or [] (budget), pickGreedy equals the
//    argmax over the full mask, the mask agrees with byte-by-byte advancing, forced bytes are accepted;
//  - valid instances of the schema (ajv-checked) are accepted (the grammar is not stricter than documented);
//  - bounded numbers: the grammar accepts a decimal exactly when ajv does.
import { describe, expect, it } from "vitest";
import { compileGrammar, ToolGrammar } from "../src/engine/grammar/index.js";
import {
  accepts,
  closingBias,
  enc,
  EOS,
  greedyTokenizer,
  int,
  makeAjv,
  pick,
  randomDecode,
  randomInstance,
  randomLogits,
  randomSchema,
  compilableTools,
  rng,
  syntheticVocabulary,
  validateAnswer,
  valueGrammar,
} from "./grammar-helpers.js";

const fatal = new TextDecoder("utf-8", { fatal: true });
const CLOSERS = [0x22, 0x7d, 0x5d];

describe("grammar properties (random schemas)", () => {
  const ajv = makeAjv();

  it("random byte walks never get stuck and finish as valid answers (400 tool sets)", () => {
    let finished = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const { tools, g } = compilableTools(r, (t) => ToolGrammar.compile(t));
      let s = g.startState();
      const bytes: number[] = [];
      let done = false;
      while (bytes.length < 3000) {
        if (g.canEnd(s)) {
          done = true;
          break;
        }
        const allowed: number[] = [];
        for (let b = 0; b < 256; b++) if (s.step(b) !== null) allowed.push(b);
        if (allowed.length === 0) throw new Error(`seed ${seed}: dead end after ${JSON.stringify(Buffer.from(bytes).toString())}`);
        const closers = allowed.filter((b) => CLOSERS.includes(b));
        const b = closers.length > 0 && r() < 0.5 ? pick(r, closers) : pick(r, allowed);
        bytes.push(b);
        s = s.step(b)!;
      }
      if (!done) continue;
      finished++;
      const text = fatal.decode(Uint8Array.from(bytes));
      const err = validateAnswer(ajv, tools, text);
      if (err) throw new Error(`seed ${seed}: ${err}\nschemas: ${JSON.stringify(tools)}`);
    }
    expect(finished).toBeGreaterThan(350);
  });

  it("a subset of a compiled tool set accepts exactly what compiling those tools accepts (300 tool sets)", () => {
    let walks = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(40_000 + seed);
      const { tools, g: full } = compilableTools(r, (t) => ToolGrammar.compile(t, { maxCalls: 2 }));
      // a random non-empty selection in a random order (the engine's are ascending; the grammar takes any)
      const indices = tools.map((_, i) => i).filter(() => r() < 0.6);
      if (indices.length === 0) indices.push(int(r, 0, tools.length - 1));
      for (let i = indices.length - 1; i > 0; i--) {
        const j = int(r, 0, i);
        [indices[i], indices[j]] = [indices[j]!, indices[i]!];
      }
      const sub = full.subset(indices);
      const direct = ToolGrammar.compile(indices.map((i) => tools[i]!), { maxCalls: 2 });
      // lockstep random walks: at every state both allow the same bytes, both can end at the same points
      for (let w = 0; w < 3; w++) {
        let a = sub.startState();
        let b = direct.startState();
        const text: number[] = [];
        for (let n = 0; n < 600 && !(direct.canEnd(b) && r() < 0.5); n++) {
          expect(sub.canEnd(a), `seed ${seed} after ${Buffer.from(text).toString()}`).toBe(direct.canEnd(b));
          const allowed: number[] = [];
          for (let x = 0; x < 256; x++) {
            const inDirect = b.step(x) !== null;
            if ((a.step(x) !== null) !== inDirect) {
              throw new Error(`seed ${seed}: byte ${x} after ${Buffer.from(text).toString()}: subset and direct differ`);
            }
            if (inDirect) allowed.push(x);
          }
          if (allowed.length === 0) break;
          const closers = allowed.filter((x) => CLOSERS.includes(x));
          const x = closers.length > 0 && r() < 0.5 ? pick(r, closers) : pick(r, allowed);
          text.push(x);
          a = a.step(x)!;
          b = b.step(x)!;
        }
        expect(sub.canEnd(a)).toBe(direct.canEnd(b));
        walks++;
      }
      // a call of a tool outside the subset is refused by the subset, accepted by the whole set
      const out = tools.findIndex((_, i) => !indices.includes(i));
      if (out >= 0) {
        const head = `[{"name":${JSON.stringify(tools[out]!.name)},"arguments":`;
        const clash = indices.some((i) => tools[i]!.name.startsWith(tools[out]!.name));
        if (!clash) expect(full.advanceBytes(full.startState(), enc.encode(head))).not.toBeNull();
        if (!clash) expect(sub.advanceBytes(sub.startState(), enc.encode(head))).toBeNull();
      }
    }
    expect(walks).toBe(900);
  });

  it("a subset names tools of its set, each once", () => {
    const g = ToolGrammar.compile([{ name: "a", schema: { type: "object" } }, { name: "b", schema: { type: "object" } }]);
    expect(() => g.subset([2])).toThrow(/subset \[2\] of 2 tools/);
    expect(() => g.subset([0, 0])).toThrow(/subset/);
    expect(accepts(g.subset([1]), '[{"name":"b","arguments":{}}]')).toBe(true);
    expect(accepts(g.subset([1]), '[{"name":"a","arguments":{}}]')).toBe(false);
    expect(accepts(g.subset([]), "[]")).toBe(true);
  });

  it("valid instances are accepted (closed objects aside, as documented)", () => {
    let checked = 0;
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(10_000 + seed);
      const schema = randomSchema(r, 2);
      const tools = [{ name: "t", schema: { type: "object", properties: { v: schema }, required: ["v"] } }];
      let g: ToolGrammar;
      try {
        g = ToolGrammar.compile(tools);
      } catch (e) {
        expect((e as Error).message).toMatch(/admits no object/);
        continue;
      }
      const validate = ajv.compile(tools[0]!.schema);
      for (let k = 0; k < 10; k++) {
        const v = randomInstance(r, schema);
        if (!validate({ v })) continue;
        checked++;
        const text = `[{"name":"t","arguments":${JSON.stringify({ v })}}]`;
        if (!accepts(g, text)) throw new Error(`seed ${seed}: rejected valid ${text} for ${JSON.stringify(schema)}`);
      }
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("numbers: every prefix up to 4 bytes (3 unbounded) can still be completed (no dead ends), bounded or not", () => {
    const ALPHABET = [..."-0123456789.eE+"].map((c) => c.charCodeAt(0));
    let explored = 0;
    for (let seed = 1; seed <= 60; seed++) {
      const r = rng(25_000 + seed);
      const schema = pick(r, ["integer", "number"]) === "integer" ? { type: "integer" } : { type: "number" };
      if (r() < 0.7) Object.assign(schema, randomSchema(r, 0), { type: schema.type });
      let g: ToolGrammar;
      try {
        g = ToolGrammar.compile([{ name: "t", schema: { type: "object", properties: { v: schema }, required: ["v"] } }]);
      } catch {
        continue;
      }
      const start = g.advanceBytes(g.startState(), enc.encode('[{"name":"t","arguments":{"v":'))!;
      const explore = (s: typeof start, text: string, depth: number): void => {
        explored++;
        let alive = s.step(0x7d) !== null;
        for (const b of ALPHABET) {
          const n = s.step(b);
          if (n === null) continue;
          alive = true;
          if (depth > 0) explore(n, text + String.fromCharCode(b), depth - 1);
        }
        if (!alive) throw new Error(`seed ${seed}: dead end after ${text} in ${JSON.stringify(schema)}`);
      };
      // unbounded numbers branch widely and have no range logic: three bytes are enough for them
      const bounded = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].some((k) => k in schema);
      explore(start, "", bounded ? 4 : 3);
    }
    expect(explored).toBeGreaterThan(5_000);
  });

  it("bounded numbers: accepted exactly when ajv accepts", () => {
    let n = 0;
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(20_000 + seed);
      const integer = r() < 0.4;
      const schema: Record<string, unknown> = { type: integer ? "integer" : "number" };
      const bound = (): number => pick(r, [int(r, -50, 50), Math.round((r() * 40 - 20) * 100) / 100, 0, 0.1, -0.5, 1e-3, 12.345]);
      const lo = bound();
      const hi = lo + Math.abs(bound());
      if (r() < 0.8) schema[r() < 0.4 ? "exclusiveMinimum" : "minimum"] = lo;
      if (r() < 0.8) schema[r() < 0.4 ? "exclusiveMaximum" : "maximum"] = hi;
      const validate = ajv.compile(schema);
      let v: ReturnType<typeof valueGrammar> | null = null;
      try {
        v = valueGrammar(schema);
      } catch (e) {
        expect((e as Error).message).toMatch(/admits no object .*lies in the range/);
      }
      const texts = new Set<string>();
      for (const b of [lo, hi]) for (const d of [0, 0.001, -0.001, 0.01, -0.01, 1, -1, 0.5]) texts.add(String(Math.round((b + d) * 1e6) / 1e6));
      for (let k = 0; k < 20; k++) {
        const neg = r() < 0.4 ? "-" : "";
        const ip = r() < 0.3 ? "0" : String(int(r, 1, 60));
        const fp = r() < 0.5 ? "." + String(int(r, 0, 999)).padStart(int(r, 1, 3), "0") : "";
        texts.add(neg + ip + fp);
      }
      for (const t of texts) {
        // never written by the grammar (documented): exponents and negative zero when bounded, fractions in integers
        if (/e/i.test(t) || /^-0(\.0*)?$/.test(t) || (integer && t.includes("."))) continue;
        const want = validate(JSON.parse(t));
        if (v === null) {
          if (want) throw new Error(`seed ${seed}: ${t} is valid for ${JSON.stringify(schema)}, but the grammar found the range empty`);
          continue;
        }
        if (v.ok(t) !== want) throw new Error(`seed ${seed}: ${t} against ${JSON.stringify(schema)}: grammar ${!want}, ajv ${want}`);
        n++;
      }
    }
    expect(n).toBeGreaterThan(5000);
  });
});

describe("grammar properties (tokens, random logits)", () => {
  const { vocab, pieces } = syntheticVocabulary();
  const encode = greedyTokenizer(pieces);
  const ajv = makeAjv();

  it("step by step: pickGreedy = masked argmax, mask = byte-level advance, forced bytes accepted (150 cases)", () => {
    let steps = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const r = rng(30_000 + seed);
      const { tools, g } = compilableTools(r, (t) => compileGrammar(t, vocab));
      const bias = closingBias(r, pieces, 1 + 3 * r());
      let s = g.startState();
      for (let step = 0; step < 300; step++) {
        const logits = randomLogits(r, bias);
        const ids = g.allowedIds(s);
        expect(ids.length, `seed ${seed}: nothing allowed`).toBeGreaterThan(0);
        // the masked argmax, computed independently: highest logit, lowest id on ties
        let want = -1;
        for (const id of ids) if (want < 0 || logits[id]! > logits[want]!) want = id;
        const got = g.pickGreedy(s, logits)!;
        if (got.token !== want) throw new Error(`seed ${seed} step ${step}: pickGreedy ${got.token} != masked argmax ${want}`);
        // the mask agrees with advancing byte by byte on a sample of tokens
        const inMask = new Set(ids);
        for (let k = 0; k < 40; k++) {
          const id = int(r, 0, vocab.size - 1);
          const byBytes = id !== EOS && pieces[id]!.length > 0 && g.grammar.advanceBytes(s, pieces[id]!) !== null;
          const expected = id === EOS ? g.canEnd(s) : byBytes;
          if (inMask.has(id) !== expected) throw new Error(`seed ${seed} step ${step}: token ${id} mask ${inMask.has(id)} bytes ${expected}`);
          if (id !== EOS && (g.advance(s, id) !== null) !== byBytes) throw new Error(`seed ${seed}: advance fast path differs for ${id}`);
        }
        const forced = g.forcedBytes(s);
        if (forced.length > 0) expect(g.grammar.advanceBytes(s, forced), `seed ${seed}: forced bytes rejected`).not.toBeNull();
        steps++;
        if (got.token === EOS) break;
        s = got.state;
      }
    }
    expect(steps).toBeGreaterThan(3000);
  });

  it("greedy decoding with jump-forward: every answer is valid or [] (600 cases)", async () => {
    const status = { eos: 0, budget: 0, dead: 0 };
    for (let seed = 1; seed <= 600; seed++) {
      const r = rng(40_000 + seed);
      const { tools, g } = compilableTools(r, (t) => compileGrammar(t, vocab));
      const bias = closingBias(r, pieces, 1 + 3 * r());
      const res = await randomDecode(g, r, bias, encode);
      status[res.status]++;
      if (res.status !== "eos") {
        expect(res.calls).toEqual([]);
        continue;
      }
      const text = fatal.decode(Buffer.concat(res.tokens.map((t) => pieces[t]!)));
      const err = validateAnswer(ajv, tools, text);
      if (err) throw new Error(`seed ${seed}: ${err}`);
      expect(res.calls).toEqual(JSON.parse(text));
      expect(res.tokens.length + 2).toBeLessThanOrEqual(512);
    }
    expect(status.dead).toBe(0);
    expect(status.eos).toBeGreaterThan(450);
  });

  it("the budget rule returns [] instead of a truncated call", async () => {
    const note = (minLength: number) =>
      compileGrammar([{ name: "note", schema: { type: "object", properties: { text: { type: "string", minLength } }, required: ["text"] } }], vocab);
    const r = rng(5);
    const bias = closingBias(r, pieces, 0);
    // 20,000 characters cannot fit in 510 tokens of at most maxPieceBytes each: [] at once, not a truncated call
    expect(20_000 / vocab.maxPieceBytes).toBeGreaterThan(512);
    const res = await randomDecode(note(20_000), r, bias, encode);
    expect(res.calls).toEqual([]);
    expect(res.status).toBe("budget");
    const g = note(300);
    const s = g.grammar.advanceBytes(g.startState(), enc.encode('[{"name":"note","arguments":{"text":"'))!;
    expect(g.shouldStop(s, 3)).toBe(true);
    expect(g.shouldStop(s, 400)).toBe(false);
    expect(g.minTokensToFinish(g.grammar.advanceBytes(g.startState(), enc.encode("[]"))!)).toBe(1);
  });
});
