// The data path, straight through:
//   Utterance {text, device, source} -> confirmation answer? -> engine.predict(text, declarations)
//   -> not sure below the confidence or tool-similarity floor -> policy (sensitive tools) -> dispatcher (validate, handler, timeout) -> Answer -> the source.
// Model output is data: a tool name is looked up in the registry, arguments are validated; nothing is eval'd.
import { floorFromExamples, unsureBecause } from "../engine/abstain.js";
import type { Prediction, ToolCall, ToolCaller } from "../engine/types.js";
import type { Logger } from "../plugins/api.js";
import type { CallErrorCode, CallResult, Dispatcher } from "../plugins/dispatcher.js";
import { describeCall, type ConfirmationPolicy } from "../plugins/policy.js";
import type { Registry } from "../plugins/registry.js";

export interface Utterance {
  text: string;
  /** Who said it: a wearable id, "http", "cli", "stdin" ... Replies and events go back to it. */
  device: string;
  /** The channel it came in on: "http", "mqtt", "stdin", "serial" ... */
  source: string;
}

export type AnswerErrorCode =
  | CallErrorCode
  | "BAD_INPUT"
  | "NO_MATCH"
  | "NOT_SURE"
  | "NOTHING_TO_CONFIRM"
  | "ENGINE_UNAVAILABLE"
  | "ENGINE_ERROR";

/** What goes back to the source: the Reply ({say, data}) plus what happened. */
export interface Answer {
  ok: boolean;
  say: string;
  data?: Record<string, unknown>;
  /** The calls that ran (or wait for confirmation). */
  calls?: ToolCall[];
  confidence?: number;
  /** Set when the calls wait for a "yes" from the same device. */
  confirm?: { what: string; expiresAt: string };
  error?: { code: AnswerErrorCode; message: string };
  ms: number;
}

export interface EngineSlot {
  /** The engine when loaded; undefined while loading or after it failed. */
  get(): ToolCaller | undefined;
  /** Why there is none (still loading, model missing ...). */
  problem(): string | undefined;
}

export interface CoreDeps {
  registry: Registry;
  dispatcher: Dispatcher;
  policy: ConfirmationPolicy;
  engine: EngineSlot;
  retrievalK: number;
  /** Calls below this confidence are not run (config model.min_confidence); default: the engine's own
   * recommendation (ToolCaller.minConfidence, src/engine/abstain.ts). */
  minConfidence?: number;
  /** A single call to a tool this far from the text is not run (config model.min_tool_similarity); default:
   * the engine's recommendation (ToolCaller.minToolSimilarity). */
  minToolSimilarity?: number;
  log: Logger;
}

export const DEVICE_ID = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,63}$/;
export const MAX_TEXT = 1000;

export class Core {
  private inflight = 0;
  private idleWaiters: Array<() => void> = [];
  private stopping = false;
  /** Each tool's own similarity floor from its examples, by what it depends on (see toolSimilarityFloor). */
  private readonly exampleFloors = new Map<string, Promise<number>>();

  constructor(private readonly deps: CoreDeps) {}

  get busy(): number {
    return this.inflight;
  }

  /** Text from a device. Never throws: every problem is an Answer with ok=false and a clear `say`. */
  say(u: Utterance): Promise<Answer> {
    return this.track(() => this.handleSay(u));
  }

  /** A direct tool call (HTTP /v1/call, `needled call`): explicit, so no confirmation is asked. */
  call(name: string, args: unknown, device: string, source: string): Promise<Answer> {
    return this.track(async () => {
      const t0 = performance.now();
      const bad = checkDevice(device) ?? (typeof name !== "string" || name === "" ? "name must be a non-empty string" : undefined);
      if (bad) return fail("BAD_INPUT", bad, t0);
      const result = await this.deps.dispatcher.dispatch(
        { name, arguments: (args ?? {}) as Record<string, unknown> },
        { device },
      );
      const answer = combine([result], t0);
      this.logAnswer({ source, device, call: name }, answer);
      return answer;
    });
  }

