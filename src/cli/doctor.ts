// needled doctor [--config FILE] [--json]: runs every check and says what is wrong and how to fix it.
// The checks are a list other parts of the project extend: any module in src/cli/checks/ that exports
// `checks: DoctorCheck[]` is picked up (core.ts first, then the others by file name).
import { readdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadConfig, type NeedledConfig } from "../daemon/config.js";
import { EXIT, parse, type Io } from "./common.js";

export type CheckStatus = "ok" | "warn" | "fail" | "skip";

export interface CheckResult {
  status: CheckStatus;
  /** One line: what was found, and for warn/fail what to do. */
  detail: string;
}

export interface DoctorContext {
  config: NeedledConfig;
}

export interface DoctorCheck {
  name: string;
  run(ctx: DoctorContext): Promise<CheckResult> | CheckResult;
}

export const usage = "needled doctor [--config FILE] [--json]";

/** Every check, from the modules in ./checks/. */
export async function loadChecks(): Promise<DoctorCheck[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), "checks");
  const files = (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => /\.(js|mjs)$/.test(f) && !f.endsWith(".d.ts"))
    .sort((a, b) => (a.startsWith("core.") ? -1 : b.startsWith("core.") ? 1 : a.localeCompare(b)));
  const out: DoctorCheck[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { checks?: DoctorCheck[] };
    if (Array.isArray(mod.checks)) out.push(...mod.checks);
  }
  return out;
}

export async function runChecks(checks: DoctorCheck[], ctx: DoctorContext, timeoutMs = 10_000) {
  const results: Array<CheckResult & { name: string }> = [];
  for (const c of checks) {
    let r: CheckResult;
    try {
      let timer: NodeJS.Timeout | undefined;
      r = await Promise.race([
        Promise.resolve().then(() => c.run(ctx)),
        new Promise<CheckResult>((resolve) => {
          timer = setTimeout(() => resolve({ status: "fail", detail: `check did not finish within ${timeoutMs} ms` }), timeoutMs);
        }),
      ]).finally(() => clearTimeout(timer));
    } catch (err) {
      r = { status: "fail", detail: `check crashed: ${(err as Error)?.message ?? err}` };
    }
    results.push({ name: c.name, ...r });
  }
  return results;
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values } = parse(argv, { config: { type: "string" }, json: { type: "boolean" } });
  const config = await loadConfig(values.config ? { file: values.config } : {});
  const results = await runChecks(await loadChecks(), { config });
  if (values.json) {
    io.out(JSON.stringify({ ok: results.every((r) => r.status !== "fail"), checks: results }));
  } else {
    for (const r of results) io.out(`${r.status.padEnd(4)}  ${r.name}: ${r.detail}`);
  }
  return results.some((r) => r.status === "fail") ? EXIT.FAILED : EXIT.OK;
}
