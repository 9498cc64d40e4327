// needled voice setup [--dir DIR] [--force] [--keep-zip] [--url URL --sha256 HEX [--size BYTES]] [--config FILE]
// Downloads the small English Vosk model (resumable, checksum-verified), unzips it into voice.model (default
// <state_dir>/voice/vosk-model-small-en-us-0.15) and says what to put in the config when needed.
import { resolve } from "node:path";
import cliProgress from "cli-progress";
import { loadConfig } from "../daemon/config.js";
import { voiceConfig } from "../speech/config.js";
import { DownloadError, type Progress } from "../speech/download.js";
import { SMALL_EN_US, SetupError, setupModel, type ModelSource } from "../speech/setup.js";
import { findLibrary, libraryAdvice } from "../speech/vosk.js";
import { EXIT, UsageError, parse, type Io } from "./common.js";

export const usage = [
  "needled voice setup [--dir DIR] [--force] [--keep-zip] [--config FILE]",
  "                    [--url URL --sha256 HEX [--size BYTES]]   (another model than the small English one)",
  "",
  `Downloads ${SMALL_EN_US.name} (~40 MB), verifies its SHA-256, unzips it into voice.model`,
  "(default <state_dir>/voice/" + SMALL_EN_US.name + "). An interrupted download resumes when run again.",
].join("\n");

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(argv, {
    dir: { type: "string" },
    force: { type: "boolean" },
    "keep-zip": { type: "boolean" },
    url: { type: "string" },
    sha256: { type: "string" },
    size: { type: "string" },
    config: { type: "string" },
  });
  const [sub, ...extra] = positionals;
  if (sub !== "setup" || extra.length > 0) throw new UsageError(`voice takes one subcommand: setup\nusage: ${usage}`);
  if ((values.url === undefined) !== (values.sha256 === undefined)) throw new UsageError("--url and --sha256 go together");
  const size = values.size === undefined ? undefined : Number(values.size);
  if (size !== undefined && (!Number.isInteger(size) || size <= 0)) throw new UsageError(`--size must be a positive number of bytes (got ${values.size})`);

  const config = await loadConfig(values.config !== undefined ? { file: values.config } : {});
  const voice = voiceConfig(config);
  const target = values.dir ? resolve(values.dir) : voice.model;
  const source: ModelSource = values.url
    ? { name: nameFromUrl(values.url), url: values.url, sha256: values.sha256!, ...(size ? { size } : {}) }
    : SMALL_EN_US;

  const progress = progressReporter(io);
  try {
    const r = await setupModel({
      target,
      source,
      force: Boolean(values.force),
      keepZip: Boolean(values["keep-zip"]),
      onProgress: progress.update,
      say: (line) => {
        progress.stop();
        io.err(line);
      },
    });
    progress.stop();
    if (r.alreadyThere) io.out(`the model is already installed in ${r.dir} (--force replaces it)`);
    else io.out(`installed ${source.name} in ${r.dir}${r.downloaded?.resumedFrom ? ` (resumed at ${r.downloaded.resumedFrom} bytes)` : ""}`);
  } catch (err) {
    progress.stop();
    if (err instanceof DownloadError || err instanceof SetupError) {
      io.err(`needled voice setup: ${err.message}`);
      return EXIT.FAILED;
    }
    throw err;
  }
  if (target !== voice.model) io.out(`set it in the config file:\n  voice:\n    model: ${target}`);
  const lib = findLibrary(voice.libvosk);
  if (!lib.found) io.out(`note: ${libraryAdvice(lib, voice.libvosk)}`);
  return EXIT.OK;
}

function nameFromUrl(url: string): string {
  const last = new URL(url).pathname.split("/").pop() ?? "model.zip";
  return last.replace(/\.zip$/i, "") || "model";
}

/** A progress bar on a terminal (cli-progress), a line per 10% otherwise (logs, CI). */
function progressReporter(io: Io): { update(p: Progress): void; stop(): void } {
  const tty = Boolean(process.stderr.isTTY);
  let bar: cliProgress.SingleBar | undefined;
  let lastTenth = -1;
  return {
    update(p) {
      const mb = (n: number) => (n / 1e6).toFixed(1);
      if (tty && p.total) {
        if (!bar) {
          bar = new cliProgress.SingleBar(
            { format: "  {bar} {percentage}% | {done}/{all} MB{resumed}", hideCursor: true, stream: process.stderr },
            cliProgress.Presets.shades_classic,
          );
          bar.start(p.total, p.received, { done: mb(p.received), all: mb(p.total), resumed: p.resumedFrom ? " (resumed)" : "" });
        }
        bar.update(p.received, { done: mb(p.received), all: mb(p.total) });
        return;
      }
      const tenth = p.total ? Math.floor((p.received / p.total) * 10) : Math.floor(p.received / 5e6);
      if (tenth !== lastTenth) {
        lastTenth = tenth;
        io.err(p.total ? `  ${tenth * 10}% (${mb(p.received)} of ${mb(p.total)} MB)${p.resumedFrom && tenth === Math.floor((p.resumedFrom / p.total) * 10) ? " resumed" : ""}` : `  ${mb(p.received)} MB`);
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