  /** Stops taking requests; resolves when those in flight are done or after `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.stopping = true;
    if (this.inflight === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const done = await Promise.race([idle, late]);
    clearTimeout(timer);
    return done;
  }

  private async track(run: () => Promise<Answer>): Promise<Answer> {
    if (this.stopping) return fail("STOPPING", "needled is shutting down", performance.now());
    this.inflight++;
    try {
      return await run();
    } catch (err) {
      // A bug of ours; still an answer, never a crash.
      this.deps.log.error("request failed unexpectedly", { error: String(err), stack: (err as Error)?.stack });
      return fail("HANDLER_ERROR", `internal error: ${(err as Error)?.message ?? err}`, performance.now());
    } finally {
      this.inflight--;
      if (this.inflight === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }

  private async handleSay(u: Utterance): Promise<Answer> {
    const t0 = performance.now();
    const bad =
      checkDevice(u.device) ??
      (typeof u.text !== "string" || u.text.trim() === ""
        ? "text must be a non-empty string"
        : u.text.length > MAX_TEXT
          ? `text is too long (${u.text.length} characters, at most ${MAX_TEXT})`
          : undefined);
    if (bad) return fail("BAD_INPUT", bad, t0);
    const text = u.text.trim();
    const { policy, registry, dispatcher, log } = this.deps;

    const outcome = policy.answer(u.device, text);
    switch (outcome.kind) {
      case "confirmed": {
        const results = await this.run(outcome.pending.calls, u.device, outcome.pending.utterance);
        const answer = combine(results, t0);
        this.logAnswer({ ...u, confirmed: outcome.pending.what }, answer);
        return answer;
      }
      case "declined": {
        const answer: Answer = { ok: true, say: `Cancelled: ${outcome.pending.what}.`, calls: [], ms: ms(t0) };
        this.logAnswer({ ...u, declined: outcome.pending.what }, answer);
        return answer;
      }
      case "nothing-to-confirm":
        return fail("NOTHING_TO_CONFIRM", "There is nothing to confirm.", t0, "There is nothing to confirm.");
      case "superseded":
        log.info("pending confirmation cancelled by a new request", { device: u.device, what: outcome.pending.what });
        break;
      case "none":
        break;
    }

    const engine = this.deps.engine.get();
    if (!engine) {
      const why = this.deps.engine.problem() ?? "not loaded";
      return fail("ENGINE_UNAVAILABLE", `the model is not available: ${why}`, t0, "Sorry, my language model is not available.");
    }
    let prediction: Prediction;
    try {
      prediction = await engine.predict(text, registry.declarations(), { maxToolsInPrompt: this.deps.retrievalK });
    } catch (err) {
      log.error("prediction failed", { text, error: String(err) });
      return fail("ENGINE_ERROR", `prediction failed: ${(err as Error)?.message ?? err}`, t0, "Sorry, something went wrong understanding that.");
    }
    const floor = this.deps.minConfidence ?? engine.minConfidence ?? 0;
    const checked = { ...prediction, calls: Array.isArray(prediction.calls) ? prediction.calls : [] };
    let similarityFloor = this.deps.minToolSimilarity ?? engine.minToolSimilarity ?? 0;
    let why = unsureBecause(checked, floor, similarityFloor);
    if (why === "tool-similarity") {
      similarityFloor = await this.toolSimilarityFloor(checked.calls[0]!.name, similarityFloor, engine);
      why = unsureBecause(checked, floor, similarityFloor);
    }
    if (why) {
      const answer: Answer = {
        ok: false,
        say: "Sorry, I'm not sure what you meant.",
        calls: [],
        confidence: prediction.confidence,
        error: {
          code: "NOT_SURE",
          message: why === "tool-similarity"
            ? `the tool's similarity to the request ${prediction.toolSimilarity!.toFixed(3)} is below ${Number(similarityFloor.toFixed(3))}`
            : `confidence ${prediction.confidence.toFixed(3)} is below ${floor}`,
        },
        ms: ms(t0),
      };
      this.logAnswer({ ...u, predictMs: prediction.ms, withheld: checked.calls }, answer);
      return answer;
    }
    const calls = checked.calls;
    if (calls.length === 0) {
      const answer: Answer = {
        ok: false,
        say: "Sorry, I can't help with that.",
        calls: [],
        confidence: prediction.confidence,
        error: { code: "NO_MATCH", message: "no tool serves this request" },
        ms: ms(t0),
      };
      this.logAnswer({ ...u, predictMs: prediction.ms }, answer);
      return answer;
    }

    // Sensitive calls (with valid arguments) wait for a yes unless the model is confident enough.
    const held = calls.filter((c) => {
      const { tool, args } = dispatcher.check(c);
      return tool && args && policy.needsConfirmation(tool.def, args, prediction.confidence);
    });
    if (held.length > 0) {
      const what = held.map((c) => describeCall(registry.get(c.name)?.def, c)).join(" and ");
      const pending = policy.hold(u.device, calls, what, text);
      const answer: Answer = {
        ok: true,
        say: `Say yes to confirm: ${what}`,
        calls,
        confidence: prediction.confidence,
        confirm: { what, expiresAt: new Date(pending.expiresAt).toISOString() },
        ms: ms(t0),
      };
      this.logAnswer({ ...u, predictMs: prediction.ms }, answer);
      return answer;
    }

    const results = await this.run(calls, u.device, text);
    const answer = { ...combine(results, t0), confidence: prediction.confidence };
    this.logAnswer({ ...u, predictMs: prediction.ms }, answer);
    return answer;
  }

  private async run(calls: ToolCall[], device: string, utterance: string): Promise<CallResult[]> {
    const results: CallResult[] = [];
    for (const c of calls) results.push(await this.deps.dispatcher.dispatch(c, { device, utterance }));
    return results;
  }

  /**
   * The similarity floor for one tool: `floor`, lowered below the tool's own declared examples when the model
   * finds one of them farther from the tool than that (floorFromExamples). Computed the first time a call to
   * the tool would be withheld, then kept until the tool, its examples or the floor change.
   */
  private toolSimilarityFloor(name: string, floor: number, engine: ToolCaller): Promise<number> {
    const tool = this.deps.registry.get(name);
    const examples = tool?.def.examples ?? [];
    const decl = this.deps.registry.declarations().find((d) => d.name === name);
    if (!decl || examples.length === 0 || !engine.toolSimilarities) return Promise.resolve(floor);
    const key = JSON.stringify([floor, decl, examples]);
    let known = this.exampleFloors.get(key);
    if (!known) {
      known = (async () => {
        const sims: number[] = [];
        for (const example of examples) sims.push((await engine.toolSimilarities!(example, [decl]))[0]!);
        const own = floorFromExamples(floor, sims);
        if (own < floor) this.deps.log.info("tool similarity floor lowered to fit the tool's examples", { tool: name, floor: own });
        return own;
      })().catch((err: unknown) => {
        this.deps.log.warn("could not score the tool's examples; the model's similarity floor applies", { tool: name, error: String(err) });
        this.exampleFloors.delete(key);
        return floor;
      });
      this.exampleFloors.set(key, known);
    }
    return known;
  }

