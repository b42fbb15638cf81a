import type { JSONValue } from "convex/values";
import { componentDatabase } from "../components/component-database.js";
import { displayFunctionName, type FunctionTarget } from "../components/function-references.js";
import { EngineError } from "../errors.js";
import { Execution, type ExecutionHost, type FunctionAddress, type TransactionState } from "./execution.js";
import { resolveAddress } from "./function-address.js";
import { reportThrown, newRequestId, type CallOutcome } from "./function-outcome.js";
import type { AppDefinition, RegisteredFunction, UdfKind } from "./function-registry.js";
import type { LogLevel } from "./log-capture.js";
import type { CommitSummary, ReadRecorder, RuntimeDatabase } from "./runtime-database.js";
import { MutationBatcher, type QueueStats } from "./mutation-batch.js";
import { QueryCache, type QueryCacheOptions } from "./query-cache.js";
import { SerialLock } from "./serial-lock.js";
import type { BlobService, DeploymentInfo, Identity } from "./services.js";
import { runWithSyscalls } from "./syscall-router.js";
import { canonicalUdfPath } from "./udf-path.js";
import { checkArgs, checkReturns } from "./validation.js";
import { outcomeForClient, SHOW_ERRORS, type ClientErrorPolicy } from "./client-errors.js";
import { Watchdog } from "./watchdog.js";
import { QueryWorkerPool, type WorkerQueryResult } from "./query-workers/query-pool.js";
import type { AppSource } from "./query-workers/worker-protocol.js";
import { RecentCommits } from "./recent-commits.js";
import { WriterClient, type RemoteMutation, type WriterCommit, type WriterStats } from "./writer/writer-client.js";
import { ActionWorkerPool, type RunBridge, type RunEnd } from "./action-workers/action-pool.js";
import type { HttpActionJob } from "./action-workers/action-protocol.js";
import type { ValidationContext } from "../values/validator.js";
import { checkArgsLimits, checkResultLimits } from "../values/value-limits.js";
import type { ReadSet } from "../query/read-set.js";
import type { CallRequest, CallRecord, CallerIdentity, RuntimeOptions, TrackedQueryResult, SnapshotQueryResult } from "./runtime-types.js";

export type { CallRequest, CallRecord, CallerIdentity, RuntimeOptions, TrackedQueryResult, SnapshotQueryResult } from "./runtime-types.js";

/** Query cache bounds: results by count and by (approximate) bytes, and their age (Convex's own limit for time-dependent results). */
const QUERY_CACHE_DEFAULTS: QueryCacheOptions = { maxEntries: 1_000, maxBytes: 64 << 20, maxAgeMs: 5_000, now: () => performance.now() };

/** How long a snapshot handed out by `/api/query_ts` stays readable (ms). */
const SNAPSHOT_WINDOW_MS = 30_000;

/** How long a query or mutation may run unless `transactionTimeoutMs` says otherwise. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** How long an action or HTTP action may run unless `actionTimeoutMs` says otherwise: Convex's limit for Node.js actions, 10 minutes. */
export const DEFAULT_ACTION_TIMEOUT_MS = 600_000;

/**
 * The executor: runs queries and mutations one at a time under one lock,
 * mutations group-committed (`mutation-batch.ts`: each in a savepoint of a
 * shared transaction, one fsync per batch; nested mutations in savepoints of
 * their own), and actions concurrently outside the lock (convex-interface.md
 * §8, design.md §4).
 */
export class Runtime implements ExecutionHost {
  readonly lock = new SerialLock();
  readonly db: RuntimeDatabase;
  readonly blobs: BlobService | null;
  readonly deployment: DeploymentInfo;
  private app: AppDefinition | null = null;
  /** The database as each component sees it, built once per component path. */
  private readonly componentDbs = new Map<string, RuntimeDatabase>();
  private readonly options: RuntimeOptions;
  private readonly mutations: MutationBatcher;
  private readonly watchdog: Watchdog;
  private readonly queryCache: QueryCache | null;
  /** Query executors on worker threads, or null to run queries on this thread. */
  private readonly pool: QueryWorkerPool | null;
  /** True while the pool has the loaded app's code (an app set without its source runs queries here). */
  private poolHasApp = false;
  /** The loaded app came with its source (workers can load it). */
  private hasSource = false;
  private sourceVersion = 0;
  /** Mutations on a worker thread, or null to run them on this one. */
  private readonly writer: WriterClient | null;
  /** Actions and HTTP actions on worker threads, or null to run them on this one. */
  private readonly actionPool: ActionWorkerPool | null;
  /** True while the action pool has the loaded app's code. */
  private actionPoolHasApp = false;
  /** Callers waiting until a commit ts has been announced here (worker results read at a later snapshot). */
  private announcedWaiters: { ts: bigint; resolve(): void }[] = [];
  /** Write sets of the latest commits, to serve a query at an older snapshot (`queryAtTs`). */
  private readonly recentCommits = new RecentCommits();
  /** How validators resolve `v.id(table)`; one object, so compiled validators are cached per runtime. */
  private readonly validation: ValidationContext;

