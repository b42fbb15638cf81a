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
import { MutationBatcher } from "./mutation-batch.js";
import { QueryCache, type QueryCacheOptions } from "./query-cache.js";
import { SerialLock } from "./serial-lock.js";
import type { BlobService, DeploymentInfo, Identity } from "./services.js";
import { runWithSyscalls } from "./syscall-router.js";
import { canonicalUdfPath } from "./udf-path.js";
import { checkArgs, checkReturns } from "./validation.js";
import { outcomeForClient, SHOW_ERRORS, type ClientErrorPolicy } from "./client-errors.js";
import { Watchdog } from "./watchdog.js";
import type { ValidationContext } from "../values/validator.js";
import { checkArgsLimits, checkResultLimits } from "../values/value-limits.js";
import type { ReadSet } from "../query/read-set.js";

/** Query cache bounds: results by count and by (approximate) bytes, and their age (Convex's own limit for time-dependent results). */
const QUERY_CACHE_DEFAULTS: QueryCacheOptions = { maxEntries: 1_000, maxBytes: 64 << 20, maxAgeMs: 5_000, now: () => performance.now() };

/** How long a query or mutation may run unless `transactionTimeoutMs` says otherwise. */
const DEFAULT_TIMEOUT_MS = 30_000;

/** A request to run a function by path. */
export interface CallRequest {
  /** The path as the caller sent it (`"posts:list"`, `"posts.js:list"`, …). */
  path: string;
  /** The component whose function `path` names (`""` or absent: the app); only internal callers reach components. */
  component?: string;
  /** Convex JSON of the arguments object. */
  args: JSONValue;
  identity: Identity | null;
  /** Internal functions may be called (admin key, actions, the scheduler). */
  allowInternal: boolean;
  /** The endpoint's kind (`/api/query` …); undefined accepts any kind. */
  expectKind?: UdfKind;
  /** Who asked, for the call log. */
  origin: "client" | "action" | "scheduler" | "admin";
  /** Set when the scheduler runs a job, so the job cannot cancel itself. */
  scheduledJobId?: string;
  /** A subscription's journal from its previous run (pagination end cursor). */
  journal?: string | null;
  /**
   * Makes a mutation exactly-once: a request already committed under this key
   * returns its stored result and ts without running again, and a new one
   * stores its result in its own transaction (§5.5).
   */
  idempotencyKey?: { sessionId: string; requestId: number };
}

/** A finished call, for the dashboard's list of recent calls and dev-mode logs. */
export interface CallRecord {
  path: string;
  kind: UdfKind | "httpAction";
  origin: CallRequest["origin"] | "http";
  status: "success" | "error";
  startedAt: number;
  durationMs: number;
  logLines: string[];
  error?: string;
  /** Where the error was thrown, in the app's source files. */
  errorFrames?: string[];
  /** Who the function ran as (`ctx.auth.getUserIdentity()`), null when signed out. */
  caller: CallerIdentity | null;
}

/** The identity a call ran as, as the call log shows it. */
export interface CallerIdentity {
  subject: string;
  issuer: string;
  name?: string;
}

/** Settings and services of a runtime. */
export interface RuntimeOptions {
  db: RuntimeDatabase;
  deployment: DeploymentInfo;
  blobs?: BlobService | null;
  now?: () => number;
  random?: () => number;
  /** A query or mutation that runs longer than this fails and releases the lock (ms). */
  transactionTimeoutMs?: number;
  /** After every commit (reactivity). */
  onCommit?: (commit: CommitSummary) => void;
  /** After a commit that scheduled or cancelled jobs. */
  onSchedulerChange?: () => void;
  /** Every console line of every function. */
  onLog?: (path: string, level: LogLevel, line: string) => void;
  /** Every finished top-level call. */
  onCall?: (record: CallRecord) => void;
  /** Errors that are the engine's fault, logged in full. */
  logInternal?: (e: unknown) => void;
  /** The query cache's bounds, or false to run every query call (default: on, see `query-cache.ts`). */
  queryCache?: Partial<QueryCacheOptions> | false;
  /** What clients see of failures and logs (`client-errors.ts`; default: everything, as in dev mode). */
  clientErrors?: ClientErrorPolicy;
}

/** Result of a query run for a subscription: the outcome, what it read and its new journal. */
export interface TrackedQueryResult {
  outcome: CallOutcome;
  reads: ReadRecorder;
  journal: string | null;
}

/**
 * A subscription query run at some snapshot, as the real-time layer receives it: the
 * outcome, what it read, its new journal and `ts`, the commit ts of the snapshot it read.
 * The result is valid at `ts` and stays valid until a later commit writes into `readSet`.
 */
export interface SnapshotQueryResult {
  outcome: CallOutcome;
  readSet: ReadSet;
  journal: string | null;
  ts: bigint;
}

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
  /** How validators resolve `v.id(table)`; one object, so compiled validators are cached per runtime. */
  private readonly validation: ValidationContext;

  constructor(options: RuntimeOptions) {
    this.options = options;
    this.db = options.db;
    this.validation = { tableNameOf: (n) => this.db.tableNameOfNumber(n) };
    this.watchdog = new Watchdog(options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS);
    this.queryCache = options.queryCache === false ? null : new QueryCache({ ...QUERY_CACHE_DEFAULTS, ...options.queryCache });
    this.mutations = new MutationBatcher({
      lock: this.lock,
      db: this.db,
      // Mutations take no read set: with one writer there is nothing to validate it against.
      newTx: () => this.newTx(true, this.db.discardedReads),
      committed: (commit, txs) => this.committed(commit, txs),
      errorOutcome: (e, logLines) => this.errorOutcome(e, logLines),
      logInternal: (e) => this.logInternal(e),
    });
    this.blobs = options.blobs ?? null;
    this.deployment = options.deployment;
  }

  /** Swaps in a (re)loaded app; calls that already started finish on the old code. */
  setApp(app: AppDefinition): void {
    this.app = app;
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
          run: (tx) => this.executeInTransaction(fn, argsJson, request, logLines, tx),
          idempotencyKey: request.idempotencyKey,
          logLines,
        });
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

  /** After a commit of these transactions: their after-commit effects, subscribers, the scheduler. */
  private committed(commit: CommitSummary, txs: readonly TransactionState[]): void {
    // Before anyone hears of the commit: a client that saw its mutation succeed must not get a stale cached query.
    this.queryCache?.invalidate(commit.writes);
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
    this.options.onCommit?.(commit);
    if (touchedScheduler) this.options.onSchedulerChange?.();
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

  /** A one-off query (HTTP, an action's runQuery): from the query cache, or run and cached. */
  private async runQuery(fn: RegisteredFunction, argsJson: string, request: CallRequest, logLines: string[]): Promise<CallOutcome> {
    const cache = this.queryCache;
    const key = cache === null ? null : `${fn.component}\u0000${fn.path}\u0000${request.allowInternal ? 1 : 0}\u0000${identityKey(request.identity)}\u0000${argsJson}`;
    const cached = key === null ? null : cache!.get(key);
    if (cached !== null) return cached;
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

function callerOf(identity: Identity | null): CallerIdentity | null {
  if (identity === null) return null;
  const caller: CallerIdentity = { subject: identity.subject, issuer: identity.issuer };
  if (typeof identity.name === "string") caller.name = identity.name;
  return caller;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
