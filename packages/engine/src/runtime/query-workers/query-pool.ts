import type { Worker } from "node:worker_threads";
import type { LogLevel } from "../log-capture.js";
import type { CommitSummary } from "../runtime-database.js";
import type { DeploymentInfo } from "../services.js";
import { lazyReadSet } from "./received-read-set.js";
import { WorkerPool } from "../worker-pool.js";
import { packedAnswer } from "./packed-answer.js";
import { failure, fromWire, PoolCounters, postedSuccess, unpinnedResult, type WorkerQueryResult } from "./worker-results.js";
import { UNPINNED_TS, type CacheDrops, type PostedFromWorker, type QueryJob, type ToWorker, type WorkerStart } from "./worker-protocol.js";

export type { WorkerQueryResult } from "./worker-results.js";

/** Settings of a query worker pool. */
export interface QueryPoolOptions {
  /** Most worker threads (each runs one query at a time). */
  size: number;
  /** The store's SQLite file; every worker opens its own read-only connection to it. */
  dbPath: string;
  /** The engine's commit counter (`RuntimeOptions.commitCounter`), shared with every worker. */
  commitCounter?: SharedArrayBuffer;
  deployment: DeploymentInfo;
  /** A query running longer than this is stopped by terminating its worker (ms). */
  timeoutMs: number;
  /** Every console line of every query. */
  onLog(path: string, level: LogLevel, line: string): void;
  /** Engine faults inside a worker. */
  logInternal(e: unknown): void;
  /** The workers' nice value above the engine's other threads (default `QUERY_WORKER_NICENESS`). */
  niceness?: number;
  /** The `BroadcastChannel` the writer posts its commits on (`WorkerStart.commitChannel`). */
  commitChannel?: string;
}

/**
 * Query workers run at a lower OS priority than the thread that serves the sockets and the
 * writer (Linux; a nice value 5 above them, about a third of the CPU share when they
 * compete). Under load the subscription re-runs of a fan-out fill every core; with equal
 * priority they would delay mutations and frames for as long as they run, while a re-run
 * that waits loses nothing (the next Transition covers every change meanwhile).
 */
export const QUERY_WORKER_NICENESS = 5;

/**
 * A job as a caller hands it to `run`: a fresh object the pool takes over, setting its `id`
 * and `appVersion` (absent here, or overwritten).
 */
export type NewJob = Omit<QueryJob, "id" | "appVersion"> & Partial<Pick<QueryJob, "id" | "appVersion">>;

interface Pending {
  job: QueryJob;
  /** Only this worker may run it (it holds the job's pinned snapshot). */
  slot: Slot | null;
  resolve(result: WorkerQueryResult): void;
  /** Workers that died under this job (not by its time limit); it is retried once elsewhere. */
  crashes: number;
  startedAt: number;
}

interface Slot {
  worker: Worker;
  /**
   * Jobs posted to this worker, in order: the first runs, the others wait in its message
   * queue (at most `PIPELINE_DEPTH`), so it starts the next one as soon as it answers,
   * without a round trip through this thread.
   */
  jobs: Pending[];
  /** Pin requests awaiting this worker's answer. */
  pins: Map<number, (ts: bigint) => void>;
  /** True until the worker has loaded the app for the first time. */
  starting: boolean;
  /** Its caches' whole drops as it last reported them. */
  drops: CacheDrops;
}

/** A job that hit a worker crash this often is answered with an error instead of another try. */
const MAX_CRASHES = 2;
/**
 * Jobs handed to one worker at a time. Two: while it runs one, the next waits in its own
 * queue, so a burst of re-runs keeps every worker busy even while this thread is busy
 * sending Transitions; more would only take jobs away from a worker that frees up sooner.
 */
const PIPELINE_DEPTH = 2;
/**
 * A job is queued behind a running one only while that one has run less than this (ms):
 * behind a query that runs long (perhaps a runaway, held until its time limit) it waits in
 * the pool's queue for whichever worker frees up first. A job already queued behind a query
 * that turns into a runaway waits for its time limit: at most one job per worker.
 */
const PIPELINE_HEAD_MS = 100;
/**
 * Extra time the first job of a fresh worker may take (ms): the worker loads the app before
 * it, and loading is not the query's time (its limit counts from the worker's `ready`). Only
 * a worker that never finishes loading (a module that loops at import) is stopped by it.
 */
const WORKER_START_ALLOWANCE_MS = 30_000;

/**
 * Query executors on worker threads (runs on the main thread; the workers read at WAL
 * snapshots). Workers start lazily, one more only when a job waits and none is idle, so
 * an engine that runs one query at a time has one worker; each worker is handed up to
 * `PIPELINE_DEPTH` jobs at once (idle workers first). A query past its time limit (counted
 * from when its worker starts it) is stopped by terminating its worker (a CPU-bound loop
 * cannot be interrupted otherwise); the jobs queued behind it go back to the pool's queue
 * and the next job starts a fresh worker. A job whose worker died of something else is
 * retried on another worker once.
 */
