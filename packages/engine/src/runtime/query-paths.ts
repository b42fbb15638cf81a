import { displayFunctionName } from "../components/function-references.js";
import { EngineError } from "../errors.js";
import type { ReadSet } from "../query/read-set.js";
import type { CallReporter } from "./call-reporting.js";
import type { CommitAnnouncer } from "./commit-announcer.js";
import { callerIdentity, type FunctionCalls } from "./function-calls.js";
import type { CallOutcome } from "./function-outcome.js";
import type { RegisteredFunction } from "./function-registry.js";
import type { QueryCache } from "./query-cache.js";
import type { QueryWorkerPool, WorkerQueryResult } from "./query-workers/query-pool.js";
import type { RecentCommits } from "./recent-commits.js";
import type { ReadRecorder, RuntimeDatabase } from "./runtime-database.js";
import type { CallRequest, SnapshotQueryResult, TrackedQueryResult } from "./runtime-types.js";
import type { SerialLock } from "./serial-lock.js";
import type { Identity } from "./services.js";

/** How long a snapshot handed out by `/api/query_ts` stays readable (ms). */
const SNAPSHOT_WINDOW_MS = 30_000;

/** What the query paths share with the runtime that owns them. */
export interface QueryPathDeps {
  readonly db: RuntimeDatabase;
  readonly lock: SerialLock;
  /** Query executors on worker threads, or null to run queries on this thread. */
  readonly pool: QueryWorkerPool | null;
  readonly queryCache: QueryCache | null;
  readonly recentCommits: RecentCommits;
  readonly announcer: CommitAnnouncer;
  readonly calls: FunctionCalls;
  readonly reporter: CallReporter;
  /** True while the pool has the loaded app's code (an app set without its source runs queries here). */
  poolHasApp(): boolean;
}

/** `onWorker`'s `finish` that hands the recorded result on as it is. */
const asRecorded = (_request: CallRequest, result: WorkerQueryResult): WorkerQueryResult => result;

/**
 * Every way a query runs, seen from the runtime's thread (the main thread): subscription
 * runs (`runTracked`, `runQueryLocked`), one-off calls through the query cache, and reads at
 * a given snapshot (`/api/query_ts`, `/api/query_at_ts`). With query workers the query runs
 * on one at its latest snapshot and this thread only resolves, checks and records it;
 * without, it runs here under the lock in a read transaction.
 */
export class QueryPaths {
  constructor(private readonly deps: QueryPathDeps) {}

  /**
   * Runs a query for a live subscription and returns what it read. The caller
   * must hold `lock` so that several subscriptions see one snapshot.
   */
  async runQueryLocked(request: CallRequest): Promise<TrackedQueryResult> {
    const { calls, reporter, db } = this.deps;
    if (this.deps.poolHasApp()) {
      const { outcome, readSet, journal } = await this.queryOnWorker(request, true);
      return { outcome: reporter.forCaller(request, outcome), reads: recordedReads(readSet), journal };
    }
    const startedAt = reporter.now();
    const logLines: string[] = [];
    const reads = db.newReads();
    const tx = calls.newTx(false, reads);
    tx.journalIn = request.journal ?? null;
    let outcome: CallOutcome;
    try {
      const fn = calls.resolve(request.path, request.allowInternal, "query");
      const argsJson = calls.decodeArgs(fn, request.args);
      outcome = await this.readTransaction(() => calls.executeInTransaction(fn, argsJson, request, logLines, tx));
    } catch (e) {
      outcome = reporter.errorOutcome(e, logLines);
    }
    reporter.record(request.path, "query", request.origin, outcome, startedAt, request.identity);
    return { outcome: reporter.forCaller(request, outcome), reads, journal: tx.journalOut };
  }

  /**
   * Runs a query for a live subscription at the latest snapshot the executor can read and
   * says which one (`ts`). The caller holds no lock: runs may overlap each other and
   * commits. Contract for the real-time layer: every commit with ts <= the result's `ts`
   * has been announced through `onCommit` before the returned promise resolves.
   */
  runTracked(request: CallRequest): Promise<SnapshotQueryResult> {
    // A worker reads at the latest snapshot when it starts; commits are announced on this
    // thread in the same turn as they happen, so any commit <= ts was announced before
    // the worker's answer (a later event) is handled here.
    if (this.deps.poolHasApp()) return this.onWorker(request, true, this.asTracked);
    return this.deps.lock.run(async () => {
      const ts = this.deps.db.latestTs();
      const { outcome, reads, journal } = await this.runQueryLocked(request);
      return { outcome, readSet: reads.readSet(), journal, ts };
    });
  }

