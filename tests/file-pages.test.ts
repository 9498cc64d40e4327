// Dropping clean file-backed pages (src/engine/file-pages.ts): which mappings qualify, and a real process whose
// file-backed RSS falls and which keeps running the code it dropped.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { droppable, parseSmaps } from "../src/engine/file-pages.js";

const ROOT = join(import.meta.dirname, "..");

const SMAPS = `55d0c0000000-55d0c1000000 r--p 00000000 fd:01 123 /usr/bin/node
Size:              16384 kB
Rss:                6840 kB
Anonymous:             0 kB
55d0c1000000-55d0c2000000 r-xp 01000000 fd:01 123 /usr/bin/node
Rss:               20576 kB
Anonymous:             0 kB
55d0c2000000-55d0c2100000 r--p 02000000 fd:01 123 /usr/bin/node
Rss:                 512 kB
Anonymous:           512 kB
55d0c2100000-55d0c2200000 rw-p 02100000 fd:01 123 /usr/bin/node
Rss:                 124 kB
Anonymous:           124 kB
7f0000000000-7f0000400000 rw-p 00000000 fd:01 456 /m/weights.data
Rss:                4096 kB
Anonymous:             0 kB
7f0000400000-7f0000800000 rw-p 00000000 00:00 0
Rss:                4096 kB
Anonymous:          4096 kB
7f0000800000-7f0000900000 r-xp 00000000 fd:01 789 /tmp/gone.so (deleted)
Rss:                 100 kB
Anonymous:             0 kB
7f0000900000-7f0000a00000 r--s 00000000 fd:01 790 /dev/shm/shared
Rss:                 100 kB
Anonymous:             0 kB
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
Rss:                 132 kB
Anonymous:           132 kB
`;

describe("clean file-backed pages", () => {
  it("only private read-only file mappings without a written page qualify", () => {
    const maps = parseSmaps(SMAPS);
    expect(maps).toHaveLength(9);
    expect(maps[0]).toMatchObject({ start: 0x55d0c0000000n, end: 0x55d0c1000000n, perms: "r--p", path: "/usr/bin/node", rssKB: 6840, anonymousKB: 0 });
    // node's text and read-only data: yes; its relocated read-only data (copy-on-write pages) and .data: no;
    // a writable file mapping, anonymous memory, a deleted file, a shared mapping, the stack: no
    expect(maps.map((m) => droppable(m))).toEqual([true, true, false, false, false, false, false, false, false]);
    // a file mapped writable that the process only reads (onnxruntime's external weights), when named
    expect(maps.map((m) => droppable(m, ["/m/weights.data"]))).toEqual([true, true, false, false, true, false, false, false, false]);
  });

  it.skipIf(!existsSync("/proc/self/smaps"))("a process drops them and keeps running the code they held", () => {
    const script = `
      import { readFileSync } from "node:fs";
      import { dropCleanFilePages } from ${JSON.stringify(join(ROOT, "dist", "src", "engine", "file-pages.js"))};
      const file = () => { const r = readFileSync("/proc/self/smaps_rollup", "utf8");
        const kb = (k) => Number(new RegExp("^" + k + ":\\\\s+(\\\\d+)", "m").exec(r)[1]);
        return (kb("Rss") - kb("Anonymous")) / 1024; };
      const before = file();
      const dropped = dropCleanFilePages();
      const after = file();
      // the dropped code runs again (node's own text, JSON, regexps, crypto)
      const { createHash } = await import("node:crypto");
      const h = createHash("sha256").update(JSON.stringify({ a: [1, 2, 3] })).digest("hex");
      process.stdout.write(JSON.stringify({ before, dropped, after, ok: h.length === 64 && /b+/.test("abbb") }));`;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { before: number; dropped: number; after: number; ok: boolean };
    expect(out.ok).toBe(true);
    expect(out.dropped).toBeGreaterThan(5);
    expect(out.after).toBeLessThan(out.before - 5);
  });
});
