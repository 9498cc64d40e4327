// Drop this process's clean file-backed pages from its resident set (Linux): madvise(MADV_DONTNEED) on every
// private, read-only file mapping that holds no private (copy-on-write) page.
//
// Why: creating the onnxruntime sessions runs a lot of code only once (kernel registration, graph
// optimisers, prepacking): ~19 MB of libonnxruntime's text is resident after loading the 26M model, and node's
// own start-up leaves ~35 MB of its binary resident. Those pages count in RSS although they are clean copies of
// the files, which the kernel would drop under memory pressure anyway. Dropped, only what later runs touch comes
// back, as minor faults from the page cache (measured: file-backed RSS 80 -> 44 MB after encodes of 128-1024
// tokens; encoder and decoder speed unchanged). Nothing is lost: a mapping qualifies only when none of its
// pages was ever written (smaps `Anonymous: 0`) and it cannot be written (no `w` permission) or is a file the
// caller knows is only read (onnxruntime maps weights.data writable, never writes it, and after prepacking
// reads only the embedding rows it gathers: 11 -> 4 MB resident), so the file holds exactly what the dropped
// pages held.
import { readFileSync } from "node:fs";
import koffi from "koffi";

const MADV_DONTNEED = 4;

export interface Mapping {
  start: bigint;
  end: bigint;
  perms: string;
  path: string;
  rssKB: number;
  anonymousKB: number;
}

/** Parses /proc/<pid>/smaps text into its mappings (only the fields used here). */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let cur: Mapping | undefined;
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      cur = { start: BigInt(`0x${m[1]}`), end: BigInt(`0x${m[2]}`), perms: m[3]!, path: m[4]!, rssKB: 0, anonymousKB: 0 };
      out.push(cur);
      continue;
    }
    const f = /^(Rss|Anonymous):\s+(\d+) kB/.exec(line);
    if (f && cur) {
      if (f[1] === "Rss") cur.rssKB = Number(f[2]);
      else cur.anonymousKB = Number(f[2]);
    }
  }
  return out;
}

/**
 * A mapping whose resident pages are all clean copies of its file and that nobody writes to: read-only, or one
 * of `readOnlyFiles` (files mapped writable that the process never writes: onnxruntime maps external weights
 * that way and only reads them).
 */
export function droppable(m: Mapping, readOnlyFiles: readonly string[] = []): boolean {
  return m.path.startsWith("/") && !m.path.endsWith(" (deleted)") && m.perms[3] === "p" && m.anonymousKB === 0 &&
    m.rssKB > 0 && (m.perms[1] !== "w" || readOnlyFiles.includes(m.path));
}

type Madvise = (addr: bigint, length: bigint, advice: number) => number;
let madvise: Madvise | null | undefined;

function loadMadvise(): Madvise | null {
  if (madvise !== undefined) return madvise;
  try {
    const libc = koffi.load("libc.so.6");
    madvise = libc.func("int madvise(uintptr_t addr, size_t length, int advice)") as unknown as Madvise;
  } catch {
    madvise = null; // not glibc Linux: nothing to do
  }
  return madvise;
}

/**
 * Drops the process's clean file-backed pages (see the top of this file); -> the resident MB it dropped (0
 * where /proc or libc's madvise is not available).
 */
export function dropCleanFilePages(readOnlyFiles: readonly string[] = []): number {
  let text: string;
  try {
    text = readFileSync("/proc/self/smaps", "utf8");
  } catch {
    return 0;
  }
  const advise = loadMadvise();
  if (!advise) return 0;
  let kb = 0;
  for (const m of parseSmaps(text)) {
    if (!droppable(m, readOnlyFiles)) continue;
    if (advise(m.start, m.end - m.start, MADV_DONTNEED) === 0) kb += m.rssKB;
  }
  return kb / 1024;
}