  /** A one-off query (HTTP, an action's runQuery): from the query cache, or run and cached. */
  async runQuery(fn: RegisteredFunction, argsJson: string, request: CallRequest, logLines: string[]): Promise<CallOutcome> {
    const { queryCache: cache, calls, db } = this.deps;
    const key = cache === null ? null : `${fn.component}\u0000${fn.path}\u0000${request.allowInternal ? 1 : 0}\u0000${identityKey(request.identity)}\u0000${argsJson}`;
    const cached = key === null ? null : cache!.get(key);
    if (cached !== null) return cached;
    if (this.deps.poolHasApp()) {
      const { outcome, ts, readSet } = await this.poolRun(fn, argsJson, request, key !== null);
      await this.deps.announcer.announced(ts);
      // Cached only when nothing committed since its snapshot: the cache is invalidated at
      // each commit, so a result read before the latest commit may already be stale.
      if (key !== null && outcome.status === "success" && readSet !== null && ts === db.latestTs()) cache!.set(key, outcome, readSet);
      return outcome;
    }
    return this.deps.lock.run(async () => {
      // An identical call that held the lock before this one may have just cached its result.
      const filled = key === null ? null : cache!.get(key);
      if (filled !== null) return filled;
      // Without a cache nobody looks at what a one-off query read.
      const reads = key === null ? db.discardedReads : db.newReads();
      const outcome = await this.readTransaction(() => calls.executeInTransaction(fn, argsJson, request, logLines, calls.newTx(false, reads)));
      // Still under the lock: no commit can come between the run and its caching.
      if (key !== null && outcome.status === "success") cache!.set(key, outcome, reads.readSet());
      return outcome;
    });
  }

  /**
   * A snapshot for `/api/query_ts`: with query workers, the latest one pinned on a worker
   * for SNAPSHOT_WINDOW_MS so `queryAtTs` can read it after later commits.
   */
  async snapshotTs(): Promise<bigint> {
    if (this.deps.pool === null) return this.deps.db.latestTs();
    const ts = await this.deps.pool.pin(SNAPSHOT_WINDOW_MS);
    await this.deps.announcer.announced(ts);
    return ts;
  }

  /**
   * A one-off query at snapshot `ts` (`/api/query_at_ts`, `consistentQuery`): on the worker
   * that pinned it; otherwise at the latest snapshot, when no commit since `ts` wrote into
   * what the query read (then its result at `ts` is the same). Else `SnapshotUnavailable`.
   */
  async queryAtTs(request: CallRequest, ts: bigint): Promise<CallOutcome> {
    const { db, reporter } = this.deps;
    if (ts > db.latestTs()) {
      throw new EngineError("SnapshotUnavailable", "That ts is newer than the latest commit; ask /api/query_ts for a snapshot.", "conflict");
    }
    const onWorkers = this.deps.poolHasApp();
    if (onWorkers) {
      const pinned = await this.deps.pool!.run({ ...this.jobFields(request), atTs: ts, tracked: false });
      if (pinned !== null) return reporter.forCaller(request, pinned.outcome);
    }
    const latest = onWorkers
      ? await this.queryOnWorker(request, true)
      : await this.deps.lock.run(async () => {
          const at = db.latestTs();
          const { outcome, reads } = await this.runQueryLocked(request);
          return { outcome, ts: at, readSet: reads.readSet() };
        });
    const changed = latest.readSet === null ? null : this.deps.recentCommits.changedSince(ts, latest.ts, latest.readSet);
    if (changed === false || (latest.outcome.status === "error" && latest.readSet === null)) return onWorkers ? reporter.forCaller(request, latest.outcome) : latest.outcome;
    throw new EngineError(
      "SnapshotUnavailable",
      "The data this query reads changed since that ts, and that snapshot is no longer held; ask /api/query_ts again.",
      "conflict",
    );
  }

  /**
   * Runs a query on a worker at its latest snapshot (resolved and argument-checked here,
   * so the worker only runs it); records the call. Never rejects for the function's errors.
   */
  private queryOnWorker(request: CallRequest, tracked: boolean): Promise<WorkerQueryResult> {
    return this.onWorker(request, tracked, asRecorded);
  }

