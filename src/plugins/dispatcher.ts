// From a tool call to a reply: look the tool up, validate the arguments against its JSON Schema, run the
// handler under a timeout (its AbortSignal fires) and turn anything that goes wrong into a clear reply.
// A plugin's throw, hang or garbage reply never reaches the caller as an exception.
import type { ErrorObject } from "ajv";
import type { ToolCall } from "../engine/types.js";
import type { CallContext, Logger, Reply } from "./api.js";
import type { Registry, RegisteredTool } from "./registry.js";

export type CallErrorCode =
  | "UNKNOWN_TOOL"
  | "INVALID_ARGUMENTS"
  | "TOOL_ERROR"
  | "HANDLER_ERROR"
  | "TIMEOUT"
  | "BAD_REPLY"
  | "STOPPING";

export interface CallResult {
  ok: boolean;
  name: string;
  /** The arguments as the handler saw them (validated, defaults filled). */
  arguments: Record<string, unknown>;
  say: string;
  data?: Record<string, unknown>;
  error?: { code: CallErrorCode; message: string };
  ms: number;
}

export interface DispatchOptions {
  device: string;
  utterance?: string;
}

export interface DispatcherDeps {
  registry: Registry;
  /** The context for one call of a plugin's tool. */
  callContext: (plugin: string, opts: DispatchOptions & { signal: AbortSignal }) => CallContext;
  defaultTimeoutMs: number;
  log: Logger;
}

export class TimeoutError extends Error {
  override name = "TimeoutError";
}

export class Dispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Validation only: the problems with these arguments, or [] when they are fine. */
  check(call: ToolCall): { tool?: RegisteredTool; args?: Record<string, unknown>; problems: string[] } {
    const tool = this.deps.registry.get(call.name);
    if (!tool) return { problems: [`unknown tool "${call.name}"`] };
    const raw = call.arguments ?? {};
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      return { tool, problems: ["arguments must be a JSON object"] };
    }
    const args = structuredClone(raw);
    if (!tool.validate(args)) return { tool, problems: describeArgumentErrors(tool.validate.errors ?? []) };
    return { tool, args, problems: [] };
  }

  async dispatch(call: ToolCall, opts: DispatchOptions): Promise<CallResult> {
    const t0 = performance.now();
    const done = (r: Omit<CallResult, "ms" | "name">): CallResult => ({
      name: call.name,
      ...r,
      ms: Math.round((performance.now() - t0) * 100) / 100,
    });
    const { tool, args, problems } = this.check(call);
    if (!tool) {
      return done({
        ok: false,
        arguments: call.arguments ?? {},
        say: `Sorry, there is no tool called ${call.name}.`,
        error: { code: "UNKNOWN_TOOL", message: `unknown tool "${call.name}"` },
      });
    }
    if (!args) {
      const message = `invalid arguments for ${call.name}: ${problems.join("; ")}`;
      return done({
        ok: false,
        arguments: call.arguments ?? {},
        say: `Sorry, ${message}.`,
        error: { code: "INVALID_ARGUMENTS", message },
      });
    }

    const timeoutMs = tool.def.timeoutMs ?? this.deps.defaultTimeoutMs;
    const ac = new AbortController();
    const log = this.deps.log;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = new TimeoutError(`${call.name} did not answer within ${timeoutMs} ms`);
        ac.abort(err);
        reject(err);
      }, timeoutMs);
    });
    try {
      const ctx = this.deps.callContext(tool.plugin, { ...opts, signal: ac.signal });
      if (ctx.signal.aborted) {
        return done({
          ok: false,
          arguments: args,
          say: "Sorry, needled is shutting down.",
          error: { code: "STOPPING", message: "the daemon is stopping" },
        });
      }
      const running = Promise.resolve().then(() => tool.def.handler(args, ctx));
      // A handler that rejects after its timeout must not become an unhandled rejection.
      running.catch((err) => {
        if (ac.signal.aborted) log.debug("handler failed after its timeout", { tool: call.name, err: String(err) });
      });
      const reply = await Promise.race([running, timedOut]);
      const bad = checkReply(reply);
      if (bad) {
        log.error("handler returned an invalid reply", { tool: call.name, plugin: tool.plugin, problem: bad });
        return done({
          ok: false,
          arguments: args,
          say: `Sorry, ${call.name} gave an answer I can't use.`,
          error: { code: "BAD_REPLY", message: `${call.name} returned an invalid reply: ${bad}` },
        });
      }
      const r = normalizeReply(reply);
      return done({ ok: true, arguments: args, say: r.say, ...(r.data ? { data: r.data } : {}) });
    } catch (err) {
      if (err instanceof TimeoutError) {
        log.warn("handler timed out", { tool: call.name, plugin: tool.plugin, timeoutMs });
        return done({
          ok: false,
          arguments: args,
          say: `Sorry, ${call.name} did not answer in time.`,
          error: { code: "TIMEOUT", message: err.message },
        });
      }
      if (isToolError(err)) {
        const data = (err as { data?: unknown }).data;
        return done({
          ok: false,
          arguments: args,
          say: err.message,
          ...(isObject(data) ? { data } : {}),
          error: { code: "TOOL_ERROR", message: err.message },
        });
      }
      const message = err instanceof Error ? err.message : String(err);
      log.error("handler threw", {
        tool: call.name,
        plugin: tool.plugin,
        error: message,
        stack: err instanceof Error ? err.stack : undefined,
      });
      return done({
        ok: false,
        arguments: args,
        say: `Sorry, ${call.name} failed: ${message}`,
        error: { code: "HANDLER_ERROR", message: `${call.name} (plugin ${tool.plugin}) threw: ${message}` },
      });
    } finally {
      clearTimeout(timer);
    }
  }
}

/** ToolError by class or by name (a plugin may have its own copy of the API module). */
function isToolError(err: unknown): err is Error {
  return err instanceof Error && err.name === "ToolError";
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkReply(reply: unknown): string | undefined {
  if (typeof reply === "string") return undefined;
  if (!isObject(reply)) return `expected {say, data?}, got ${reply === null ? "null" : typeof reply}`;
  if (typeof reply.say !== "string") return `"say" must be a string`;
  if (reply.data !== undefined && !isObject(reply.data)) return `"data" must be an object`;
  try {
    JSON.stringify(reply);
  } catch (err) {
    return `not JSON-serializable (${(err as Error).message})`;
  }
  return undefined;
}

/** A bare string is accepted as `{say}`. */
function normalizeReply(reply: unknown): Reply {
  return typeof reply === "string" ? { say: reply } : (reply as Reply);
}

/** ajv errors -> `argument: reason` (one per problem). */
export function describeArgumentErrors(errors: ErrorObject[]): string[] {
  const out = errors.map((e) => {
    const path = e.instancePath.split("/").slice(1).join(".");
    const at = (k?: string) => [path, k].filter(Boolean).join(".") || "arguments";
    switch (e.keyword) {
      case "required":
        return `${at(String(e.params.missingProperty))} is required`;
      case "additionalProperties":
        return `${at(String(e.params.additionalProperty))} is not an argument of this tool`;
      case "enum":
        return `${at()} must be one of ${(e.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}`;
      case "type":
        return `${at()} must be ${String(e.params.type).replace(",", " or ")}`;
      default:
        return `${at()} ${e.message ?? "is invalid"}`;
    }
  });
  return [...new Set(out)];
}
