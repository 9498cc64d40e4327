// The V8 flags and environment of src/cli/node-flags.ts reach every place that starts the daemon: the `needled` bin's shebang
// (run directly, as npx and the npm bin link do), package.json's `start` script and the systemd unit template.
import { describe, it, expect } from "vitest";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CLI, ROOT } from "./helpers/daemon.js";
import { NODE_ENV, NODE_FLAGS } from "../src/cli/node-flags.js";

const flags = NODE_FLAGS.join(" ");
const env = Object.entries(NODE_ENV).map(([k, v]) => `${k}=${v}`).join(" ");
const firstLine = (file: string) => readFileSync(file, "utf8").split("\n")[0];

describe("node flags for the serving process", () => {
  it("the needled bin's shebang passes them to node (source and build)", () => {
    expect(NODE_FLAGS.length).toBeGreaterThan(0);
    expect(env).toBe("MALLOC_ARENA_MAX=1");
    expect(firstLine(join(ROOT, "src", "cli.ts"))).toBe(`#!/usr/bin/env -S ${env} node ${flags}`);
    expect(firstLine(CLI)).toBe(`#!/usr/bin/env -S ${env} node ${flags}`);
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { bin: Record<string, string> };
    expect(join(ROOT, pkg.bin.needled!)).toBe(CLI);
  });

  it("that shebang runs: the bin executed directly answers help, and node sees the flags", () => {
    const r = spawnSync(CLI, ["help"], { encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: needled/);
    const dir = mkdtempSync(join(tmpdir(), "needled-flags-"));
    try {
      const script = join(dir, "argv.js");
      writeFileSync(script, `${firstLine(CLI)}\nprocess.stdout.write(JSON.stringify([process.execArgv, ` +
        `Object.fromEntries(${JSON.stringify(Object.keys(NODE_ENV))}.map((k) => [k, process.env[k]]))]));\n`);
      chmodSync(script, 0o755);
      const { MALLOC_ARENA_MAX: _drop, ...parentEnv } = process.env;
      const s = spawnSync(script, [], { encoding: "utf8", env: parentEnv });
      expect(s.status, s.stderr).toBe(0);
      expect(JSON.parse(s.stdout)).toEqual([[...NODE_FLAGS], { ...NODE_ENV }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("npm start and the systemd unit template run node with them", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`${env} node ${flags} dist/src/cli.js start`);
    const unit = readFileSync(join(ROOT, "systemd", "needled.service"), "utf8");
    expect(unit).toMatch(new RegExp(`^ExecStart=/usr/bin/node ${flags} /opt/needled/dist/src/cli\\.js start `, "m"));
    for (const [k, v] of Object.entries(NODE_ENV)) expect(unit).toMatch(new RegExp(`^Environment=${k}=${v}$`, "m"));
  });
});