  /**
   * `queryOnWorker`, its result handed to `finish` once recorded. One reaction to the pool's
   * answer (and one to the announcement, when the commit it read was not announced yet)
   * rather than async functions awaiting each other: a fan-out makes a thousand of these per
   * commit on the main thread, and each async layer was a promise, a suspended frame and a
   * reaction more per run. Still a rejection, never a throw, if recording fails.
   */
  private onWorker<T>(request: CallRequest, tracked: boolean, finish: (request: CallRequest, result: WorkerQueryResult) => T): Promise<T> {
    const { calls, reporter } = this.deps;
    const startedAt = reporter.now();
    const done = (result: WorkerQueryResult): T => {
      reporter.record(displayFunctionName(request.component ?? "", request.path), "query", request.origin, result.outcome, startedAt, request.identity);
      return finish(request, result);
    };
    const failed = (e: unknown): T => done(this.failedOnWorker(e));
    let answer: Promise<WorkerQueryResult>;
    try {
      const fn = calls.resolve(request.path, request.allowInternal, "query", request.component);
      answer = this.poolRun(fn, calls.decodeArgs(fn, request.args), request, tracked);
    } catch (e) {
      return Promise.resolve().then(() => failed(e));
    }
    return answer.then((result) => {
      let announced: Promise<void> | null;
      try {
        request.executed?.();
        // The writer's commit may reach a query worker's snapshot before its announcement
        // reaches this thread (its WAL sync may still run). Usually it was: no extra turn then.
        announced = this.deps.announcer.announced(result.ts);
      } catch (e) {
        return failed(e);
      }
      return announced === null ? done(result) : announced.then(() => done(result), failed);
    }, failed);
  }

  /** A subscription run's result as `runTracked` answers it (made once: no closure per run). */
  private readonly asTracked = (request: CallRequest, result: WorkerQueryResult): SnapshotQueryResult => ({
    outcome: this.deps.reporter.forCaller(request, result.outcome),
    readSet: result.readSet ?? { intervals: [], ids: [] },
    journal: result.journal,
    ts: result.ts,
  });

  /** What `queryOnWorker` answers when resolving, checking, running or waiting threw. */
  private failedOnWorker(e: unknown): WorkerQueryResult {
    return { outcome: this.deps.reporter.errorOutcome(e, []), ts: this.deps.db.latestTs(), journal: null, readSet: null };
  }

  private poolRun(fn: RegisteredFunction, argsJson: string, request: CallRequest, tracked: boolean): Promise<WorkerQueryResult> {
    return this.deps.pool!.run({
      path: fn.path,
      component: fn.component,
      argsJson,
      identity: callerIdentity(fn, request.identity),
      journal: request.journal ?? null,
      tracked,
      clockOffsetMs: this.deps.calls.clockOffset(),
      // Set by the pool; here so the object has its final shape from the start.
      id: 0,
      appVersion: 0,
    });
  }

  /** A worker job for a request: resolved and argument-checked here (throws like `call`). */
  private jobFields(request: CallRequest) {
    const { calls } = this.deps;
    const fn = calls.resolve(request.path, request.allowInternal, "query", request.component);
    const argsJson = calls.decodeArgs(fn, request.args);
    return { path: fn.path, component: fn.component, argsJson, identity: callerIdentity(fn, request.identity), journal: null, clockOffsetMs: calls.clockOffset() };
  }

  /** Runs a query's execution in a read transaction (one snapshot, cheaper point reads). */
  private async readTransaction<T>(work: () => Promise<T>): Promise<T> {
    this.deps.db.beginRead();
    try {
      return await work();
    } finally {
      this.deps.db.endRead();
    }
  }
}

/**
 * Identities in cache keys: a number per identity object, which the token
 * cache hands out again for every request with the same token. Another
 * object with equal claims only misses the cache; it never shares a result
 * with a different identity.
 */
const identityNumbers = new WeakMap<Identity, number>();
let lastIdentityNumber = 0;

function identityKey(identity: Identity | null): string {
  if (identity === null) return "-";
  let number = identityNumbers.get(identity);
  if (number === undefined) {
    number = ++lastIdentityNumber;
    identityNumbers.set(identity, number);
  }
  return String(number);
}

/** A read set that came back from a worker, as the recorder the lock-holding callers take. */
function recordedReads(readSet: ReadSet | null): ReadRecorder {
  const recorded = readSet ?? { intervals: [], ids: [] };
  return { addInterval() {}, addId() {}, trackScan: () => ({ advance() {}, finish() {} }), readSet: () => recorded };
}
