// Shared bits of the `needled` subcommands: usage errors, talking to a running daemon over HTTP.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { ConfigError, findConfigFile, loadConfig, parseHostPort } from "../daemon/config.js";

/** Exit codes: 0 done, 1 failed (daemon unreachable, tool said no), 2 usage or config error. */
export const EXIT = { OK: 0, FAILED: 1, USAGE: 2 } as const;

export class UsageError extends Error {
  override name = "UsageError";
}

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const stdio: Io = {
  out: (s) => process.stdout.write(s.endsWith("\n") ? s : `${s}\n`),
  err: (s) => process.stderr.write(s.endsWith("\n") ? s : `${s}\n`),
};

export function parse<T extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export interface Endpoint {
  base: string;
  token?: string;
}

/** The daemon to talk to: --http, else the config file's http section, else 127.0.0.1:8750. */
export async function endpoint(opts: { http?: string; config?: string; token?: string }): Promise<Endpoint> {
  const token = opts.token ?? process.env.NEEDLED_TOKEN;
  if (opts.http) {
    const { host, port } = parseHostPort(opts.http, "--http");
    return { base: url(host ?? "127.0.0.1", port), ...(token ? { token } : {}) };
  }
  const file = findConfigFile(opts.config);
  if (file) {
    const cfg = await loadConfig({ file });
    const host = ["0.0.0.0", "::", "[::]"].includes(cfg.http.host) ? "127.0.0.1" : cfg.http.host;
    const t = token ?? cfg.http.token;
    return { base: url(host, cfg.http.port), ...(t ? { token: t } : {}) };
  }
  return { base: url("127.0.0.1", 8750), ...(token ? { token } : {}) };
}

function url(host: string, port: number): string {
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
}

export class DaemonUnreachable extends Error {
  override name = "DaemonUnreachable";
}

/** JSON request to the daemon; network failures become DaemonUnreachable with a hint. */
export async function request(ep: Endpoint, method: "GET" | "POST", path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${ep.base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
        ...(ep.token ? { authorization: `Bearer ${ep.token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new DaemonUnreachable(`cannot reach needled at ${ep.base} (${why}); is it running? (needled start)`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { say: text };
  }
  return { status: res.status, json };
}

export { ConfigError };