  constructor(options: RuntimeOptions) {
    this.options = options;
    this.db = options.db;
    this.validation = { tableNameOf: (n) => this.db.tableNameOfNumber(n) };
    this.watchdog = new Watchdog(options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.queryCache = options.queryCache === false ? null : new QueryCache({ ...QUERY_CACHE_DEFAULTS, ...options.queryCache });
    this.mutations = new MutationBatcher(
      this.lock,
      {
      db: this.db,
      // Mutations take no read set: with one writer there is nothing to validate it against.
      newTx: () => this.newTx(true, this.db.discardedReads),
      committed: (commit, txs) => this.committed(commit, txs),
      errorOutcome: (e, logLines) => this.errorOutcome(e, logLines),
      logInternal: (e) => this.logInternal(e),
      },
      () => (this.runsMutationsOnWriter ? (items) => this.writer!.runBatch(items as RemoteMutation[], this.clockOffset()) : null),
    );
    this.blobs = options.blobs ?? null;
    this.deployment = options.deployment;
    const workers = options.queryWorkers ?? 0;
    this.pool =
      workers > 0 && options.dbPath !== undefined
        ? new QueryWorkerPool({
            size: workers,
            dbPath: options.dbPath,
            deployment: options.deployment,
            timeoutMs: options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS,
            onLog: (path, level, line) => this.options.onLog?.(path, level, line),
            logInternal: (e) => this.logInternal(e),
          })
        : null;
    this.writer =
      (options.writerThread ?? workers > 0) && options.dbPath !== undefined
        ? new WriterClient({
            dbPath: options.dbPath,
            synchronous: options.synchronous,
            flushWal: options.flushWal,
            deployment: options.deployment,
            timeoutMs: options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS,
            onCommit: (commit) => this.writerCommitted(commit),
            issueUploadToken: () => {
              const token = this.blobs?.issueUploadToken();
              if (typeof token !== "string") throw new EngineError("StorageUnavailable", "File storage is not configured for this engine.");
              return token;
            },
            onLog: (path, level, line) => this.options.onLog?.(path, level, line),
            logInternal: (e) => this.logInternal(e),
          })
        : null;
    const actionWorkers = options.actionWorkers ?? 0;
    this.actionPool =
      actionWorkers > 0
        ? new ActionWorkerPool({
            size: actionWorkers,
            deployment: options.deployment,
            timeoutMs: options.actionTimeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS,
            logInternal: (e) => this.logInternal(e),
          })
        : null;
  }

  /** True when actions and HTTP actions run on worker threads (they have the loaded app's code). */
  get runsActionsOnWorkers(): boolean {
    return this.actionPoolHasApp;
  }

  /** The writer thread's client (tests inject faults through it), or null without one. */
  get writerThread(): WriterClient | null {
    return this.writer;
  }

  /** The writer's batch counters and how long mutations queued for it (benchmarks read them); null without a writer thread. */
  writerStats(): (WriterStats & QueueStats) | null {
    return this.writer === null ? null : { ...this.writer.stats(), ...this.mutations.queueStats };
  }

  /** True when mutations run on the writer thread (it has the loaded app's code). */
  get runsMutationsOnWriter(): boolean {
    return this.writer !== null && this.hasSource;
  }

  /** A due scheduled mutation with its state flip, on the writer thread (see `runMutationJob`). */
  runScheduledMutation(jobId: string, name: string, component: string): Promise<"ran" | "skipped" | { error: string }> {
    return this.lock.run(() => this.writer!.runScheduled(jobId, name, component, this.clockOffset()));
  }

  /**
   * A commit of the writer thread (in ts order, before the answers that depend on it):
   * this thread's connection learns of it, then everyone who listens to commits here.
   */
  private writerCommitted(commit: WriterCommit): void {
    const ids: string[] = [];
    const writes = commit.writes.map((w) => {
      ids.push(w.id);
      // Keys crossed the thread boundary as plain Uint8Arrays; readers of write sets use Buffer methods.
      return { ...w, keys: w.keys.map((k) => ({ index: k.index, oldKey: asBuffer(k.oldKey), newKey: asBuffer(k.newKey) })) };
    });
    this.db.observeCommit(commit.ts, commit.previousTs, ids);
    for (const id of commit.deletedBlobs) {
      try {
        this.blobs?.deleteBlob(id);
      } catch (e) {
        this.logInternal(e);
      }
    }
    this.announce({ ts: commit.ts, previousTs: commit.previousTs, writes }, commit.touchedScheduler, false);
  }

  /** Resolves once every commit up to `ts` has been announced on this thread. */
  private announced(ts: bigint): Promise<void> | null {
    if (ts <= this.db.latestTs()) return null;
    return new Promise((resolve) => this.announcedWaiters.push({ ts, resolve }));
  }

  /**
   * Swaps in a (re)loaded app; calls that already started finish on the old code. With
   * `source` (the bundle it was evaluated from) query workers load it too; without, queries
   * run on this thread.
   */
  setApp(app: AppDefinition, source?: Omit<AppSource, "version">): void {
    this.app = app;
    this.hasSource = source !== undefined;
    this.poolHasApp = this.pool !== null && source !== undefined;
    if (this.poolHasApp) this.pool!.setApp(source!);
    if (this.writer !== null && source !== undefined) this.writer.setApp({ ...source, version: ++this.sourceVersion });
    this.actionPoolHasApp = this.actionPool !== null && source !== undefined;
    if (this.actionPoolHasApp) this.actionPool!.setApp(source!);
    // New code or new env vars: cached results may no longer be what the functions return.
    this.queryCache?.clear();
  }

  /** The loaded app, or an error when none is loaded yet. */
  get definition(): AppDefinition {
    if (this.app === null) throw new EngineError("NoFunctions", "No functions are loaded yet.", "transient");
    return this.app;
  }

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  functionKind(path: string, component = ""): UdfKind | null {
    return this.app?.components.get(component)?.functions.get(canonicalUdfPath(path))?.kind ?? null;
  }

  findFunction(target: FunctionTarget): RegisteredFunction | null {
    const fn = this.app?.components.get(target.component)?.functions.get(canonicalUdfPath(target.path));
    return fn === undefined || (target.exportedOnly && fn.visibility === "internal") ? null : fn;
  }

  databaseFor(component: string): RuntimeDatabase {
    let db = this.componentDbs.get(component);
    if (db === undefined) {
      db = componentDatabase(this.db, component);
      this.componentDbs.set(component, db);
    }
    return db;
  }

  /** Runs a function by path and reports its outcome; never throws for the function's own errors. */
  async call(request: CallRequest): Promise<CallOutcome> {
    const startedAt = this.now();
    const logLines: string[] = [];
    let kind: UdfKind | "httpAction" = request.expectKind ?? "query";
    let outcome: CallOutcome;
    try {
      const fn = this.resolve(request.path, request.allowInternal, request.expectKind, request.component);
      kind = fn.kind;
      const argsJson = this.decodeArgs(fn, request.args);
      outcome = await this.runResolved(fn, argsJson, request, logLines);
    } catch (e) {
      outcome = this.errorOutcome(e, logLines);
    }
    this.record(displayFunctionName(request.component ?? "", request.path), kind, request.origin, outcome, startedAt, request.identity);
    return this.forCaller(request, outcome);
  }

  /**
   * Runs a query for a live subscription and returns what it read. The caller
   * must hold `lock` so that several subscriptions see one snapshot.
   */
  async runQueryLocked(request: CallRequest): Promise<TrackedQueryResult> {
    if (this.poolHasApp) {
      const { outcome, readSet, journal } = await this.queryOnWorker(request, true);
      return { outcome: this.forCaller(request, outcome), reads: recordedReads(readSet), journal };
    }
    const startedAt = this.now();
    const logLines: string[] = [];
    const reads = this.db.newReads();
    const tx = this.newTx(false, reads);
    tx.journalIn = request.journal ?? null;
    let outcome: CallOutcome;
    try {
      const fn = this.resolve(request.path, request.allowInternal, "query");
      const argsJson = this.decodeArgs(fn, request.args);
      outcome = await this.readTransaction(() => this.executeInTransaction(fn, argsJson, request, logLines, tx));
    } catch (e) {
      outcome = this.errorOutcome(e, logLines);
    }
    this.record(request.path, "query", request.origin, outcome, startedAt, request.identity);
    return { outcome: this.forCaller(request, outcome), reads, journal: tx.journalOut };
  }

  /**
   * Runs a query for a live subscription at the latest snapshot the executor can read and
   * says which one (`ts`). The caller holds no lock: runs may overlap each other and
   * commits. Contract for the real-time layer: every commit with ts <= the result's `ts`
   * has been announced through `onCommit` before the returned promise resolves.
   */
  async runTracked(request: CallRequest): Promise<SnapshotQueryResult> {
    if (this.poolHasApp) {
      // A worker reads at the latest snapshot when it starts; commits are announced on this
      // thread in the same turn as they happen, so any commit <= ts was announced before
      // the worker's answer (a later event) is handled here.
      const { outcome, readSet, journal, ts } = await this.queryOnWorker(request, true);
      return { outcome: this.forCaller(request, outcome), readSet: readSet ?? { intervals: [], ids: [] }, journal, ts };
    }
    return this.lock.run(async () => {
      const ts = this.db.latestTs();
      const { outcome, reads, journal } = await this.runQueryLocked(request);
      return { outcome, readSet: reads.readSet(), journal, ts };
    });
  }

  private async runResolved(
    fn: RegisteredFunction,
    argsJson: string,
    request: CallRequest,
    logLines: string[],
  ): Promise<CallOutcome> {
    switch (fn.kind) {
      case "query":
        return this.runQuery(fn, argsJson, request, logLines);
      case "mutation":
        return this.mutations.submit({
          run: (tx) => {
            this.options.onMutationStart?.(request);
            return this.executeInTransaction(fn, argsJson, request, logLines, tx);
          },
          idempotencyKey: request.idempotencyKey,
          logLines,
          remote: {
            path: fn.path,
            component: fn.component,
            args: request.args ?? {},
            identity: request.identity,
            idempotencyKey: request.idempotencyKey,
            origin: request.origin,
          },
        } as Omit<RemoteMutation, "resolve">);
      case "action":
        return this.runAction(fn, argsJson, request, logLines);
    }
  }

  /** Commits the open transaction and runs what waits for durability. */
  private commit(tx: TransactionState): CommitSummary {
    const commit = this.db.commit();
    this.committed(commit, [tx]);
    return commit;
  }

  /** After a commit of these transactions on this thread: their after-commit effects, then the announcement. */
  private committed(commit: CommitSummary, txs: readonly TransactionState[]): void {
    let touchedScheduler = false;
    for (const tx of txs) {
      touchedScheduler ||= tx.touchedScheduler;
      for (const effect of tx.afterCommit) {
        try {
          effect();
        } catch (e) {
          this.options.logInternal?.(e);
        }
      }
    }
    this.announce(commit, touchedScheduler, true);
  }

  /** Tells everyone on this thread who follows commits, in ts order. */
  private announce(commit: CommitSummary, touchedScheduler: boolean, ownConnection: boolean): void {
    // Before anyone hears of the commit: a client that saw its mutation succeed must not get a stale cached query.
    this.queryCache?.invalidate(commit.writes);
    this.recentCommits.add(commit);
    // The scheduler only sets a timer here; before onCommit so a writer thread can report both together.
    if (touchedScheduler) this.options.onSchedulerChange?.();
    this.options.onCommit?.(commit);
    this.pool?.committed(commit);
    if (ownConnection) this.writer?.committed(commit.ts, commit.previousTs, commit.writes.map((w) => w.id));
    if (this.announcedWaiters.length > 0) {
      const ready = this.announcedWaiters.filter((w) => w.ts <= commit.ts);
      this.announcedWaiters = this.announcedWaiters.filter((w) => w.ts > commit.ts);
      for (const waiter of ready) waiter.resolve();
    }
  }

  /** Stops the query workers, the writer and the action workers. */
  async close(): Promise<void> {
    await this.actionPool?.close();
    await this.pool?.close();
    await this.writer?.close();
    for (const waiter of this.announcedWaiters.splice(0)) waiter.resolve();
  }

  private async executeInTransaction(
    fn: RegisteredFunction,
    argsJson: string,
    request: CallRequest,
    logLines: string[],
    tx: TransactionState,
  ): Promise<CallOutcome> {
    const exec = new Execution(
      this,
      fn.kind,
      fn.path,
      callerIdentity(fn, request.identity),
      "",
      logLines,
      tx,
      request.scheduledJobId ?? null,
      fn.component,
    );
    try {
      const result = await this.withTimeout(exec, this.invoke(fn, exec, argsJson));
      return { status: "success", value: result.value, valueText: result.text, logLines };
    } catch (e) {
      return this.errorOutcome(e, logLines);
    } finally {
      exec.finish();
    }
  }

  /**
   * Runs a query on a worker at its latest snapshot (resolved and argument-checked here,
   * so the worker only runs it); records the call. Never throws for the function's errors.
   */
  private async queryOnWorker(request: CallRequest, tracked: boolean): Promise<WorkerQueryResult> {
    const startedAt = this.now();
    let result: WorkerQueryResult;
    try {
      const fn = this.resolve(request.path, request.allowInternal, "query", request.component);
      result = await this.poolRun(fn, this.decodeArgs(fn, request.args), request, tracked);
      // The writer's commit may reach a query worker's snapshot before its announcement reaches this thread.
      await this.announced(result.ts);
    } catch (e) {
      result = { outcome: this.errorOutcome(e, []), ts: this.db.latestTs(), journal: null, readSet: null };
    }
    this.record(displayFunctionName(request.component ?? "", request.path), "query", request.origin, result.outcome, startedAt, request.identity);
    return result;
  }

  private poolRun(fn: RegisteredFunction, argsJson: string, request: CallRequest, tracked: boolean): Promise<WorkerQueryResult> {
    return this.pool!.run({
      path: fn.path,
      component: fn.component,
      argsJson,
      identity: callerIdentity(fn, request.identity),
      journal: request.journal ?? null,
      tracked,
      clockOffsetMs: this.clockOffset(),
    });
  }

  /** A worker job for a request: resolved and argument-checked here (throws like `call`). */
  private jobFields(request: CallRequest) {
    const fn = this.resolve(request.path, request.allowInternal, "query", request.component);
    const argsJson = this.decodeArgs(fn, request.args);
    return { path: fn.path, component: fn.component, argsJson, identity: callerIdentity(fn, request.identity), journal: null, clockOffsetMs: this.clockOffset() };
  }

  private clockOffset(): number {
    return this.options.clockOffsetMs?.() ?? 0;
  }

  /** A one-off query (HTTP, an action's runQuery): from the query cache, or run and cached. */
  private async runQuery(fn: RegisteredFunction, argsJson: string, request: CallRequest, logLines: string[]): Promise<CallOutcome> {
    const cache = this.queryCache;
    const key = cache === null ? null : `${fn.component}\u0000${fn.path}\u0000${request.allowInternal ? 1 : 0}\u0000${identityKey(request.identity)}\u0000${argsJson}`;
    const cached = key === null ? null : cache!.get(key);
    if (cached !== null) return cached;
    if (this.poolHasApp) {
      const { outcome, ts, readSet } = await this.poolRun(fn, argsJson, request, key !== null);
      await this.announced(ts);
      // Cached only when nothing committed since its snapshot: the cache is invalidated at
      // each commit, so a result read before the latest commit may already be stale.
      if (key !== null && outcome.status === "success" && readSet !== null && ts === this.db.latestTs()) cache!.set(key, outcome, readSet);
      return outcome;
    }
    return this.lock.run(async () => {
      // An identical call that held the lock before this one may have just cached its result.
      const filled = key === null ? null : cache!.get(key);
      if (filled !== null) return filled;
      // Without a cache nobody looks at what a one-off query read.
      const reads = key === null ? this.db.discardedReads : this.db.newReads();
      const outcome = await this.readTransaction(() => this.executeInTransaction(fn, argsJson, request, logLines, this.newTx(false, reads)));
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
    if (this.pool === null) return this.db.latestTs();
    const ts = await this.pool.pin(SNAPSHOT_WINDOW_MS);
    await this.announced(ts);
    return ts;
  }

  /**
   * A one-off query at snapshot `ts` (`/api/query_at_ts`, `consistentQuery`): on the worker
   * that pinned it; otherwise at the latest snapshot, when no commit since `ts` wrote into
   * what the query read (then its result at `ts` is the same). Else `SnapshotUnavailable`.
   */
  async queryAtTs(request: CallRequest, ts: bigint): Promise<CallOutcome> {
    if (ts > this.db.latestTs()) {
      throw new EngineError("SnapshotUnavailable", "That ts is newer than the latest commit; ask /api/query_ts for a snapshot.", "conflict");
    }
    if (this.poolHasApp) {
      const pinned = await this.pool!.run({ ...this.jobFields(request), atTs: ts, tracked: false });
      if (pinned !== null) return this.forCaller(request, pinned.outcome);
    }
    const latest = this.poolHasApp
      ? await this.queryOnWorker(request, true)
      : await this.lock.run(async () => {
          const at = this.db.latestTs();
          const { outcome, reads } = await this.runQueryLocked(request);
          return { outcome, ts: at, readSet: reads.readSet() };
        });
    const changed = latest.readSet === null ? null : this.recentCommits.changedSince(ts, latest.ts, latest.readSet);
    if (changed === false || (latest.outcome.status === "error" && latest.readSet === null)) return this.poolHasApp ? this.forCaller(request, latest.outcome) : latest.outcome;
    throw new EngineError(
      "SnapshotUnavailable",
      "The data this query reads changed since that ts, and that snapshot is no longer held; ask /api/query_ts again.",
      "conflict",
    );
  }

  /** The outcome as the caller may see it: redacted for clients outside dev mode (`client-errors.ts`). */
  private forCaller(request: CallRequest, outcome: CallOutcome): CallOutcome {
    if (request.origin !== "client") return outcome;
    return outcomeForClient(outcome, canonicalUdfPath(request.path), this.clientErrors, () => newRequestId(this.options.random));
  }

  /** What clients see of failures (HTTP actions apply it to their 500 answers too). */
  get clientErrors(): ClientErrorPolicy {
    return this.options.clientErrors ?? SHOW_ERRORS;
  }

  /** Drops every cached query result (the deployment clock moved). */
  clearQueryCache(): void {
    this.queryCache?.clear();
  }

  /** Runs a query's execution in a read transaction (one snapshot, cheaper point reads). */
  private async readTransaction<T>(work: () => Promise<T>): Promise<T> {
    this.db.beginRead();
    try {
      return await work();
    } finally {
      this.db.endRead();
    }
  }

  private async runAction(
    fn: RegisteredFunction,
    argsJson: string,
    request: CallRequest,
    logLines: string[],
  ): Promise<CallOutcome> {
    if (this.actionPoolHasApp) return this.actionOnWorker(fn, argsJson, request, logLines);
    const exec = new Execution(
      this,
      "action",
      fn.path,
      callerIdentity(fn, request.identity),
      newRequestId(this.options.random),
      logLines,
      null,
      request.scheduledJobId ?? null,
      fn.component,
    );
    try {
      const result = await this.invoke(fn, exec, argsJson);
      return { status: "success", value: result.value, valueText: result.text, logLines };
    } catch (e) {
      return this.errorOutcome(e, logLines);
    } finally {
      exec.finish();
    }
  }

  /**
   * An action on a worker thread. This thread resolved it and checked its arguments; it
   * answers the action's ops on an execution of its own (the same handlers as for an
   * action running here: `runQuery` to the query workers, `runMutation` to the writer,
   * the scheduler, storage) and checks the return value.
   */
  private async actionOnWorker(fn: RegisteredFunction, argsJson: string, request: CallRequest, logLines: string[]): Promise<CallOutcome> {
    const identity = callerIdentity(fn, request.identity);
    const requestId = newRequestId(this.options.random);
    const scheduledJobId = request.scheduledJobId ?? null;
    const exec = new Execution(this, "action", fn.path, identity, requestId, logLines, null, scheduledJobId, fn.component);
    try {
      const end = await this.actionPool!.run(
        { kind: "action", path: fn.path, component: fn.component, argsJson, identity, requestId, scheduledJobId, clockOffsetMs: this.clockOffset() },
        workerBridge(exec),
        request.origin === "action",
      );
      const outcome = "outcome" in end ? end.outcome : { status: "error" as const, errorMessage: end.error ?? "The action ended without an outcome.", logLines: [] };
      if (outcome.status === "error") return { ...outcome, logLines };
      const value = JSON.parse(outcome.valueText) as JSONValue;
      checkResultLimits(fn.path, value);
      checkReturns(fn, value, this.validation);
      return { status: "success", value, valueText: outcome.valueText, logLines };
    } catch (e) {
      return this.errorOutcome(e, logLines);
    } finally {
      exec.finish();
    }
  }

  /**
   * An HTTP action on a worker thread (`http-action-runner.ts` found its route): `exec`
   * answers its ops here, `response` receives its response head. Resolves when it ended.
   */
  httpActionOnWorker(run: Omit<HttpActionJob, "id" | "clockOffsetMs">, exec: Execution, response: NonNullable<RunBridge["response"]>): Promise<RunEnd> {
    return this.actionPool!.run({ ...run, clockOffsetMs: this.clockOffset() }, { ...workerBridge(exec), response });
  }

  /** Calls the wrapper with the syscall target installed, then checks the return value. */
  private async invoke(fn: RegisteredFunction, exec: Execution, argsJson: string): Promise<{ value: JSONValue; text: string }> {
    const text = await runWithSyscalls(exec, () => fn.invoke(argsJson, exec.requestId));
    const value = JSON.parse(text) as JSONValue;
    // Convex's size and nesting limits first: they bound what the (recursive) validator walks.
    checkResultLimits(fn.path, value);
    checkReturns(fn, value, this.validation);
    return { value, text };
  }

  /** `ctx.runQuery`/`ctx.runMutation` inside a transaction (§3.6): same transaction, savepoint for mutations. */
  async runNested(parent: Execution, udfType: string, address: FunctionAddress, rawArgs: JSONValue): Promise<string> {
    const tx = parent.requireTx("runQuery/runMutation");
    const wanted: UdfKind = udfType === "mutation" ? "mutation" : "query";
    if (wanted === "mutation" && !tx.writable) {
      throw new EngineError("ReadOnly", "A query cannot call ctx.runMutation.");
    }
    const target = resolveAddress(address, parent.component);
    const fn = this.resolve(target.path, !target.exportedOnly, wanted, target.component);
    const argsJson = this.decodeArgs(fn, rawArgs);
    const identity = parent.component === "" ? callerIdentity(fn, parent.identity) : null;
    const exec = new Execution(this, fn.kind, fn.path, identity, parent.requestId, parent.logLines, tx, parent.scheduledJobId, fn.component);
    const savepoint = wanted === "mutation" ? this.db.savepoint() : null;
    const effectsBefore = tx.afterCommit.length;
    try {
      const { text } = await this.invoke(fn, exec, argsJson);
      if (savepoint !== null) this.db.release(savepoint);
      return text;
    } catch (e) {
      if (savepoint !== null) {
        this.db.rollbackTo(savepoint);
        // Effects the failed nested mutation queued (file deletions) go with its writes.
        tx.afterCommit.length = effectsBefore;
      }
      throw nestedRejection(e, (err) => this.options.logInternal?.(err));
    } finally {
      exec.finish();
    }
  }

  /** `ctx.runQuery/runMutation/runAction` from an action: a separate top-level call with the caller's identity. */
  async runFromAction(parent: Execution, kind: UdfKind, address: FunctionAddress, args: JSONValue): Promise<string> {
    const target = resolveAddress(address, parent.component);
    const outcome = await this.call({
      path: target.path,
      component: target.component,
      args,
      // Auth crosses no component boundary: only the app calling itself keeps the caller's identity.
      identity: parent.component === "" ? parent.identity : null,
      allowInternal: !target.exportedOnly,
      expectKind: kind,
      origin: "action",
    });
    if (outcome.status === "success") return outcome.valueText ?? JSON.stringify(outcome.value);
    throw { message: outcome.errorMessage, data: outcome.errorData };
  }

  /** A read under the lock, so it never sees a mutation's uncommitted writes (actions, engine services). */
  async readFromAction<T>(fn: (tx: TransactionState) => T): Promise<T> {
    return this.lock.run(async () => fn(this.newTx(false, this.db.discardedReads)));
  }

  /**
   * Runs writes in a transaction of their own under the lock (an action's
   * scheduling or storage delete, scheduler state changes, uploads, imports)
   * with the same commit path as a mutation, so subscribers see them.
   */
  async transact<T>(fn: (tx: TransactionState) => T | Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      const tx = this.newTx(true, this.db.discardedReads);
      this.db.begin();
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        this.db.rollback();
        throw e;
      }
      this.commit(tx);
      return result;
    });
  }

