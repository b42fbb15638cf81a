import type { Value } from "convex/values";
import type { SchemaJson } from "./schema-json";
import type { SearchIndexInfo, TextSearchCandidate, TextSearchQuery, VectorMatch, VectorSearchQuery } from "./search-types";
import type { CommitResult } from "./write-set";

/**
 * The store: documents, tables, indexes, the commit clock and the small engine state, behind
 * one interface so another backend could implement it. Documents travel as Convex JSON text
 * (system fields included); index keys are the byte strings of `values/index-key-codec.ts`.
 *
 * Transactions are driven by the caller (one serial executor): `begin()` … `commit()` or
 * `rollback()`, with savepoints for nested mutations. Reads see the open transaction's own
 * writes; nobody else sees them before `commit()`.
 */
export interface Store {
  // ---- catalog -----------------------------------------------------------------------

  /** The number of a table, or null when the table does not exist (yet). */
  tableNumber(table: string): number | null;
  /**
   * The name of the table with this number, or null. System tables
   * (`_storage`, `_scheduled_functions`) are named even before their first
   * document: their numbers are fixed, so their ids are always theirs.
   */
  tableName(tableNumber: number): string | null;
  /** Every existing table with its number, in number order. */
  listTables(): TableInfo[];
  /**
   * The index `"<table>.<index>"`. The built-in `by_id` and `by_creation_time` resolve for
   * any well-formed table name, even before the table exists (a scan then finds nothing);
   * other names resolve only when the schema declared them. Null when unknown.
   */
  resolveIndex(name: string): IndexInfo | null;
  /** The indexes of an existing table: the two built-ins first, then schema indexes by name. */
  listIndexes(table: string): IndexInfo[];
  /** The search or vector index `"<table>.<index>"` the schema declared (staged or not), or null. */
  searchIndex(name: string): SearchIndexInfo | null;
  /** The schema last applied, or null when none is. */
  schema(): SchemaJson | null;
  /**
   * Applies `schema.export()` JSON (or null for "no schema") in its own transaction: creates
   * missing tables, builds (backfills) new indexes, drops removed or changed ones, stores the
   * schema for write validation. When `schemaValidation` is true every existing document of
   * a schema table is checked first; if any fails, nothing changes and an
   * `EngineError("SchemaValidationFailed")` lists table, id and reason for each. Throws if a
   * transaction is open. Applying the schema already in force is a cheap no-op.
   */
  applySchema(schema: string | SchemaJson | null): SchemaChange;

  // ---- transactions ------------------------------------------------------------------

  /** True between `begin()` and `commit()`/`rollback()`. */
  inTransaction(): boolean;
  /** Opens a write transaction; throws `EngineError("TransactionOpen")` if one is open. */
  begin(): void;
  /**
   * Commits the open transaction under a new commit ts (`max(now, last + 1)` in ns, persisted
   * in the same SQLite transaction) and returns it with the transaction's write set.
   */
  commit(): CommitResult;
  /** Abandons the open transaction (no-op without one); nothing of it remains. */
  rollback(): void;
  /**
   * Opens a read transaction: every read until `endRead()` sees one snapshot, and SQLite
   * skips taking and dropping its locks around each statement (most of the cost of a point
   * read). Throws `EngineError("TransactionOpen")` while any transaction is open.
   */
  beginRead(): void;
  /**
   * Opens a read transaction at once and returns the commit ts of the snapshot it sees
   * (which `lastCommitTs()` then reports). A reader on its own connection (query workers)
   * reloads its catalog here when another connection changed tables or indexes. After
   * `pauseRead()`, reads at the paused snapshot again when no connection sharing the
   * store's commit counter has committed since it began (it is then still the latest).
   */
  beginSnapshot(): bigint;
  /**
   * Drops these ids (all, for null) from the document cache: a reader connection calls it
   * with the ids other connections committed, since it cannot see their writes itself.
   */
  forgetCachedDocuments(ids: readonly string[] | null): void;
  /**
   * Another connection to the same file committed `ts` (after `previousTs`), writing
   * `ids`: `lastCommitTs()` moves to it and those documents leave the cache. The
   * connection's other state (catalog, schema, clocks) catches up at its next `begin()`.
   */
  observeCommit(ts: bigint, previousTs: bigint, ids: readonly string[]): void;
  /** Ends the read transaction, or the one `pauseRead()` left open (no-op without either). */
  endRead(): void;
  /**
   * Ends the read transaction for the caller but leaves SQLite's part of it open, for the
   * next `beginSnapshot()` to read at again while nothing was committed (saves its BEGIN,
   * its reads of the commit ts and catalog generation, and the COMMIT that ends it). Only
   * with a commit counter (`StoreOptions.commitCounter`); else the same as `endRead()`.
   * The caller ends it with `endRead()` when it goes idle: an open read transaction keeps
   * WAL checkpoints from restarting the log.
   */
  pauseRead(): void;
  /** Marks a point inside the open transaction to return to (nested mutations). */
  savepoint(): SavepointId;
  /** Keeps everything since `savepoint` and forgets the mark (and any marks nested in it). */
  release(savepoint: SavepointId): void;
  /** Undoes everything since `savepoint` (writes, tables, dedupe rows) and forgets the mark. */
  rollbackTo(savepoint: SavepointId): void;
  /** The ts of the latest commit (0n for a new store). Persisted across reopen. */
  lastCommitTs(): bigint;
  /**
   * A counter that changes on every write and rollback. A reader that buffered rows
   * compares it to decide whether its buffer may be stale (read-your-writes in streams).
   */
  writeVersion(): number;

