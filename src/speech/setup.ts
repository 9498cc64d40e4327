// `needled voice setup`: download the small English Vosk model, verify it, unzip it, put it in place.
import { existsSync } from "node:fs";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import extract from "extract-zip";
import { downloadVerified, type Progress } from "./download.js";
import { checkModelDir } from "./vosk.js";

export interface ModelSource {
  name: string;
  url: string;
  sha256: string;
  size?: number;
}

/**
 * vosk-model-small-en-us-0.15 (Apache-2.0, about 40 MB), from the Vosk models page. The SHA-256 is the one
 * the distributions pin for this file (the Yocto meta-vosk recipe, the Homebrew and AUR packages), and the
 * size is the published Content-Length.
 */
export const SMALL_EN_US: ModelSource = {
  name: "vosk-model-small-en-us-0.15",
  url: "https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
  sha256: "30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
  size: 41_205_931,
};

export interface SetupOptions {
  /** Where the model goes (the model directory itself). */
  target: string;
  source?: ModelSource;
  /** Replace a model that is already there. */
  force?: boolean;
  /** Keep the verified zip next to the model. */
  keepZip?: boolean;
  onProgress?(p: Progress): void;
  say?(line: string): void;
}

export interface SetupResult {
  dir: string;
  alreadyThere: boolean;
  downloaded?: { bytes: number; resumedFrom: number; cached: boolean };
}

export class SetupError extends Error {
  override name = "SetupError";
}

export async function setupModel(opts: SetupOptions): Promise<SetupResult> {
  const src = opts.source ?? SMALL_EN_US;
  const say = opts.say ?? (() => {});
  const target = opts.target;
  if (!opts.force && checkModelDir(target).ok) return { dir: target, alreadyThere: true };

  const parent = dirname(target);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw new SetupError(`cannot create ${parent} (${(err as NodeJS.ErrnoException).code ?? err}); choose another place with --dir`);
  }
  const zip = join(parent, `${src.name}.zip`);
  say(`downloading ${src.url}`);
  const dl = await downloadVerified({
    url: src.url,
    dest: zip,
    sha256: src.sha256,
    ...(src.size !== undefined ? { size: src.size } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  say(`${dl.cached ? "found" : "downloaded"} ${basename(zip)} (${dl.bytes} bytes), sha256 verified`);

  const tmp = join(parent, `.${basename(target)}.unzip-${process.pid}`);
  await rm(tmp, { recursive: true, force: true });
  try {
    try {
      await extract(zip, { dir: tmp });
    } catch (err) {
      await rm(zip, { force: true });
      throw new SetupError(`cannot unzip ${zip} (${(err as Error).message}); it was removed, run again`);
    }
    const root = await findModelRoot(tmp);
    if (!root) throw new SetupError(`${src.url} holds no Vosk model (no am/final.mdl with conf/model.conf)`);
    if (existsSync(target)) {
      const aside = `${target}.old-${Date.now()}`;
      await rename(target, aside);
      await rm(aside, { recursive: true, force: true });
    }
    await rename(root, target);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  if (!opts.keepZip) await rm(zip, { force: true });
  const check = checkModelDir(target);
  if (!check.ok) throw new SetupError(`after unzipping: ${check.problem}`);
  say(`model ready in ${target}`);
  return { dir: target, alreadyThere: false, downloaded: { bytes: dl.bytes, resumedFrom: dl.resumedFrom, cached: dl.cached } };
}

/** The folder inside the unzipped tree that is the model (the zip's top folder, or the tree itself). */
async function findModelRoot(dir: string, depth = 0): Promise<string | undefined> {
  if (checkModelDir(dir).ok) return dir;
  if (depth >= 2) return undefined;
  for (const e of await readdir(dir)) {
    const p = join(dir, e);
    if ((await stat(p)).isDirectory()) {
      const found = await findModelRoot(p, depth + 1);
      if (found) return found;
    }
  }
  return undefined;
}
