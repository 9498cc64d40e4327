// Logs under journald: when stdout is the stream named by $JOURNAL_STREAM (device:inode, as systemd sets it),
// the daemon writes "<N>message key=value" lines; with stdout anywhere else it keeps JSON, even if the
// variable was inherited. Real daemon processes whose stdout is a real file.
import { describe, it, expect, afterEach } from "vitest";
import { spawn } from "node:child_process";
import { mkdtemp, open, readFile, rm, writeFile } from "node:fs/promises";
import { statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { CLI } from "./helpers/daemon.js";
import { journalLine, syslogPriority, isJournalStream, logFormatFromEnv } from "../src/daemon/journal-log.js";
import { createLogger } from "../src/daemon/log.js";
import { LineCollector } from "./helpers/lines.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Runs `needled start` with stdout on a file, stops it after it is ready, returns the file's lines. */
async function runToFile(env: (stdoutFile: string) => Record<string, string>): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), "needled-journal-"));
  dirs.push(dir);
  const config = join(dir, "config.yaml");
  await writeFile(config, stringify({ http: { host: "127.0.0.1", port: 0 }, mqtt: { enabled: false }, builtin_plugins: false, state_dir: join(dir, "state") }));
  const outFile = join(dir, "stdout");
  const fh = await open(outFile, "w");
  const proc = spawn(process.execPath, [CLI, "start", "--config", config], {
    env: { ...process.env, NEEDLED_CONFIG: "", NEEDLED_LOG_FORMAT: "", ...env(outFile) },
    stdio: ["ignore", fh.fd, "pipe"],
  });
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  try {
    const deadline = Date.now() + 20_000;
    while (!(await readFile(outFile, "utf8")).includes("needled ready")) {
      if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`no ready line:\n${await readFile(outFile, "utf8")}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill("SIGTERM");
    await exited;
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    await fh.close();
  }
  return (await readFile(outFile, "utf8")).split("\n").filter((l) => l !== "");
}

const devIno = (file: string) => {
  const st = statSync(file, { bigint: true });
  return `${st.dev}:${st.ino}`;
};

describe("journald log lines from a real daemon", () => {
  it("stdout is the journal stream: <N>-prefixed plain lines, errors at priority 3", async () => {
    const lines = await runToFile((f) => ({ JOURNAL_STREAM: devIno(f) }));
    for (const l of lines) expect(l).toMatch(/^<[2-7]>\S/);
    expect(lines).toContainEqual(expect.stringMatching(/^<6>needled ready http=http:\/\/127\.0\.0\.1:\d+ mqtt=disabled /));
    expect(lines).toContainEqual("<6>signal received; shutting down signal=SIGTERM");
    expect(lines.at(-1)).toBe("<6>stopped");
    // No model in a test tree: the engine error is logged at "error" -> journald priority 3.
    expect(lines.some((l) => /^<3>engine unavailable/.test(l)) || lines.some((l) => /^<6>engine ready/.test(l))).toBe(true);
    expect(lines.some((l) => l.includes('"time"') || l.startsWith("{"))).toBe(false);
  });

  it("JOURNAL_STREAM inherited but stdout elsewhere: JSON, as before", async () => {
    const other = join(tmpdir(), ".");
    const lines = await runToFile(() => ({ JOURNAL_STREAM: devIno(other) }));
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    expect(lines.map((l) => JSON.parse(l).msg)).toContain("needled ready");
  });

  it("NEEDLED_LOG_FORMAT=journal forces journal lines (e.g. behind a log shipper)", async () => {
    const lines = await runToFile(() => ({ NEEDLED_LOG_FORMAT: "journal" }));
    expect(lines).toContainEqual(expect.stringMatching(/^<6>needled ready /));
  });
});

describe("journal line format", () => {
  it("maps pino levels to syslog priorities", () => {
    expect([10, 20, 30, 40, 50, 60].map(syslogPriority)).toEqual([7, 7, 6, 4, 3, 2]);
  });

  it("renders message then fields; quotes only what needs it; keeps one entry on one line", () => {
    expect(journalLine(JSON.stringify({ level: "warn", time: "t", msg: "plugin skipped", source: "/opt/x y/index.js", reason: "bad" }))).toBe(
      '<4>plugin skipped source="/opt/x y/index.js" reason=bad',
    );
    expect(journalLine(JSON.stringify({ level: "error", msg: "boom", error: "Error: x\n    at f (a.js:1)" }))).toBe(
      '<3>boom error="Error: x\\n    at f (a.js:1)"',
    );
    expect(journalLine(JSON.stringify({ level: 30, msg: "event", device: "watch-1", event: { type: "ping" }, n: 3, ok: true, none: null }))).toBe(
      '<6>event device=watch-1 event={"type":"ping"} n=3 ok=true none=null',
    );
    expect(journalLine("not json\nat all")).toBe("<6>not json\\nat all");
  });

  it("createLogger in journal format writes through the given destination", () => {
    const out = new LineCollector();
    const log = createLogger({ format: "journal", destination: out, level: "debug" });
    log.child({ plugin: "timers" }).warn("timer late", { id: "pasta" });
    log.debug("quiet");
    expect(out.lines).toEqual(["<4>timer late plugin=timers id=pasta", "<7>quiet"]);
  });

  it("isJournalStream compares the descriptor's device and inode; logFormatFromEnv honours NEEDLED_LOG_FORMAT", async () => {
    const dir = await mkdtemp(join(tmpdir(), "needled-journal-"));
    dirs.push(dir);
    const fh = await open(join(dir, "f"), "w");
    try {
      const id = devIno(join(dir, "f"));
      expect(isJournalStream({ JOURNAL_STREAM: id }, fh.fd)).toBe(true);
      expect(isJournalStream({ JOURNAL_STREAM: "1:2" }, fh.fd)).toBe(false);
      expect(isJournalStream({ JOURNAL_STREAM: "garbage" }, fh.fd)).toBe(false);
      expect(isJournalStream({}, fh.fd)).toBe(false);
      expect(logFormatFromEnv({ JOURNAL_STREAM: id }, fh.fd)).toBe("journal");
      expect(logFormatFromEnv({ JOURNAL_STREAM: id, NEEDLED_LOG_FORMAT: "json" }, fh.fd)).toBe("json");
      expect(logFormatFromEnv({ NEEDLED_LOG_FORMAT: "journal" }, fh.fd)).toBe("journal");
    } finally {
      await fh.close();
    }
  });
});
