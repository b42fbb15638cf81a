import type { JSONValue } from "convex/values";
import { componentDatabase } from "../components/component-database.js";
import { displayFunctionName, type FunctionTarget } from "../components/function-references.js";
import { EngineError } from "../errors.js";
import { ActionPaths } from "./action-paths.js";
import type { RunBridge, RunEnd } from "./action-workers/action-pool.js";
import type { HttpActionJob } from "./action-workers/action-protocol.js";
import { CallReporter } from "./call-reporting.js";
import type { ClientErrorPolicy } from "./client-errors.js";
import { CommitAnnouncer } from "./commit-announcer.js";
import { Execution, type ExecutionHost, type FunctionAddress, type TransactionState } from "./execution.js";
import { EngineTransactions } from "./engine-transactions.js";
import { FunctionCalls } from "./function-calls.js";
import type { CallOutcome } from "./function-outcome.js";
import type { AppDefinition, RegisteredFunction, UdfKind } from "./function-registry.js";
import type { LogLevel } from "./log-capture.js";
import { MutationPaths } from "./mutation-paths.js";
import { NestedCalls } from "./nested-calls.js";
import { QueryCache, type QueryCacheOptions } from "./query-cache.js";
import { QueryPaths } from "./query-paths.js";
import type { AppSource } from "./query-workers/worker-protocol.js";
import { RecentCommits } from "./recent-commits.js";
import type { RuntimeDatabase } from "./runtime-database.js";
import { createRuntimeThreads, type RuntimeThreads } from "./runtime-threads.js";
import type { CallRequest, RuntimeOptions, TrackedQueryResult, SnapshotQueryResult } from "./runtime-types.js";
import { SerialLock } from "./serial-lock.js";
import type { BlobService, DeploymentInfo, Identity } from "./services.js";
import { canonicalUdfPath } from "./udf-path.js";

export type { CallRequest, CallRecord, CallerIdentity, RuntimeOptions, TrackedQueryResult, SnapshotQueryResult } from "./runtime-types.js";
export { DEFAULT_ACTION_TIMEOUT_MS } from "./runtime-threads.js";

/** Query cache bounds: results by count and by (approximate) bytes, and their age (Convex's own limit for time-dependent results). */
const QUERY_CACHE_DEFAULTS: QueryCacheOptions = { maxEntries: 1_000, maxBytes: 64 << 20, maxAgeMs: 5_000, now: () => performance.now() };