  onLog(execution: Execution, level: LogLevel, line: string): void {
    this.options.onLog?.(displayFunctionName(execution.component, execution.path), level, line);
  }

  /**
   * Runs a function in a mutation transaction that the caller controls; used
   * by the scheduler to flip a job's state in the same transaction as the job.
   */
  async runMutationInOpenTransaction(
    request: CallRequest,
    tx: TransactionState,
    logLines: string[],
  ): Promise<CallOutcome> {
    const fn = this.resolve(request.path, true, "mutation", request.component);
    const argsJson = this.decodeArgs(fn, request.args);
    return this.executeInTransaction(fn, argsJson, request, logLines, tx);
  }

  /** Resolves a path (of the app, or of `component`) to a function a caller may run, with Convex's messages. */
  resolve(rawPath: string, allowInternal: boolean, expectKind?: UdfKind, component = ""): RegisteredFunction {
    const path = canonicalUdfPath(rawPath);
    const scope = this.definition.components.get(component);
    if (scope === undefined) {
      throw new EngineError("ComponentNotFound", `No component is installed at "${component}" (see convex.config.ts).`);
    }
    const fn = scope.functions.get(path);
    if (fn === undefined || (fn.visibility === "internal" && !allowInternal)) {
      const qualifier = allowInternal ? "" : "public ";
      if (component !== "") {
        throw new EngineError("FunctionNotFound", `Could not find ${qualifier}function for '${path}' in component "${component}".`);
      }
      throw new EngineError("FunctionNotFound", `Could not find ${qualifier}function for '${path}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`);
    }
    if (expectKind !== undefined && fn.kind !== expectKind) {
      throw new EngineError(
        "WrongFunctionKind",
        `Trying to execute ${path} as ${capitalize(expectKind)}, but it is defined as ${capitalize(fn.kind)}.`,
      );
    }
    return fn;
  }