  // ---- documents ---------------------------------------------------------------------

  /** The document's Convex JSON text, or null when no document has this id. */
  get(id: string): string | null;
  /**
   * Inserts a document into `table` (creating the table on first use) and returns its new
   * `_id`. `fields` must not contain `_id`, `_creationTime` or other `_` fields. Validated
   * against the schema when it asks for it. Requires an open transaction.
   */
  insert(table: string, fields: Record<string, Value>): string;
  /**
   * Replaces all user fields of a document, keeping `_id` and `_creationTime` (which may be
   * present in `fields` only with their current values). Returns the new document text.
   * Throws `EngineError("DocumentNotFound")` when it does not exist.
   */
  replace(id: string, fields: Record<string, Value>): string;
  /**
   * Creates `table` with a given table number, for imports (document ids
   * embed table numbers, so keeping ids means keeping numbers). A no-op when
   * the table already has that number; an empty table is renumbered;
   * `EngineError("TableNumberTaken")` when a table with documents has another
   * number or another table holds the number.
   */
  ensureTable(table: string, tableNumber: number): void;
  /**
   * Inserts a document of an import, keeping its `_id` and `_creationTime`
   * when it has them and generating those it lacks; returns the id. A given id
   * must be a valid, unused id of `table`'s number; the table must exist. The
   * document is validated like `insert`. Later inserts still get strictly larger
   * creation times. Requires an open transaction.
   */
  insertWithId(table: string, doc: Record<string, Value>): string;
  /** Deletes a document and returns its last text; throws `DocumentNotFound` if missing. */
  delete(id: string): string;
  /**
   * Up to `limit` entries of `index` with `range.lo <= key < range.hi` in `order`, with their
   * documents' text. Resume a scan by narrowing the range past the last key seen: no
   * iterator stays open, so other statements may run between batches.
   */
  scan(index: string, range: KeyRange, order: ScanOrder, limit: number): IndexRow[];
  /** The number of documents in a table (0 when it does not exist). */
  count(table: string): number;
  /**
   * The best matches of a built text index, best first, at most `TEXT_SEARCH_MAX_CANDIDATES`:
   * documents with any of the terms in the search field and every filter value, ranked by
   * BM25, ties newest first. Sees the open transaction's own writes.
   */
  textSearch(index: string, query: TextSearchQuery): TextSearchCandidate[];
  /**
   * The `limit` documents of a built vector index most similar (cosine) to `query.vector`,
   * best first, among those matching any filter value (all of them when there is none).
   */
  vectorSearch(index: string, query: VectorSearchQuery): VectorMatch[];

  // ---- engine state ------------------------------------------------------------------

  /** A value of the persisted key/value `meta` map, or null. */
  getMeta(key: string): string | null;
  /** Sets (or with null deletes) a `meta` value; joins the open transaction if there is one. */
  setMeta(key: string, value: string | null): void;
  /** The stored result of a mutation request, for exactly-once retries; null if unknown. */
  getMutationResult(sessionId: string, requestId: number): MutationResult | null;
  /**
   * Records a mutation's result text in the open transaction; it is stored with that
   * transaction's commit ts and disappears with a rollback.
   */
  recordMutationResult(sessionId: string, requestId: number, result: string): void;
  /** Deletes stored mutation results recorded more than `maxAgeMs` ago; returns how many. */
  pruneMutationResults(maxAgeMs: number): number;

  /** Rolls back any open transaction and closes the database. */
  close(): void;
}

/** A table and its number (the number inside its documents' ids). */
export interface TableInfo {
  name: string;
  number: number;
}

/** An index as queries see it. */
export interface IndexInfo {
  /** `"<table>.<index>"`. */
  name: string;
  table: string;
  /** Key fields in order, including the implicit trailing `_creationTime` and `_id`. */
  fields: readonly string[];
}

/** A byte interval of index keys: `lo` included, `hi` excluded, null `hi` = no upper limit. */
export interface KeyRange {
  lo: Uint8Array;
  hi: Uint8Array | null;
}

/** Scan direction over index keys. */
export type ScanOrder = "asc" | "desc";

/** One index entry and its document. `key` may be computed on first access: read it only when needed. */
export interface IndexRow {
  readonly key: Buffer;
  readonly text: string;
  /**
   * `text` parsed, kept by the thread that reads the row (`syscalls/parsed-documents.ts`
   * `parsedRow`): a query worker's scan cache hands the same rows to run after run. Never
   * stale, as `text` never changes; undefined until someone parses it.
   */
  parsed?: unknown;
}

/** A stored mutation result. */
export interface MutationResult {
  result: string;
  ts: bigint;
}

/** What `applySchema` changed. */
export interface SchemaChange {
  /** The commit ts of the change; `lastCommitTs()` when nothing changed. */
  ts: bigint;
  createdTables: string[];
  addedIndexes: string[];
  droppedIndexes: string[];
}

/** An opaque savepoint handle. */
export type SavepointId = number & { readonly __savepoint: unique symbol };