/**
 * The executor: runs queries and mutations one at a time under one lock,
 * mutations group-committed (`mutation-batch.ts`: each in a savepoint of a
 * shared transaction, one fsync per batch; nested mutations in savepoints of
 * their own), and actions concurrently outside the lock (convex-interface.md
 * §8, design.md §4).
 *
 * This class is the entry points and the wiring; the parts live beside it: running one
 * function (`function-calls.ts`), reporting its outcome (`call-reporting.ts`), the query,
 * mutation and action paths (`query-paths.ts`, `mutation-paths.ts`, `action-paths.ts`),
 * calls made by running functions (`nested-calls.ts`), the engine's own transactions
 * (`engine-transactions.ts`), commit announcement (`commit-announcer.ts`) and the worker
 * threads (`runtime-threads.ts`). It runs on the thread that created it: the main thread
 * for the engine, or the writer thread's own copy.
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
  private readonly reporter: CallReporter;
  private readonly calls: FunctionCalls;
  private readonly announcer: CommitAnnouncer;
  private readonly queries: QueryPaths;
  private readonly actions: ActionPaths;
  private readonly nested: NestedCalls;
  private readonly engineTx: EngineTransactions;
  /** Mutations: batched here or on the writer thread (its client and counters are read by tests and benchmarks). */
  readonly mutations: MutationPaths;
  private readonly queryCache: QueryCache | null;
  private readonly threads: RuntimeThreads;
  /** True while the query pool has the loaded app's code (an app set without its source runs queries here). */
  private poolHasApp = false;
  /** The loaded app came with its source (workers can load it). */
  private hasSource = false;
  private sourceVersion = 0;
  /** True while the action pool has the loaded app's code. */
  private actionPoolHasApp = false;

  constructor(options: RuntimeOptions) {
    this.options = options;
    this.db = options.db;
    this.blobs = options.blobs ?? null;
    this.deployment = options.deployment;
    this.reporter = new CallReporter(options);
    this.calls = new FunctionCalls(this, () => this.definition, this.reporter, options);
    this.queryCache = options.queryCache === false ? null : new QueryCache({ ...QUERY_CACHE_DEFAULTS, ...options.queryCache });
    this.threads = createRuntimeThreads(options, {
      writerCommitted: (commit) => this.announcer.writerCommitted(commit),
      writerWrote: (commit) => this.announcer.writerWrote(commit),
      issueUploadToken: () => this.blobs?.issueUploadToken(),
      logInternal: (e) => this.logInternal(e),
    });
    const { queryPool, writer, actionPool } = this.threads;
    // Kept for query results read at a later snapshot (main thread); a runtime that answers
    // no tracked queries (the writer thread's) keeps none: 30 s of write sets, document texts
    // included, is ~4 KB per toggleLike, so ~160 MB at 1,300/s (estimated); the writer's GC
    // share fell from 4.3% to 3.3% of its profile without it (durable-likes, 64 clients).
    const recentCommits = new RecentCommits(undefined, options.keepRecentCommits === false ? 0 : undefined);
    this.announcer = new CommitAnnouncer(this.db, this.queryCache, recentCommits, this.blobs, options, {
      queryWorkers: (commit) => queryPool?.committed(commit),
      otherConnection: (commit) => writer?.committed(commit.ts, commit.previousTs, commit.writes.map((w) => w.id)),
    });
    const { db, lock, queryCache, calls, reporter, announcer } = this;
    this.queries = new QueryPaths({ db, lock, pool: queryPool, queryCache, recentCommits, announcer, calls, reporter, poolHasApp: () => this.poolHasApp });
    this.actions = new ActionPaths({ host: this, actionPool, calls, reporter, options, poolHasApp: () => this.actionPoolHasApp });
    this.nested = new NestedCalls(this, calls, (request) => this.call(request), (e) => this.options.logInternal?.(e));
    this.engineTx = new EngineTransactions(db, lock, calls, announcer);
    this.mutations = new MutationPaths(db, lock, calls, reporter, announcer, writer, () => this.hasSource, options);
  }

  /** True when actions and HTTP actions run on worker threads (they have the loaded app's code). */
  get runsActionsOnWorkers(): boolean {
    return this.actionPoolHasApp;
  }

  /** True when mutations run on the writer thread (it has the loaded app's code). */
  get runsMutationsOnWriter(): boolean {
    return this.mutations.onWriter;
  }

  /** A due scheduled mutation with its state flip, on the writer thread (see `runMutationJob`). */
  runScheduledMutation(jobId: string, name: string, component: string): Promise<"ran" | "skipped" | { error: string }> {
    return this.mutations.runScheduled(jobId, name, component);
  }

  /**
   * Swaps in a (re)loaded app; calls that already started finish on the old code. With
   * `source` (the bundle it was evaluated from) query workers load it too; without, queries
   * run on this thread.
   */
  setApp(app: AppDefinition, source?: Omit<AppSource, "version">): void {
    const { queryPool, writer, actionPool } = this.threads;
    this.app = app;
    this.hasSource = source !== undefined;
    this.poolHasApp = queryPool !== null && source !== undefined;
    if (this.poolHasApp) queryPool!.setApp(source!);
    if (writer !== null && source !== undefined) writer.setApp({ ...source, version: ++this.sourceVersion });
    this.actionPoolHasApp = actionPool !== null && source !== undefined;
    if (this.actionPoolHasApp) actionPool!.setApp(source!);
    // New code or new env vars: cached results may no longer be what the functions return.
    this.queryCache?.clear();
  }

  /** The loaded app, or an error when none is loaded yet. */
  get definition(): AppDefinition {
    if (this.app === null) throw new EngineError("NoFunctions", "No functions are loaded yet.", "transient");
    return this.app;
  }

  now(): number {
    return this.reporter.now();
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

  /** Resolves a path (of the app, or of `component`) to a function a caller may run, with Convex's messages. */
  resolve(rawPath: string, allowInternal: boolean, expectKind?: UdfKind, component = ""): RegisteredFunction {
    return this.calls.resolve(rawPath, allowInternal, expectKind, component);
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
      const argsJson = this.calls.decodeArgs(fn, request.args);
      outcome = await this.runResolved(fn, argsJson, request, logLines);
    } catch (e) {
      outcome = this.reporter.errorOutcome(e, logLines);
    }
    this.reporter.record(displayFunctionName(request.component ?? "", request.path), kind, request.origin, outcome, startedAt, request.identity);
    return this.reporter.forCaller(request, outcome);
  }

  /**
   * Runs a query for a live subscription and returns what it read. The caller
   * must hold `lock` so that several subscriptions see one snapshot.
   */
  runQueryLocked(request: CallRequest): Promise<TrackedQueryResult> {
    return this.queries.runQueryLocked(request);
  }

  /**
   * Runs a query for a live subscription at the latest snapshot the executor can read and
   * says which one (`ts`); see `QueryPaths.runTracked` for the contract with the real-time layer.
   */
  runTracked(request: CallRequest): Promise<SnapshotQueryResult> {
    return this.queries.runTracked(request);
  }

  /** A snapshot for `/api/query_ts` (see `QueryPaths.snapshotTs`). */
  snapshotTs(): Promise<bigint> {
    return this.queries.snapshotTs();
  }

  /** A one-off query at snapshot `ts` (`/api/query_at_ts`, `consistentQuery`; see `QueryPaths.queryAtTs`). */
  queryAtTs(request: CallRequest, ts: bigint): Promise<CallOutcome> {
    return this.queries.queryAtTs(request, ts);
  }

  private async runResolved(fn: RegisteredFunction, argsJson: string, request: CallRequest, logLines: string[]): Promise<CallOutcome> {
    switch (fn.kind) {
      case "query":
        return this.queries.runQuery(fn, argsJson, request, logLines);
      case "mutation":
        return this.mutations.submit(fn, argsJson, request, logLines);
      case "action":
        return this.actions.runAction(fn, argsJson, request, logLines);
    }
  }

  /** Stops the query workers, the writer and the action workers. */
  async close(): Promise<void> {
    await this.threads.actionPool?.close();
    await this.threads.queryPool?.close();
    await this.threads.writer?.close();
    this.announcer.close();
  }

  /** What clients see of failures (HTTP actions apply it to their 500 answers too). */
  get clientErrors(): ClientErrorPolicy {
    return this.reporter.clientErrors;
  }

  /** Drops every cached query result (the deployment clock moved). */
  clearQueryCache(): void {
    this.queryCache?.clear();
  }

  /**
   * An HTTP action on a worker thread (`http-action-runner.ts` found its route): `exec`
   * answers its ops here, `response` receives its response head. Resolves when it ended.
   */
  httpActionOnWorker(run: Omit<HttpActionJob, "id" | "clockOffsetMs">, exec: Execution, response: NonNullable<RunBridge["response"]>): Promise<RunEnd> {
    return this.actions.httpActionOnWorker(run, exec, response);
  }

  /** A fresh execution for an HTTP action (no transaction; concurrent). */
  newHttpActionExecution(path: string, identity: Identity | null, logLines: string[]): Execution {
    return this.actions.newHttpActionExecution(path, identity, logLines);
  }

  /** Records an HTTP action's outcome in the call log. */
  recordHttpAction(path: string, startedAt: number, status: "success" | "error", logLines: string[], error?: string, identity: Identity | null = null): void {
    this.reporter.recordHttpAction(path, startedAt, status, logLines, error, identity);
  }

  /** `ctx.runQuery`/`ctx.runMutation` inside a transaction (§3.6): same transaction, savepoint for mutations. */
  runNested(parent: Execution, udfType: string, address: FunctionAddress, rawArgs: JSONValue): Promise<string> {
    return this.nested.runNested(parent, udfType, address, rawArgs);
  }

  /** `ctx.runQuery/runMutation/runAction` from an action: a separate top-level call with the caller's identity. */
  runFromAction(parent: Execution, kind: UdfKind, address: FunctionAddress, args: JSONValue): Promise<string> {
    return this.nested.runFromAction(parent, kind, address, args);
  }

  /** A read under the lock, so it never sees a mutation's uncommitted writes (actions, engine services). */
  readFromAction<T>(fn: (tx: TransactionState) => T): Promise<T> {
    return this.engineTx.readFromAction(fn);
  }

  /** Writes in a transaction of their own under the lock, committed like a mutation (`EngineTransactions.transact`). */
  transact<T>(fn: (tx: TransactionState) => T | Promise<T>): Promise<T> {
    return this.engineTx.transact(fn);
  }

  /** A function in a mutation transaction the caller controls (the scheduler's job and its state flip). */
  runMutationInOpenTransaction(request: CallRequest, tx: TransactionState, logLines: string[]): Promise<CallOutcome> {
    return this.engineTx.runMutationInOpenTransaction(request, tx, logLines);
  }

  onLog(execution: Execution, level: LogLevel, line: string): void {
    this.options.onLog?.(displayFunctionName(execution.component, execution.path), level, line);
  }

  /** Errors of the engine itself. */
  logInternal(e: unknown): void {
    this.options.logInternal?.(e);
  }
}
