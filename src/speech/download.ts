// A verified, resumable download: bytes go to `<dest>.part`; a later run continues it with an HTTP Range
// request; the whole file's SHA-256 must equal the published one before it is renamed to `dest`.
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rename, stat, unlink } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface Progress {
  received: number;
  total?: number;
  /** Bytes that were already there from an interrupted run. */
  resumedFrom: number;
}

export interface DownloadOptions {
  url: string;
  dest: string;
  sha256: string;
  /** Expected size in bytes, when published (checked too). */
  size?: number;
  onProgress?(p: Progress): void;
  signal?: AbortSignal;
}

export interface DownloadResult {
  path: string;
  bytes: number;
  resumedFrom: number;
  /** The file was already there and verified: nothing was fetched. */
  cached: boolean;
}

export class DownloadError extends Error {
  override name = "DownloadError";
}

export class ChecksumError extends DownloadError {
  override name = "ChecksumError";
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(path), h);
  return h.digest("hex");
}

const sizeOf = (p: string) => stat(p).then((s) => s.size, () => undefined);

export async function downloadVerified(opts: DownloadOptions): Promise<DownloadResult> {
  const want = opts.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(want)) throw new DownloadError(`not a SHA-256 checksum: ${opts.sha256}`);
  const done = await sizeOf(opts.dest);
  if (done !== undefined) {
    if ((await sha256File(opts.dest)) === want) return { path: opts.dest, bytes: done, resumedFrom: done, cached: true };
    await unlink(opts.dest); // a stale or damaged earlier download
  }
  const part = `${opts.dest}.part`;
  let have = (await sizeOf(part)) ?? 0;

  let res = await get(opts, have);
  if (have > 0 && res.status === 416) {
    // Nothing left to send: the part may already be whole.
    await res.body?.cancel();
    return finish(opts, part, want, have, have);
  }
  if (have > 0 && res.status === 200) {
    // The server ignores Range: start over.
    have = 0;
  } else if (have > 0 && res.status === 206) {
    const start = Number(/bytes (\d+)-/.exec(res.headers.get("content-range") ?? "")?.[1]);
    if (start !== have) {
      await res.body?.cancel();
      have = 0;
      await unlink(part).catch(() => {});
      res = await get(opts, 0);
    }
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new DownloadError(`${opts.url} answered HTTP ${res.status} ${res.statusText}`.trim());
  }
  if (!res.body) throw new DownloadError(`${opts.url} sent no body`);
  const length = Number(res.headers.get("content-length"));
  const total = Number.isFinite(length) && length > 0 ? have + length : opts.size;
  let received = have;
  const resumedFrom = have;
  opts.onProgress?.({ received, ...(total ? { total } : {}), resumedFrom });
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      received += chunk.length;
      opts.onProgress?.({ received, ...(total ? { total } : {}), resumedFrom });
      cb(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>),
      counter,
      createWriteStream(part, { flags: have > 0 ? "a" : "w" }),
    );
  } catch (err) {
    throw new DownloadError(
      `the download stopped at ${received} of ${total ?? "?"} bytes (${describe(err)}); run the same command again to resume`,
    );
  }
  return finish(opts, part, want, received, resumedFrom);
}

async function get(opts: DownloadOptions, from: number): Promise<Response> {
  try {
    return await fetch(opts.url, {
      headers: from > 0 ? { range: `bytes=${from}-` } : {},
      redirect: "follow",
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
  } catch (err) {
    throw new DownloadError(`cannot download ${opts.url} (${describe(err)}); check the network and run again`);
  }
}

async function finish(opts: DownloadOptions, part: string, want: string, bytes: number, resumedFrom: number): Promise<DownloadResult> {
  if (opts.size !== undefined && bytes !== opts.size) {
    if (bytes > opts.size) await unlink(part).catch(() => {});
    throw new DownloadError(
      bytes < opts.size
        ? `the download is incomplete (${bytes} of ${opts.size} bytes); run again to resume`
        : `the download is larger than published (${bytes} > ${opts.size} bytes); it was removed`,
    );
  }
  const got = await sha256File(part);
  if (got !== want) {
    await unlink(part).catch(() => {});
    throw new ChecksumError(
      `checksum mismatch for ${opts.url}: expected sha256 ${want}, got ${got}; the file was removed (run again; if it repeats, the download site serves something else)`,
    );
  }
  await rename(part, opts.dest);
  return { path: opts.dest, bytes, resumedFrom, cached: false };
}

function describe(err: unknown): string {
  const e = err as { cause?: { code?: string; message?: string }; code?: string; message?: string };
  return e?.cause?.code ?? e?.cause?.message ?? e?.code ?? e?.message ?? String(err);
}
