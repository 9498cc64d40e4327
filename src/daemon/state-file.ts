// One JSON document on disk, kept in memory, written atomically. A file that does not parse (or fails the
// caller's shape check) is moved aside as `<file>.corrupt-<ms>`, reported, and replaced by the empty value:
// the daemon never refuses to start because of its own state.
import { readFile, rename, readdir, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "./atomic.js";
import type { Logger } from "../plugins/api.js";

export interface StateProblem {
  file: string;
  movedTo: string;
  reason: string;
  at: string;
}

export interface StateFileOptions<T> {
  /** The value for a missing or corrupt file. */
  empty: () => T;
  /** Returns a reason when the parsed JSON has the wrong shape, undefined when it is fine. */
  check?: (value: unknown) => string | undefined;
  log?: Logger;
  /** Called when a corrupt file was moved aside (the daemon collects these for /healthz and doctor). */
  onProblem?: (problem: StateProblem) => void;
}

export class JsonStateFile<T> {
  private queued: Promise<void> | null = null;
  private writing: Promise<void> | null = null;

  private constructor(
    readonly path: string,
    private value: T,
  ) {}

  static async open<T>(path: string, opts: StateFileOptions<T>): Promise<JsonStateFile<T>> {
    await removeStaleTemps(path);
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return new JsonStateFile(path, opts.empty());
      throw err;
    }
    let reason: string | undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
      reason = opts.check?.(parsed);
    } catch (err) {
      reason = `not valid JSON (${(err as Error).message})`;
    }
    if (reason === undefined) return new JsonStateFile(path, parsed as T);

    const movedTo = `${path}.corrupt-${Date.now()}`;
    await rename(path, movedTo);
    const problem: StateProblem = { file: path, movedTo, reason, at: new Date().toISOString() };
    opts.log?.error("corrupt state file moved aside; starting with empty state for it", { ...problem });
    opts.onProblem?.(problem);
    return new JsonStateFile(path, opts.empty());
  }

  /** The live value. Mutate it only inside update() (or call save() after). */
  get data(): T {
    return this.value;
  }

  async update(mutate: (value: T) => void): Promise<void> {
    mutate(this.value);
    await this.save();
  }

  async replace(value: T): Promise<void> {
    this.value = value;
    await this.save();
  }

  /**
   * Writes the current value. Calls made while a write is in progress share the next write, which
   * serializes the value at the moment it starts, so every caller's change is on disk when it resolves.
   */
  save(): Promise<void> {
    if (this.queued) return this.queued;
    const before = this.writing ?? Promise.resolve();
    const next: Promise<void> = before
      .catch(() => {})
      .then(() => {
        this.queued = null;
        this.writing = next;
        return writeFileAtomic(this.path, JSON.stringify(this.value, null, 1) + "\n");
      })
      .finally(() => {
        if (this.writing === next) this.writing = null;
      });
    this.queued = next;
    return next;
  }

  /** Resolves when no write is pending. */
  async flush(): Promise<void> {
    while (this.queued || this.writing) {
      await (this.queued ?? this.writing)?.catch(() => {});
    }
  }
}

/** Temp files left by a write that was cut off (kill -9 between open and rename). */
async function removeStaleTemps(path: string): Promise<void> {
  const dir = dirname(path);
  const prefix = `.${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => unlink(join(dir, n)).catch(() => {})));
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
