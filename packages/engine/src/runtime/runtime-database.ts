import type { Value } from "convex/values";
import type { ReadSetRecorder } from "../query/read-set.js";
import type { IndexRow } from "../store/store.js";
import type { DocumentWrite } from "../store/write-set.js";

/**
 * What the runtime needs from the data layer, in the runtime's terms. The
 * adapter in `database-adapter.ts` implements it over `store/` and `query/`;
 * keeping it narrow means the syscalls never reach into SQLite details.
 */
export interface RuntimeDatabase {
  /** Opens the write transaction of a top-level mutation. */
  begin(): void;
  /** Commits it; returns the commit ts and the write set for reactivity. */
  commit(): CommitSummary;
  /** Discards every write since `begin()`. */
  rollback(): void;
  /** Marks a point a nested mutation can be rolled back to. */
  savepoint(): number;
  /** Keeps the nested mutation's writes. */
  release(savepoint: number): void;
  /** Discards the nested mutation's writes. */
  rollbackTo(savepoint: number): void;
  /** Opens a read transaction: one snapshot for a query, and cheaper point reads. */
  beginRead(): void;
  /** Ends the read transaction. */
  endRead(): void;
  /** True while a write transaction is open. */
  readonly inTransaction: boolean;

  /**
   * The table an id belongs to: its name, `null` for a well-formed id of a
   * table that does not exist, `undefined` when the string is not an id.
   */
  tableOfId(id: string): string | null | undefined;
  /** The name of the table with this number, or null (for validating `v.id(...)`). */
  tableNameOfNumber(tableNumber: number): string | null;
  /** The document as Convex JSON text, or null. Records the read. */
  get(id: string, reads: ReadRecorder): string | null;
  /** Inserts a document (fields without system fields) and returns its id. */
  insert(table: string, fields: Record<string, Value>): string;
  /** Replaces a document's user fields, keeping `_id` and `_creationTime`. */
  replace(id: string, fields: Record<string, Value>): void;
  /** Deletes a document; returns its last JSON text. */
  remove(id: string): string;
  /** The decoded document, for read-modify-write inside the engine. */
  getValue(id: string, reads: ReadRecorder): Record<string, Value> | null;

  /** Starts a query stream over a serialized query (§4.1). */
  openStream(query: unknown, reads: ReadRecorder): DocumentStream;
  /** Runs one `paginate()` call (§4.4). */
  page(query: unknown, options: PageOptions, reads: ReadRecorder): PageOutcome;
  /** Number of documents in a table. */
  count(table: string, reads: ReadRecorder): number;
  /** `ctx.vectorSearch`: the `query` argument of `1.0/actions/vectorSearch`, answered at the current snapshot. */
  vectorSearch(query: unknown): { _id: string; _score: number }[];
  /** The canonical id if `idString` is an id of `table`, else null. */
  normalizeId(table: string, idString: string): string | null;
  /** A fresh read-set recorder for one execution. */
  newReads(): ReadRecorder;
  /** A recorder that keeps nothing, for executions whose reads nobody looks at. */
  readonly discardedReads: ReadRecorder;
  /** The latest committed ts. */
  latestTs(): bigint;
  /** Another connection (the writer thread) committed: see `Store.observeCommit`. */
  observeCommit(ts: bigint, previousTs: bigint, ids: readonly string[]): void;
  /** A mutation result stored for `(sessionId, requestId)`, for exactly-once retries. */
  storedMutationResult(sessionId: string, requestId: number): { result: string; ts: bigint } | null;
  /** Stores a mutation's result in the open transaction (kept with its commit, gone with a rollback). */
  recordMutationResult(sessionId: string, requestId: number, result: string): void;
}

/** Records what an execution read (index intervals, fetched ids) for reactivity. */
export type ReadRecorder = ReadSetRecorder;

/** One commit's result; `writes` is consumed by the real-time layer. */
export interface CommitSummary {
  ts: bigint;
  /** The commit before this one, when known (query workers chain their cache invalidations on it). */
  previousTs?: bigint;
  writes: readonly DocumentWrite[];
}

/** A query stream: documents as JSON text (in rows that keep their parse, `IndexRow.parsed`), in order. */
export interface DocumentStream {
  next(): string | null;
  /** `next()`'s row: its text and the memo of its parse. */
  nextRow(): IndexRow | null;
  close(): void;
  /** Every document's row left, in order, to `each`; the stream is closed after, also when `each` throws (`QueryStream.drain`). */
  drain(each: (row: IndexRow) => void): void;
}

/** Arguments of one `paginate()` call. */
export interface PageOptions {
  cursor: string | null;
  endCursor: string | null;
  pageSize: number;
  maximumRowsRead: number | null;
  maximumBytesRead: number | null;
  /** The end cursor a previous run of the same subscription returned (its journal). */
  previousEndCursor: string | null;
}

/** A page as `queryPage` answers it; documents are JSON text. */
export interface PageOutcome {
  page: string[];
  isDone: boolean;
  continueCursor: string;
  splitCursor: string | null;
  pageStatus: "SplitRecommended" | "SplitRequired" | null;
}