  /** Decodes and validates arguments; returns the text the wrapper is invoked with. */
  private decodeArgs(fn: RegisteredFunction, raw: JSONValue): string {
    const json = raw ?? {};
    checkArgsLimits(fn.path, json);
    checkArgs(fn, json, this.validation);
    return JSON.stringify([json]);
  }

  private newTx(writable: boolean, reads: ReadRecorder): TransactionState {
    return { writable, reads, afterCommit: [], touchedScheduler: false, journalIn: null, journalOut: null };
  }

  private withTimeout<T>(exec: Execution, work: Promise<T>): Promise<T> {
    return this.watchdog.guard(work, () => {
      exec.finish();
      const limit = this.options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS;
      return new EngineError("FunctionTimeout", `${exec.path} ran longer than ${limit / 1000} s and was stopped; its writes were discarded.`);
    });
  }

  private errorOutcome(e: unknown, logLines: string[]): CallOutcome {
    const reported = reportThrown(e, (err) => this.options.logInternal?.(err));
    const outcome: CallOutcome = { status: "error", errorMessage: reported.message, logLines };
    if (reported.data !== undefined) outcome.errorData = reported.data;
    if (reported.appFrames && reported.appFrames.length > 0) outcome.appFrames = reported.appFrames;
    return outcome;
  }