export class QueryWorkerPool extends WorkerPool<Slot, Pending, PostedFromWorker> {
  private nextJobId = 0;
  /** Pinned snapshots by ts: the worker holding each, until when (performance.now()). */
  private readonly pinned = new Map<bigint, { slot: Slot; until: number }>();
  readonly counters = new PoolCounters();

  constructor(private readonly options: QueryPoolOptions) {
    super("query", options.logInternal);
  }

  /** The app version a job must name (0 before any app is loaded). */
  get appVersion(): number {
    return this.app?.version ?? 0;
  }

  /**
   * Runs a query on a worker (queued while every worker is busy). With `atTs`, on the
   * worker that pinned that snapshot; null when no worker holds it (any more).
   */
  run(job: NewJob): Promise<WorkerQueryResult>;
  run(job: NewJob & { atTs: bigint }): Promise<WorkerQueryResult | null>;
  run(fields: NewJob): Promise<WorkerQueryResult | null> {
    const job = fields as QueryJob;
    if (this.closed) return Promise.resolve(failure("The engine is shutting down.", []));
    let slot: Slot | null = null;
    if (job.atTs !== undefined) {
      const pin = this.pinned.get(job.atTs);
      if (pin === undefined || pin.until < performance.now() || !this.slots.includes(pin.slot)) return Promise.resolve(null);
      slot = pin.slot;
    }
    const answer = new Promise<WorkerQueryResult>((resolve) => {
      // The job object is the caller's fresh literal, completed in place: no copy of it per run.
      job.id = ++this.nextJobId;
      job.appVersion = this.appVersion;
      this.queue.push({ job, slot, resolve, crashes: 0, startedAt: 0 });
      this.dispatch();
    });
    // Only a job bound to a pinned snapshot can come back unpinned (no extra promise for the others).
    return slot === null ? answer : answer.then((result) => (result.ts === UNPINNED_TS ? null : result));
  }

  /**
   * Pins the latest snapshot on a worker for `holdMs` (`/api/query_ts`) and returns its ts;
   * `run({ atTs })` reads it there until then.
   */
  async pin(holdMs: number): Promise<bigint> {
    const slot = this.slots.find((s) => s.jobs.length === 0) ?? this.slots[0] ?? (await this.startWorkerNow());
    const id = ++this.nextJobId;
    const ts = await new Promise<bigint>((resolve) => {
      slot.pins.set(id, resolve);
      slot.worker.postMessage({ kind: "pin", id, holdMs } satisfies ToWorker);
    });
    // Held a little less long than the worker holds it, so a run never races its release.
    this.pinned.set(ts, { slot, until: performance.now() + holdMs - PIN_MARGIN_MS });
    for (const [pinnedTs, pin] of this.pinned) if (pin.until < performance.now()) this.pinned.delete(pinnedTs);
    return ts;
  }

  /** Tells every worker what a commit wrote, so their document caches stay exact (in ts order). */
  committed(commit: CommitSummary): void {
    if (this.slots.length === 0) return;
    const ids = commit.writes.map((w) => w.id);
    // A commit without `previousTs` cannot be chained, and a bulk commit's write set names
    // tables, not documents (`wholeTable`): either way the workers drop their whole cache.
    const chained = commit.previousTs !== undefined && !commit.writes.some((w) => w.wholeTable !== undefined);
    this.broadcast({ kind: "commit", ts: commit.ts, previousTs: chained ? commit.previousTs! : -2n, ids });
  }

  protected dispatch(): void {
    // Jobs bound to a pinned snapshot wait for their worker; the others take any idle one.
    for (let i = 0; i < this.queue.length; ) {
      const bound = this.queue[i]!.slot;
      if (bound === null) break;
      if (!this.slots.includes(bound)) {
        this.queue.splice(i, 1)[0]!.resolve(unpinnedResult());
      } else if (bound.jobs.length < PIPELINE_DEPTH) this.assign(bound, this.queue.splice(i, 1)[0]!);
      else i++;
    }
    while (this.queue.length > 0 && !this.closed) {
      const next = this.queue.findIndex((p) => p.slot === null);
      if (next < 0) return;
      const idle = this.slots.find((s) => s.jobs.length === 0);
      if (idle !== undefined) {
        this.assign(idle, this.queue.splice(next, 1)[0]!);
        continue;
      }
      if (this.slots.length < this.options.size) {
        if (this.startWorker("The query executor could not start.") === null) return;
        continue;
      }
      // Every worker is busy: queue behind the one with the shortest line, if its query runs briefly.
      const now = performance.now();
      let shortest: Slot | null = null;
      for (const slot of this.slots) {
        if (slot.jobs.length >= PIPELINE_DEPTH || now - slot.jobs[0]!.startedAt > PIPELINE_HEAD_MS) continue;
        if (shortest === null || slot.jobs.length < shortest.jobs.length) shortest = slot;
      }
      if (shortest === null) return;
      this.assign(shortest, this.queue.splice(next, 1)[0]!);
    }
  }

  protected newSlot() {
    const { dbPath, commitCounter, deployment, niceness, commitChannel } = this.options;
    const start: WorkerStart = { dbPath, commitCounter: commitCounter ?? null, deployment, app: this.app, niceness: niceness ?? QUERY_WORKER_NICENESS, commitChannel: commitChannel ?? null };
    return { workerData: start, slot: { jobs: [], pins: new Map(), starting: true, drops: { unannounced: 0, gap: 0 } } };
  }

