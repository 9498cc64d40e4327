// `needled voice setup` against a TEST DOUBLE of the model download site: a local HTTP server serving a
// zip made here (a Vosk-shaped model folder), with HTTP Range support, that can cut a download short or
// ignore Range. Covers the whole download, an interrupted download resumed, a bad checksum refused, and the
// real command in a child process.
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ChecksumError, DownloadError, downloadVerified } from "../src/speech/download.js";
import { setupModel, SMALL_EN_US } from "../src/speech/setup.js";
import { checkModelDir } from "../src/speech/vosk.js";
import { runCli } from "./helpers/daemon.js";

let zip: Buffer;
let sha: string;

beforeAll(() => {
  // A zip shaped like vosk-model-small-en-us-0.15.zip: one top folder holding the model (random payload).
  const dir = mkdtempSync(join(tmpdir(), "needled-zip-"));
  const root = join(dir, "vosk-model-test-0.1");
  for (const d of ["am", "conf", "graph", "ivector"]) mkdirSync(join(root, d), { recursive: true });
  const noise = randomBytes(300_000); // incompressible: the zip stays about this big
  writeFileSync(join(root, "am", "final.mdl"), noise);
  writeFileSync(join(root, "conf", "model.conf"), "--beam=10.0\n");
  writeFileSync(join(root, "conf", "mfcc.conf"), "--sample-frequency=16000\n");
  writeFileSync(join(root, "graph", "Gr.fst"), noise.subarray(0, 50_000));
  writeFileSync(join(root, "README"), "test model\n");
  execFileSync("zip", ["-qr", "model.zip", "vosk-model-test-0.1"], { cwd: dir });
  zip = readFileSync(join(dir, "model.zip"));
  sha = createHash("sha256").update(zip).digest("hex");
});

interface SiteDouble {
  url: string;
  requests: Array<{ range?: string }>;
  /** The next response stops after this many bytes (connection destroyed). */
  cutAfter?: number;
  ignoreRange?: boolean;
  status?: number;
  close(): Promise<void>;
}

