import { randomUUID } from "node:crypto";
import { EngineError } from "../errors.js";
import { ActionWorkerPool } from "./action-workers/action-pool.js";
import { DEFAULT_TIMEOUT_MS } from "./function-calls.js";
import type { LogLevel } from "./log-capture.js";
import { QueryWorkerPool } from "./query-workers/query-pool.js";
import type { RuntimeOptions } from "./runtime-types.js";
import { WriterClient } from "./writer/writer-client.js";
import type { WriterCommit } from "./writer/writer-types.js";

/** How long an action or HTTP action may run unless `actionTimeoutMs` says otherwise: Convex's limit for Node.js actions, 10 minutes. */
export const DEFAULT_ACTION_TIMEOUT_MS = 600_000;

/** The worker threads a runtime hands work to; null for each kind it runs on its own thread. */
export interface RuntimeThreads {
  /** Query executors (read-only connections of their own). */
  queryPool: QueryWorkerPool | null;
  /** The mutations' write connection. */
  writer: WriterClient | null;
  /** Actions and HTTP actions (no connection). */
  actionPool: ActionWorkerPool | null;
}

/** What the threads call back into on the runtime's thread. */
export interface RuntimeThreadHooks {
  /** A commit of the writer thread, in ts order, once durable. */
  writerCommitted(commit: WriterCommit): void;
  /** The same commit as soon as the writer reports it, before it is durable (caches only). */
  writerWrote(commit: WriterCommit): void;
  /** An upload URL token for `generateUploadUrl` on the writer (file storage lives on this thread). */
  issueUploadToken(): unknown;
  logInternal(e: unknown): void;
}

/**
 * Creates the runtime's worker pools and writer as its options ask (each starts its threads
 * when the first work comes): query workers only for a file on disk, the writer with query
 * workers unless `writerThread` says otherwise, action workers when `actionWorkers` > 0.
 */
export function createRuntimeThreads(options: RuntimeOptions, hooks: RuntimeThreadHooks): RuntimeThreads {
  const workers = options.queryWorkers ?? 0;
  // The writer tells the query workers of its commits itself, on a channel of this runtime's own.
  const commitChannel = `convex-local:commits:${randomUUID()}`;
  const onLog = (path: string, level: LogLevel, line: string) => options.onLog?.(path, level, line);
  const queryPool =
    workers > 0 && options.dbPath !== undefined
      ? new QueryWorkerPool({
          size: workers,
          dbPath: options.dbPath,
          commitCounter: options.commitCounter,
          deployment: options.deployment,
          timeoutMs: options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS,
          onLog,
          logInternal: hooks.logInternal,
          commitChannel,
        })
      : null;
  const writer =
    (options.writerThread ?? workers > 0) && options.dbPath !== undefined
      ? new WriterClient({
          dbPath: options.dbPath,
          commitCounter: options.commitCounter,
          synchronous: options.synchronous,
          flushWal: options.flushWal,
          commitChannel,
          deployment: options.deployment,
          timeoutMs: options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS,
          onCommit: hooks.writerCommitted,
          onCommitWritten: hooks.writerWrote,
          issueUploadToken: () => {
            const token = hooks.issueUploadToken();
            if (typeof token !== "string") throw new EngineError("StorageUnavailable", "File storage is not configured for this engine.");
            return token;
          },
          onLog,
          logInternal: hooks.logInternal,
        })
      : null;
  const actionWorkers = options.actionWorkers ?? 0;
  const actionPool =
    actionWorkers > 0
      ? new ActionWorkerPool({
          size: actionWorkers,
          deployment: options.deployment,
          timeoutMs: options.actionTimeoutMs ?? DEFAULT_ACTION_TIMEOUT_MS,
          logInternal: hooks.logInternal,
        })
      : null;
  return { queryPool, writer, actionPool };
}