  private assign(slot: Slot, pending: Pending): void {
    slot.jobs.push(pending);
    // A job's time limit counts from when its worker starts it: now if it is first in line.
    if (slot.jobs.length === 1) pending.startedAt = performance.now();
    slot.worker.postMessage({ kind: "run", job: pending.job } satisfies ToWorker);
    // One timer for all running jobs: stops a job's worker once it passes the time limit.
    this.armWatchdog(Math.max(1, Math.min(250, Math.floor(this.options.timeoutMs / 10))));
  }

  protected onMessage(slot: Slot, message: PostedFromWorker): void {
    if (message instanceof ArrayBuffer) {
      // A success, packed: read without an object graph per answer (`packed-answer.ts`).
      const bytes = Buffer.from(message);
      const pending = this.answering(slot, packedAnswer.id(bytes));
      if (pending === null) return;
      slot.drops = this.counters.answeredWith(slot.drops, packedAnswer.unannounced(bytes), packedAnswer.gap(bytes));
      const readSet = packedAnswer.readSet(bytes);
      pending.resolve({
        outcome: postedSuccess(packedAnswer.value(bytes), packedAnswer.logLines(bytes)),
        ts: packedAnswer.ts(bytes),
        journal: packedAnswer.journal(bytes),
        readSet: readSet === null ? null : lazyReadSet(readSet),
      });
      this.dispatch();
      return;
    }
    switch (message.kind) {
      case "done": {
        const pending = this.answering(slot, message.id);
        if (pending === null) return;
        slot.drops = this.counters.answered(slot.drops, message.cacheDrops);
        pending.resolve({
          outcome: fromWire(message.outcome),
          ts: message.ts,
          journal: message.journal,
          readSet: message.readSet === null ? null : lazyReadSet(message.readSet),
        });
        this.dispatch();
        return;
      }
      case "ready":
        // The app is loaded (at start, or new code): the next job starts now.
        slot.starting = false;
        if (slot.jobs.length > 0) slot.jobs[0]!.startedAt = performance.now();
        return;
      case "pinned":
        slot.pins.get(message.id)?.(message.ts);
        slot.pins.delete(message.id);
        return;
      case "log":
        this.options.onLog(message.path, message.level, message.line);
        return;
      case "internal":
        this.options.logInternal(new Error(`query worker: ${message.text}`));
        return;
    }
  }

  /** Takes the job a worker answered off its line (null when `id` is not the one it runs), and starts the clock of the next. */
  private answering(slot: Slot, id: number): Pending | null {
    // A worker answers its jobs in the order they were posted.
    const pending = slot.jobs[0];
    if (pending === undefined || pending.job.id !== id) return null;
    slot.jobs.shift();
    if (slot.jobs.length > 0) slot.jobs[0]!.startedAt = performance.now();
    return pending;
  }

  /** A worker exited on its own (a crash; our kills take the slot out first): its jobs go elsewhere or fail. */
  protected lost(slot: Slot): void {
    const [running, ...waiting] = slot.jobs.splice(0);
    this.requeue(waiting);
    if (running !== undefined && running.slot !== null) running.resolve(unpinnedResult());
    else if (running !== undefined) {
      running.crashes += 1;
      if (running.crashes >= MAX_CRASHES || this.closed) {
        running.resolve(failure(`The query executor running ${running.job.path} stopped unexpectedly.`, []));
      } else this.queue.unshift(running);
    }
    this.dispatch();
  }

  /** Jobs that waited behind another on a worker that is gone: back to the front of the queue, in order (a pinned one has lost its snapshot). */
  private requeue(jobs: Pending[]): void {
    const again = jobs.filter((pending) => {
      if (pending.slot === null) return true;
      pending.resolve(unpinnedResult());
      return false;
    });
    this.queue.unshift(...again);
  }

  protected fail(pending: Pending, message: string): void {
    pending.resolve(failure(message, []));
  }

  protected closing(slot: Slot): void {
    for (const pending of slot.jobs.splice(0)) pending.resolve(failure("The engine is shutting down.", []));
  }

  /** Stops the workers whose running job passed its time limit; the jobs queued behind it go back to the pool. */
  protected watch(now: number): boolean {
    let busy = false;
    for (const slot of [...this.slots]) {
      const pending = slot.jobs[0];
      if (pending === undefined) continue;
      if (now - pending.startedAt < this.options.timeoutMs + (slot.starting ? WORKER_START_ALLOWANCE_MS : 0)) {
        busy = true;
        continue;
      }
      this.stopWorker(slot);
      const [, ...waiting] = slot.jobs.splice(0);
      this.requeue(waiting);
      const limit = this.options.timeoutMs / 1000;
      pending.resolve(failure(`${pending.job.path} ran longer than ${limit} s and was stopped.`, [], "FunctionTimeout"));
    }
    return busy;
  }
}

/** Time a pin is given up before its worker releases it (ms). */
const PIN_MARGIN_MS = 1_000;