  private record(
    path: string,
    kind: CallRecord["kind"],
    origin: CallRecord["origin"],
    outcome: CallOutcome,
    startedAt: number,
    identity: Identity | null,
  ): void {
    if (!this.options.onCall) return;
    this.options.onCall({
      path: canonicalUdfPath(path),
      kind,
      origin,
      status: outcome.status,
      startedAt,
      durationMs: this.now() - startedAt,
      logLines: outcome.logLines,
      error: outcome.status === "error" ? outcome.errorMessage : undefined,
      errorFrames: outcome.status === "error" ? outcome.appFrames : undefined,
      caller: callerOf(identity),
    });
  }

  /** Records an HTTP action's outcome in the call log. */
  recordHttpAction(path: string, startedAt: number, status: "success" | "error", logLines: string[], error?: string, identity: Identity | null = null): void {
    const durationMs = this.now() - startedAt;
    this.options.onCall?.({ path, kind: "httpAction", origin: "http", status, startedAt, durationMs, logLines, error, caller: callerOf(identity) });
  }

  /** A fresh execution for an HTTP action (no transaction; concurrent). */
  newHttpActionExecution(path: string, identity: Identity | null, logLines: string[]): Execution {
    return new Execution(this, "httpAction", path, identity, newRequestId(this.options.random), logLines, null);
  }

