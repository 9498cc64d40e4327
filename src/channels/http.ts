// The local HTTP API (fastify). Loopback by default; a non-loopback host is refused unless http.token is
// set, and then every request must carry `Authorization: Bearer <token>`.
//   POST /v1/say   {text, device?}              -> Answer
//   POST /v1/call  {name, arguments?, device?}  -> Answer
//   GET  /v1/tools                              -> {tools: ToolInfo[]}
//   GET  /healthz                               -> Health
//   GET  /v1/events[?device=ID]                 -> server-sent events (one `data:` JSON EventEnvelope each)
import { timingSafeEqual } from "node:crypto";
import { isIP } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Answer, Core } from "../daemon/core.js";
import { ConfigError } from "../daemon/config.js";
import type { EventBus, EventEnvelope } from "../daemon/events.js";
import type { Logger } from "../plugins/api.js";
import type { Registry } from "../plugins/registry.js";

export interface HttpOptions {
  host: string;
  port: number;
  token?: string;
  core: Core;
  registry: Registry;
  events: EventBus;
  health: () => unknown;
  log: Logger;
  /** SSE keep-alive comment interval. */
  heartbeatMs?: number;
}

export interface HttpChannel {
  /** "http://127.0.0.1:8750" */
  readonly url: string;
  readonly port: number;
  /** Stops taking new requests and ends event streams; resolves when in-flight requests are answered. */
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, "").toLowerCase();
  if (h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1") return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  if (h.startsWith("::ffff:")) return h.slice(7).startsWith("127.");
  return false;
}

/** The HTTP status for an Answer: a reply that says "no" is still a 200; bad requests and failures are not. */
export function statusFor(a: Answer): number {
  switch (a.error?.code) {
    case undefined:
    case "NO_MATCH":
    case "NOT_SURE":
    case "TOOL_ERROR":
    case "NOTHING_TO_CONFIRM":
      return 200;
    case "BAD_INPUT":
    case "INVALID_ARGUMENTS":
      return 400;
    case "UNKNOWN_TOOL":
      return 404;
    case "TIMEOUT":
      return 504;
    case "STOPPING":
    case "ENGINE_UNAVAILABLE":
      return 503;
    default:
      return 500;
  }
}

const sayBody = {
  type: "object",
  required: ["text"],
  additionalProperties: false,
  properties: { text: { type: "string" }, device: { type: "string" } },
} as const;

const callBody = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: { type: "string" }, arguments: { type: "object" }, device: { type: "string" } },
} as const;

export async function startHttp(opts: HttpOptions): Promise<HttpChannel> {
  if (!isLoopback(opts.host) && !opts.token) {
    throw new ConfigError([
      `http.token: required when http.host (${opts.host}) is not a loopback address; ` +
        `set a token of at least 16 characters, or bind http.host to 127.0.0.1`,
    ]);
  }
  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: 64 * 1024,
    // Arguments must arrive as sent: no type coercion, no stripping.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true } },
    return503OnClosing: true,
  });
  const streams = new Set<FastifyReply>();
  const { core, log } = opts;

  if (opts.token) {
    const expected = Buffer.from(`Bearer ${opts.token}`);
    app.addHook("onRequest", async (req, reply) => {
      const got = Buffer.from(req.headers.authorization ?? "");
      if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
        log.warn("http: unauthorized request", { url: req.url, remote: req.ip });
        return reply
          .code(401)
          .header("www-authenticate", 'Bearer realm="needled"')
          .send({ ok: false, say: "Unauthorized.", error: { code: "UNAUTHORIZED", message: "a valid bearer token is required" } });
      }
    });
  }

  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
    if (status >= 500) log.error("http: request failed", { url: req.url, error: err.message });
    const message = err.code === "FST_ERR_CTP_INVALID_JSON" || /JSON/.test(err.message) ? `invalid JSON body: ${err.message}` : err.message;
    await reply.code(status).send({ ok: false, say: `Sorry: ${message}.`, error: { code: status < 500 ? "BAD_INPUT" : "INTERNAL", message } });
  });
  app.setNotFoundHandler(async (req, reply) => {
    await reply.code(404).send({
      ok: false,
      say: "No such endpoint.",
      error: { code: "NOT_FOUND", message: `no route ${req.method} ${req.url.split("?")[0]}` },
    });
  });

  app.post("/v1/say", { schema: { body: sayBody } }, async (req: FastifyRequest<{ Body: { text: string; device?: string } }>, reply) => {
    const answer = await core.say({ text: req.body.text, device: req.body.device ?? "http", source: "http" });
    return reply.code(statusFor(answer)).send(answer);
  });

  app.post(
    "/v1/call",
    { schema: { body: callBody } },
    async (req: FastifyRequest<{ Body: { name: string; arguments?: Record<string, unknown>; device?: string } }>, reply) => {
      const answer = await core.call(req.body.name, req.body.arguments ?? {}, req.body.device ?? "http", "http");
      return reply.code(statusFor(answer)).send(answer);
    },
  );

  app.get("/v1/tools", async () => ({ tools: opts.registry.list() }));
  app.get("/healthz", async () => opts.health());

  app.get("/v1/events", async (req: FastifyRequest<{ Querystring: { device?: string } }>, reply) => {
    const only = req.query.device;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": needled event stream\n\n");
    const send = (e: EventEnvelope) => {
      if (only !== undefined && e.device !== undefined && e.device !== only) return;
      res.write(`id: ${e.id}\nevent: ${e.event.type}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const unsubscribe = opts.events.subscribe(send);
    const beat = setInterval(() => res.write(": keep-alive\n\n"), opts.heartbeatMs ?? 15_000);
    streams.add(reply);
    const end = () => {
      clearInterval(beat);
      unsubscribe();
      streams.delete(reply);
    };
    res.on("close", end);
    res.on("error", end);
  });

  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") {
      throw new ConfigError([`http.port: port ${opts.port} on ${opts.host} is already in use (another needled?); set http.port or --http HOST:PORT`]);
    }
    if (code === "EACCES") throw new ConfigError([`http.port: not allowed to listen on port ${opts.port}`]);
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
      throw new ConfigError([`http.host: cannot listen on ${opts.host} (${code})`]);
    }
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : opts.port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  const url = `http://${host}:${port}`;
  log.info("http api listening", { url, auth: opts.token ? "bearer token" : "none (loopback)" });

  return {
    url,
    port,
    close: async () => {
      for (const s of streams) s.raw.end();
      streams.clear();
      await app.close();
    },
  };
}
