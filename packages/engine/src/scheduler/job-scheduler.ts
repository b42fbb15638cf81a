import type { EngineLogger } from "../logger.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Store } from "../store/store.js";
import { createCronRunner } from "./cron-runner.js";
import type { DeploymentClock } from "./deployment-clock.js";
import { JobQueue } from "./job-queue.js";
import { jobInState, replaceJob, runJob, type JobRun } from "./job-runner.js";
import { INTERRUPTED_ACTION_ERROR, type JobEntry } from "./job-state.js";
import { pruneFinishedJobs } from "./job-retention.js";
import { readNewJobs } from "./job-table.js";
import type { DrainOptions, DrainResult, Scheduler } from "./scheduler.js";

/** What the scheduler is built from. */
export interface SchedulerDeps {
  runtime: () => Runtime;
  store: Store;
  clock: DeploymentClock;
  logger: EngineLogger;
  /** Jobs running at once (actions overlap; mutations queue on the runtime lock anyway). Default 8. */
  maxConcurrentJobs?: number;
}

/** The meta key of the persisted clock offset. */
const CLOCK_OFFSET_META = "deployment_clock_offset_ms";
/** Wait before retrying a job whose transaction failed for an engine reason (ms). */
const RETRY_DELAY_MS = 1000;
/** setTimeout's largest delay; later jobs are re-checked when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const DEFAULT_MAX_DRAIN = 100_000;
/** How often finished jobs past their retention are deleted (ms, wall time). */
const PRUNE_EVERY_MS = 60 * 60 * 1000;

/**
 * The scheduler loop. Pending jobs live in an in-memory queue fed by reading
 * the tail of `_scheduled_functions` (see `job-table.ts`) at start and on
 * every wake-up. One timer is armed for the first due job (no polling); when
 * it fires, due jobs start up to the concurrency bound, and each finished job
 * starts the next. Every job re-checks its state inside its own transaction,
 * so the queue may hold stale (cancelled) entries without harm, and a job
 * can never run twice even if two paths (timer and drain) reach it.
 */
