// The persistent scheduler a plugin gets as `ctx.scheduler`. Only job data is stored (a JSON file per
// plugin), never a closure: on restart the plugin registers its onFire handler again and the jobs go on.
//
// - one-off `at` jobs: our own timer, re-armed in steps of at most 2^31-1 ms (setTimeout fires at once
//   for longer delays); removed from the file after the handler has run, so a crash while it runs fires
//   it again on the next start (an alarm must not be lost);
// - recurring `cron` jobs: node-cron; the next due time is stored before the handler runs;
// - a job that fell due while the daemon was down fires once when the scheduler starts, with `late: true`.
import cron, { type ScheduledTask, type Logger as CronLogger } from "node-cron";
import type { FiredJob, Logger, PluginScheduler, ScheduledJob } from "../plugins/api.js";
import { JsonStateFile, isPlainObject, type StateFileOptions } from "./state-file.js";

export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface StoredJob extends ScheduledJob {
  /** Next due time, ms since epoch. */
  due: number;
}

interface JobsDoc {
  jobs: Record<string, StoredJob>;
}

type FireHandler = (job: FiredJob) => void | Promise<void>;

export class SchedulerError extends Error {
  override name = "SchedulerError";
}

export class PersistentScheduler implements PluginScheduler {
  private handler: FireHandler | undefined;
  private running = false;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly tasks = new Map<string, ScheduledTask>();
  /** Fired jobs waiting for a handler (or for start()). */
  private readonly waiting: FiredJob[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private warnedNoHandler = false;

  private constructor(
    private readonly file: JsonStateFile<JobsDoc>,
    private readonly log: Logger,
  ) {}

  static async open(
    path: string,
    opts: Omit<StateFileOptions<JobsDoc>, "empty" | "check"> & { log: Logger },
  ): Promise<PersistentScheduler> {
    const file = await JsonStateFile.open<JobsDoc>(path, { ...opts, empty: () => ({ jobs: {} }), check: checkDoc });
    return new PersistentScheduler(file, opts.log);
  }

  // ---- PluginScheduler ----

  async schedule(job: ScheduledJob): Promise<void> {
    const stored = validateJob(job);
    this.disarm(stored.id);
    await this.file.update((d) => {
      d.jobs[stored.id] = stored;
    });
    if (this.running) this.arm(stored);
  }

  async cancel(id: string): Promise<boolean> {
    if (!(id in this.file.data.jobs)) return false;
    this.disarm(id);
    await this.file.update((d) => {
      delete d.jobs[id];
    });
    return true;
  }

  list(): ScheduledJob[] {
    return Object.values(this.file.data.jobs).map(({ due: _due, ...job }) => structuredClone(job));
  }

  nextRun(id: string): number | undefined {
    return this.file.data.jobs[id]?.due;
  }

  onFire(handler: FireHandler): void {
    this.handler = handler;
    this.drain();
  }

  // ---- lifecycle (the daemon's side) ----

  /** Arms every stored job; jobs that fell due while the daemon was down fire now, marked late. */
  start(): void {
    if (this.running) return;
    this.running = true;
    const now = Date.now();
    for (const job of Object.values(this.file.data.jobs)) {
      if (job.due <= now) {
        this.fire(job, job.due, true);
        if (job.cron) this.arm(job);
      } else {
        this.arm(job);
      }
    }
    this.drain();
  }

  /** Stops all timers and waits (at most `timeoutMs`) for running handlers; the file is flushed. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.running = false;
    for (const id of [...this.timers.keys(), ...this.tasks.keys()]) this.disarm(id);
    if (this.inflight.size > 0) {
      await Promise.race([Promise.allSettled([...this.inflight]), delay(timeoutMs)]);
    }
    await this.file.flush();
  }

  // ---- internals ----

  private arm(job: StoredJob): void {
    if (job.cron !== undefined) {
      const task = cron.createTask(
        job.cron,
        (ctx) => {
          const current = this.file.data.jobs[job.id];
          if (current !== job) return;
          this.fire(job, ctx.date.getTime(), false);
        },
        { logger: cronLogger(this.log) },
      );
      this.tasks.set(job.id, task);
      void task.start();
      // The due time shown by nextRun() is node-cron's own.
      const next = task.getNextRun();
      if (next && job.due !== next.getTime()) {
        job.due = next.getTime();
        this.save();
      }
      return;
    }
    const step = (): void => {
      if (this.file.data.jobs[job.id] !== job) return;
      const left = job.due - Date.now();
      if (left > 0) {
        const t = setTimeout(step, Math.min(left, MAX_TIMEOUT_MS));
        t.unref();
        this.timers.set(job.id, t);
        return;
      }
      this.timers.delete(job.id);
      this.fire(job, job.due, false);
    };
    step();
  }

  private disarm(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
    const task = this.tasks.get(id);
    if (task) void task.destroy();
    this.tasks.delete(id);
  }

  private fire(job: StoredJob, dueAt: number, late: boolean): void {
    const { due: _due, ...rest } = job;
    const fired: FiredJob = { ...structuredClone(rest), late, dueAt };
    if (job.cron !== undefined) {
      const task = this.tasks.get(job.id);
      const next = task?.getNextRun() ?? nextCronRun(job.cron);
      if (next) {
        job.due = next.getTime();
        this.save();
      }
    }
    this.waiting.push(fired);
    this.drain();
  }

  private drain(): void {
    if (!this.running || this.waiting.length === 0) return;
    const handler = this.handler;
    if (!handler) {
      if (!this.warnedNoHandler) {
        this.warnedNoHandler = true;
        this.log.warn("a scheduled job fell due but the plugin registered no onFire handler; it waits for one", {
          job: this.waiting[0]?.id,
        });
      }
      return;
    }
    for (const fired of this.waiting.splice(0)) {
      const run = (async () => {
        try {
          await handler(fired);
        } catch (err) {
          this.log.error("scheduled job handler failed", { job: fired.id, err });
        }
        if (fired.at !== undefined) {
          const current = this.file.data.jobs[fired.id];
          // Only remove the job that fired, not one rescheduled under the same id meanwhile.
          if (current && current.at === fired.at && current.cron === undefined) {
            await this.file
              .update((d) => {
                delete d.jobs[fired.id];
              })
              .catch((err) => this.log.error("could not save scheduler state", { err }));
          }
        }
      })();
      this.inflight.add(run);
      void run.finally(() => this.inflight.delete(run));
    }
  }

  private save(): void {
    this.file.save().catch((err) => this.log.error("could not save scheduler state", { err }));
  }
}

function validateJob(job: ScheduledJob): StoredJob {
  if (!isPlainObject(job)) throw new SchedulerError("job must be an object");
  const { id, at, cron: expr } = job;
  if (typeof id !== "string" || id.length === 0 || id.length > 200) {
    throw new SchedulerError("job id must be a non-empty string (at most 200 characters)");
  }
  if ((at === undefined) === (expr === undefined)) {
    throw new SchedulerError(`job "${id}": give exactly one of "at" (ms since epoch) or "cron"`);
  }
  const data = job.data ?? {};
  if (!isPlainObject(data)) throw new SchedulerError(`job "${id}": data must be an object`);
  let copy: Record<string, unknown>;
  try {
    copy = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
  } catch (err) {
    throw new SchedulerError(`job "${id}": data is not JSON-serializable: ${(err as Error).message}`);
  }
  if (at !== undefined) {
    if (typeof at !== "number" || !Number.isFinite(at)) {
      throw new SchedulerError(`job "${id}": "at" must be a finite number of ms since epoch`);
    }
    return { id, at, data: copy, due: at };
  }
  if (typeof expr !== "string") throw new SchedulerError(`job "${id}": "cron" must be a string`);
  const check = cron.validateDetailed(expr);
  if (!check.valid) {
    const why = check.errors.map((e) => `${e.field}: ${e.message}`).join("; ");
    throw new SchedulerError(`job "${id}": invalid cron expression "${expr}"${why ? ` (${why})` : ""}`);
  }
  const next = nextCronRun(expr);
  if (!next) throw new SchedulerError(`job "${id}": cron expression "${expr}" never matches`);
  return { id, cron: expr, data: copy, due: next.getTime() };
}

/** The next time a cron expression matches, from now (node-cron's own matcher; the probe task is dropped). */
export function nextCronRun(expr: string): Date | undefined {
  const probe = cron.createTask(expr, () => {});
  try {
    return probe.getNextRuns(1)[0];
  } finally {
    void probe.destroy();
  }
}

function checkDoc(v: unknown): string | undefined {
  if (!isPlainObject(v) || !isPlainObject(v.jobs)) return 'expected {"jobs": {...}}';
  for (const [id, j] of Object.entries(v.jobs)) {
    if (!isPlainObject(j) || j.id !== id || typeof j.due !== "number" || !isPlainObject(j.data)) {
      return `job "${id}" is malformed`;
    }
    if ((j.at === undefined) === (j.cron === undefined)) return `job "${id}" has neither or both of at/cron`;
  }
  return undefined;
}

function cronLogger(log: Logger): CronLogger {
  const text = (m: string | Error) => (m instanceof Error ? m.message : m);
  return {
    info: (m) => log.debug(`node-cron: ${m}`),
    warn: (m) => log.warn(`node-cron: ${m}`),
    error: (m, err) => log.error(`node-cron: ${text(m)}`, err ? { err } : undefined),
    debug: (m) => log.debug(`node-cron: ${text(m)}`),
  };
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}