  private logAnswer(fields: Record<string, unknown>, a: Answer): void {
    this.deps.log.info(a.ok ? "handled" : "not handled", {
      ...fields,
      calls: a.calls,
      confidence: a.confidence,
      say: a.say,
      ...(a.error ? { error: a.error } : {}),
      ms: a.ms,
    });
  }
}

function combine(results: CallResult[], t0: number): Answer {
  const calls = results.map((r) => ({ name: r.name, arguments: r.arguments }));
  if (results.length === 1) {
    const r = results[0]!;
    return {
      ok: r.ok,
      say: r.say,
      ...(r.data ? { data: r.data } : {}),
      calls,
      ...(r.error ? { error: r.error } : {}),
      ms: ms(t0),
    };
  }
  const firstError = results.find((r) => r.error)?.error;
  return {
    ok: results.every((r) => r.ok),
    say: results.map((r) => r.say).join(" "),
    data: { results: results.map((r) => ({ name: r.name, ok: r.ok, say: r.say, ...(r.data ? { data: r.data } : {}) })) },
    calls,
    ...(firstError ? { error: firstError } : {}),
    ms: ms(t0),
  };
}

function fail(code: AnswerErrorCode, message: string, t0: number, say?: string): Answer {
  return { ok: false, say: say ?? `Sorry: ${message}.`, error: { code, message }, ms: ms(t0) };
}

function ms(t0: number): number {
  return Math.round((performance.now() - t0) * 100) / 100;
}

export function checkDevice(device: unknown): string | undefined {
  if (typeof device !== "string" || !DEVICE_ID.test(device)) {
    return `device must match ${DEVICE_ID} (letters, digits, _ . : @ -; no / + #), got ${JSON.stringify(device)}`;
  }
  return undefined;
}