export function createScheduler(deps: SchedulerDeps): Scheduler {
  const maxConcurrent = Math.max(1, deps.maxConcurrentJobs ?? 8);
  const queue = new JobQueue();
  const running = new Map<string, { action: boolean; done: Promise<void> }>();
  /** The last key read of each job table (the app's and each component's). */
  const lastKeys = new Map<string, Buffer | null>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let started = false;
  let stopped = false;
  let ranCount = 0;
  let refreshing: Promise<void> | null = null;
  let refreshAgain = false;
  let pruneTimer: ReturnType<typeof setInterval> | null = null;
  let pruning: Promise<void> = Promise.resolve();

  const runnerDeps = { runtime: deps.runtime, now: () => deps.clock.now(), stopped: () => stopped };
  // Crons become ordinary jobs when due; the runner only inserts them.
  const crons = createCronRunner(deps);

  /** Reads jobs created since the last read (coalescing concurrent calls). */
  function refresh(): Promise<void> {
    if (refreshing !== null) {
      refreshAgain = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        refreshAgain = false;
        const jobs = await deps.runtime().lock.run(async () => readNewJobs(deps.store, lastKeys));
        for (const job of jobs) if (job.state === "pending") queue.push(job);
      } while (refreshAgain);
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  /** Starts due jobs up to the bound and re-arms the timer. */
  function pump(): void {
    if (stopped || !started) return;
    const now = deps.clock.now();
    while (running.size < maxConcurrent) {
      const next = queue.peek();
      if (next === undefined || next.scheduledTime > now) break;
      queue.pop();
      if (!running.has(next.id)) launch(next);
    }
    arm();
  }

  function launch(job: JobEntry): void {
    const action = deps.runtime().functionKind(job.name, job.component) === "action";
    const done = runJob(runnerDeps, job)
      .then((result: JobRun) => {
        if (result === "ran") ranCount += 1;
      })
      .catch((e: unknown) => {
        if (stopped) return;
        deps.logger.error(`scheduler: job ${job.id} (${job.name}) could not be run; retrying`, e);
        queue.push({ ...job, scheduledTime: deps.clock.now() + RETRY_DELAY_MS });
      })
      .finally(() => {
        running.delete(job.id);
        pump();
      });
    running.set(job.id, { action, done });
  }

  function arm(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const next = queue.peek();
    if (next === undefined || stopped || running.size >= maxConcurrent) return;
    const delay = Math.min(Math.max(next.scheduledTime - deps.clock.now(), 0), MAX_TIMER_MS);
    timer = setTimeout(() => {
      timer = null;
      pump();
    }, delay);
    // The servers keep the process alive; a far-off job must not.
    timer.unref();
  }

  /** Fails actions a previous run left `inProgress`; they must not run twice. */
  async function recover(interrupted: string[]): Promise<void> {
    if (interrupted.length === 0) return;
    const runtime = deps.runtime();
    await runtime.transact((tx) => {
      for (const id of interrupted) {
        const doc = jobInState(runtime, tx, id, "inProgress");
        if (doc === null) continue;
        replaceJob(runtime, id, doc, { state: { kind: "failed", error: INTERRUPTED_ACTION_ERROR }, completedTime: deps.clock.now() });
      }
    });
    deps.logger.warn(`scheduler: ${interrupted.length} action(s) were running when the engine stopped; marked failed`);
  }

  /** The first queued job that is still pending (drops stale heads). */
  async function livePendingHead(): Promise<JobEntry | undefined> {
    const runtime = deps.runtime();
    for (;;) {
      const head = queue.peek();
      if (head === undefined) return undefined;
      const pending = await runtime.lock.run(async () => {
        const text = deps.store.get(head.id);
        return text !== null && (JSON.parse(text) as { state?: { kind?: string } }).state?.kind === "pending";
      });
      if (pending || queue.peek() !== head) return queue.peek();
      queue.pop();
    }
  }

  /** Deletes jobs finished longer ago than the retention (one pass at a time). */
  function prune(): Promise<void> {
    pruning = pruning.then(async () => {
      if (stopped) return;
      try {
        const deleted = await pruneFinishedJobs(deps.runtime(), deps.store, deps.clock.now());
        if (deleted > 0) deps.logger.info(`scheduler: deleted ${deleted} finished job(s) past their retention`);
      } catch (e) {
        if (!stopped) deps.logger.error("scheduler: could not delete old finished jobs", e);
      }
    });
    return pruning;
  }

  async function advanceClockTo(ms: number): Promise<void> {
    const offset = deps.clock.advanceTo(ms);
    await deps.runtime().lock.run(async () => deps.store.setMeta(CLOCK_OFFSET_META, String(offset)));
  }

  return {
    async start() {
      if (started) return;
      const saved = Number(deps.store.getMeta(CLOCK_OFFSET_META) ?? "0");
      if (saved > 0) deps.clock.restore(saved);
      const jobs = await deps.runtime().lock.run(async () => readNewJobs(deps.store, lastKeys));
      const interrupted: string[] = [];
      for (const job of jobs) {
        if (job.state === "pending") queue.push(job);
        else if (job.state === "inProgress") interrupted.push(job.id);
      }
      await recover(interrupted);
      await prune();
      pruneTimer = setInterval(() => void prune(), PRUNE_EVERY_MS);
      pruneTimer.unref();
      started = true;
      pump();
      await crons.start();
    },

    wake() {
      if (!started || stopped) return;
      refresh()
        .then(pump)
        .catch((e: unknown) => {
          if (!stopped) deps.logger.error("scheduler: could not read new jobs", e);
        });
    },

    async drain(options: DrainOptions = {}): Promise<DrainResult> {
      const advance = options.advanceClock !== false;
      const limit = options.maxJobs ?? DEFAULT_MAX_DRAIN;
      const ranBefore = ranCount;
      while (!stopped && ranCount - ranBefore < limit) {
        await refresh();
        pump();
        if (running.size > 0) {
          await Promise.race([...running.values()].map((r) => r.done));
          continue;
        }
        const head = await livePendingHead();
        if (head === undefined) break;
        if (head.scheduledTime <= deps.clock.now()) continue;
        if (!advance) break;
        await advanceClockTo(head.scheduledTime);
      }
      return { ran: ranCount - ranBefore, pending: queue.size, clockOffsetMs: deps.clock.offsetMs() };
    },

    async stop() {
      stopped = true;
      await crons.stop();
      if (timer !== null) clearTimeout(timer);
      timer = null;
      if (pruneTimer !== null) clearInterval(pruneTimer);
      await pruning;
      // Mutations hold the store's transaction; let them commit before the store closes.
      await Promise.all([...running.values()].filter((r) => !r.action).map((r) => r.done));
    },
  };
}