/** TEST DOUBLE of the download site. */
async function downloadSite(body: () => Buffer): Promise<SiteDouble> {
  const site: Partial<SiteDouble> = { requests: [] };
  const server: Server = createServer((req, res) => {
    const range = req.headers.range;
    site.requests!.push(range ? { range } : {});
    if (site.status) {
      res.writeHead(site.status).end("nope");
      return;
    }
    const data = body();
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(range ?? "");
    if (m && !site.ignoreRange) {
      start = Number(m[1]);
      if (start >= data.length) {
        res.writeHead(416, { "content-range": `bytes */${data.length}` }).end();
        return;
      }
      res.writeHead(206, { "content-length": data.length - start, "content-range": `bytes ${start}-${data.length - 1}/${data.length}` });
    } else {
      res.writeHead(200, { "content-length": data.length, "accept-ranges": "bytes" });
    }
    const part = data.subarray(start);
    const cut = site.cutAfter;
    if (cut !== undefined) {
      site.cutAfter = undefined;
      res.write(part.subarray(0, cut), () => setTimeout(() => res.destroy(), 20));
      return;
    }
    res.end(part);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  site.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/vosk-model-test-0.1.zip`;
  site.close = () => new Promise((r) => server.close(() => r()));
  return site as SiteDouble;
}

describe("voice setup (download site test double)", () => {
  let site: SiteDouble | undefined;
  afterEach(async () => {
    await site?.close();
    site = undefined;
  });

  it("downloads, verifies and unzips the model into place", async () => {
    site = await downloadSite(() => zip);
    const target = join(mkdtempSync(join(tmpdir(), "needled-setup-")), "voice", "model");
    const progress: number[] = [];
    const r = await setupModel({ target, source: { name: "vosk-model-test-0.1", url: site.url, sha256: sha, size: zip.length }, onProgress: (p) => progress.push(p.received) });
    expect(r).toMatchObject({ dir: target, alreadyThere: false, downloaded: { bytes: zip.length, resumedFrom: 0, cached: false } });
    expect(checkModelDir(target)).toEqual({ ok: true, sampleRate: 16000 });
    expect(readFileSync(join(target, "README"), "utf8")).toBe("test model\n");
    expect(progress.at(-1)).toBe(zip.length);
    expect(existsSync(join(target, "..", "vosk-model-test-0.1.zip"))).toBe(false); // the zip is cleaned up
    // Again: nothing to do.
    const again = await setupModel({ target, source: { name: "x", url: site.url, sha256: sha } });
    expect(again.alreadyThere).toBe(true);
    expect(site.requests).toHaveLength(1);
  });

  it("an interrupted download fails clearly and the next run resumes it with a Range request", async () => {
    site = await downloadSite(() => zip);
    const target = join(mkdtempSync(join(tmpdir(), "needled-setup-")), "model");
    const source = { name: "vosk-model-test-0.1", url: site.url, sha256: sha, size: zip.length };
    expect(zip.length).toBeGreaterThan(300_000);
    site.cutAfter = 100_000;
    const err = await setupModel({ target, source }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/run (the same command )?again to resume/);
    const part = join(target, "..", "vosk-model-test-0.1.zip.part");
    const kept = readFileSync(part).length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(zip.length);

    const r = await setupModel({ target, source });
    expect(site.requests[1]).toEqual({ range: `bytes=${kept}-` });
    expect(r.downloaded).toMatchObject({ resumedFrom: kept, bytes: zip.length });
    expect(checkModelDir(target).ok).toBe(true);
  });

  it("a server that ignores Range gets the file from the start", async () => {
    site = await downloadSite(() => zip);
    const dest = join(mkdtempSync(join(tmpdir(), "needled-dl-")), "m.zip");
    writeFileSync(`${dest}.part`, zip.subarray(0, 5000));
    site.ignoreRange = true;
    const r = await downloadVerified({ url: site.url, dest, sha256: sha });
    expect(r).toMatchObject({ bytes: zip.length, resumedFrom: 0 });
    expect(readFileSync(dest).equals(zip)).toBe(true);
  });

  it("a file with the wrong checksum is refused and removed", async () => {
    const tampered = Buffer.from(zip);
    tampered[1000] ^= 0xff;
    site = await downloadSite(() => tampered);
    const target = join(mkdtempSync(join(tmpdir(), "needled-setup-")), "model");
    const err = await setupModel({ target, source: { name: "vosk-model-test-0.1", url: site.url, sha256: sha } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChecksumError);
    expect((err as Error).message).toMatch(new RegExp(`expected sha256 ${sha}, got [0-9a-f]{64}; the file was removed`));
    expect(existsSync(join(target, "..", "vosk-model-test-0.1.zip.part"))).toBe(false);
    expect(existsSync(join(target, "..", "vosk-model-test-0.1.zip"))).toBe(false);
    expect(existsSync(target)).toBe(false);
  });

  it("HTTP errors and an unreachable site are clear errors", async () => {
    site = await downloadSite(() => zip);
    site.status = 404;
    const dest = join(mkdtempSync(join(tmpdir(), "needled-dl-")), "m.zip");
    await expect(downloadVerified({ url: site.url, dest, sha256: sha })).rejects.toThrow(/answered HTTP 404/);
    const closed = await new Promise<number>((r) => {
      const s = createNetServer().listen(0, "127.0.0.1", () => {
        const port = (s.address() as AddressInfo).port;
        s.close(() => r(port));
      });
    });
    await expect(downloadVerified({ url: `http://127.0.0.1:${closed}/x.zip`, dest, sha256: sha })).rejects.toThrow(/cannot download .*ECONNREFUSED.*run again/);
    await expect(downloadVerified({ url: site.url, dest, sha256: "abc" })).rejects.toThrow(/not a SHA-256 checksum/);
  });

  it("`needled voice setup` runs the whole thing as a command, with progress and a clear result", async () => {
    site = await downloadSite(() => zip);
    const dir = mkdtempSync(join(tmpdir(), "needled-setup-cli-"));
    writeFileSync(join(dir, "config.yaml"), `state_dir: ${join(dir, "state")}\n`);
    const r = await runCli(["voice", "setup", "--config", join(dir, "config.yaml"), "--url", site.url, "--sha256", sha]);
    expect(r.stderr).toMatch(/downloading http:\/\/127\.0\.0\.1/);
    expect(r.stderr).toMatch(/100% \(/);
    expect(r.stderr).toMatch(/sha256 verified/);
    expect(r.stdout).toMatch(/installed vosk-model-test-0\.1 in .*state\/voice\/vosk-model-small-en-us-0\.15/);
    expect(r.code).toBe(0);
    expect(checkModelDir(join(dir, "state", "voice", SMALL_EN_US.name)).ok).toBe(true);

    const bad = await runCli(["voice", "setup", "--config", join(dir, "config.yaml"), "--dir", join(dir, "other"), "--url", site.url, "--sha256", "0".repeat(64)]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/needled voice setup: checksum mismatch/);
    const usage = await runCli(["voice", "setup", "--url", site.url]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--url and --sha256 go together/);
  });

  it("the published model is pinned: URL, size and SHA-256", () => {
    expect(SMALL_EN_US.url).toBe("https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip");
    expect(SMALL_EN_US.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(SMALL_EN_US.size).toBe(41_205_931);
  });
});