  /** Errors of the engine itself. */
  logInternal(e: unknown): void {
    this.options.logInternal?.(e);
  }
}

/**
 * The identity a function runs with. As on Convex, auth does not cross into
 * components: a component's functions see no user (`getUserIdentity()` is
 * null), and neither does anything they call.
 */
function callerIdentity(fn: RegisteredFunction, identity: Identity | null): Identity | null {
  return fn.component === "" ? identity : null;
}

/** The rejection a nested call's caller sees: message and ConvexError data (§2.3). */
function nestedRejection(e: unknown, logInternal: (e: unknown) => void): { message: string; data?: JSONValue } {
  const reported = reportThrown(e, logInternal);
  const message = reported.message.replace(/^Uncaught (ConvexError: )?/, "");
  return reported.data !== undefined ? { message, data: reported.data } : { message };
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

function asBuffer(key: Uint8Array | null): Buffer | null {
  return key === null || Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}

/** A read set that came back from a worker, as the recorder the lock-holding callers take. */
function recordedReads(readSet: ReadSet | null): ReadRecorder {
  const recorded = readSet ?? { intervals: [], ids: [] };
  return { addInterval() {}, addId() {}, trackScan: () => ({ advance() {}, finish() {} }), readSet: () => recorded };
}

/** How the action pool reaches a run's execution on this thread: its ops and its console lines. */
function workerBridge(exec: Execution): RunBridge {
  return {
    op(op, args, js) {
      if (!js) return exec.asyncSyscallValue(op, args as JSONValue);
      try {
        return Promise.resolve(exec.jsSyscall(op, args));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    log: (level, line) => exec.log(level, line),
  };
}

function callerOf(identity: Identity | null): CallerIdentity | null {
  if (identity === null) return null;
  const caller: CallerIdentity = { subject: identity.subject, issuer: identity.issuer };
  if (typeof identity.name === "string") caller.name = identity.name;
  return caller;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
