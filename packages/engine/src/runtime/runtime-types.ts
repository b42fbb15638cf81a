import type { FlushFile } from "./writer/wal-sync.js";
import type { JSONValue } from "convex/values";
import type { ReadSet } from "../query/read-set.js";
import type { SynchronousMode } from "../store/store-options.js";
import type { ClientErrorPolicy } from "./client-errors.js";
import type { CallOutcome } from "./function-outcome.js";
import type { UdfKind } from "./function-registry.js";
import type { LogLevel } from "./log-capture.js";
import type { QueryCacheOptions } from "./query-cache.js";
import type { CommitSummary, ReadRecorder, RuntimeDatabase } from "./runtime-database.js";
import type { BlobService, DeploymentInfo, Identity } from "./services.js";

// What callers hand the runtime and get back: requests, call records, options, query results.
// Kept apart from the executor (`runtime.ts`) so callers and hosts can name them.

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
  /**
   * Subscription runs (`runTracked`): called once the executor has finished the run, before
   * its result waits for the commits it read to be announced (durable). The executor is free
   * for the next run from then on.
   */
  executed?: () => void;
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
  /** False: keep no recent write sets (a runtime that answers no tracked queries, such as the writer thread's). */
  keepRecentCommits?: boolean;
  /**
   * Query executors on worker threads: how many at most, each with its own read-only
   * connection to `dbPath` and its own copy of the app. 0 (or no `dbPath`) runs queries on
   * this thread, under the lock.
   */
  queryWorkers?: number;
  /** The store's SQLite file, for the query workers' connections. */
  dbPath?: string;
  /**
   * The commit counter `db`'s store was opened with (`StoreOptions.commitCounter`): the
   * writer's connection bumps it too, and query workers keep a snapshot between runs only
   * while it is unchanged. Without it they begin a new one for every run.
   */
  commitCounter?: SharedArrayBuffer;
  /** How far the deployment clock is ahead of the wall clock (ms), for functions on workers. */
  clockOffsetMs?: () => number;
  /**
   * Mutations on a writer thread with its own write connection to `dbPath` (default: with
   * query workers). Engine writes (`transact`) stay on `db`, serialized with the writer's
   * batches by the lock.
   */
  writerThread?: boolean;
  /** SQLite `synchronous` of the writer thread's connection. */
  synchronous?: SynchronousMode;
  /** How the writer's WAL is flushed before its commits are acknowledged (default fdatasync; tests pass a failing disk). */
  flushWal?: FlushFile;
  /** Called as each top-level mutation starts running (the writer thread's control word). */
  onMutationStart?: (request: CallRequest) => void;
  /** What clients see of failures and logs (`client-errors.ts`; default: everything, as in dev mode). */
  clientErrors?: ClientErrorPolicy;
  /**
   * Actions and HTTP actions on worker threads, one at a time each: the most that run at
   * once (more wait for a worker). 0 runs them on this thread, where a CPU-bound one
   * blocks the engine and cannot be stopped.
   */
  actionWorkers?: number;
  /** An action or HTTP action running longer than this is stopped (ms; default 10 minutes). */
  actionTimeoutMs?: number;
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
