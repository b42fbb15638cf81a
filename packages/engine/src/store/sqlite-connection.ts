import type Database from "better-sqlite3";
import { EngineError } from "../errors";
import { tableNumberOfId } from "../values/document-id";
import { systemTableNameOf } from "../values/table-names";
import type { ValidationContext } from "../values/validator";
import { indexKey } from "../values/index-key-codec";
import { createCatalog, type Catalog } from "./catalog";
import { CommitCounter } from "./commit-counter";
import { createDocumentCache, type DocumentCache } from "./document-cache";
import { createDocumentValidation, type DocumentValidation } from "./document-validation";
import { pooledRandomBytes } from "./pooled-random-bytes";
import { parseSchemaJson, type SchemaJson } from "./schema-json";
import { createSearchIndexes, type SearchIndexes } from "./search-indexes";
import { openDatabase } from "./sqlite-layout";
import { createSqliteStatements, type SqliteStatements } from "./sqlite-statements";
import type { StoreOptions } from "./store-options";
import { createWalCheckpointer, WRITER_AUTOCHECKPOINT_PAGES, type WalCheckpointer } from "./wal-checkpointer";
import { createWriteLog, type WriteLog } from "./write-log";

/**
 * One open SQLite connection of the store and the state it mirrors, shared by the store's
 * pieces (`sqlite-transactions.ts`, `sqlite-document-writes.ts`, `sqlite-reads.ts`). All of
 * it lives on the thread that opened the store (the main thread, the writer worker or a query
 * worker) and is driven by that thread's one serial executor.
 */

const DEFAULT_DOCUMENT_CACHE_SIZE = 10_000;

/** What the connection remembers between statements. */
export interface ConnectionState {
  lastTs: bigint;
  /**
   * The commit whose state (creation-time clock, catalog, schema) this connection mirrors.
   * Another connection may commit too (the writer worker beside the main thread's engine
   * writes, serialized by the runtime's lock): `catchUp` reloads what it changed.
   */
  syncedTs: bigint;
  lastCreationTime: number;
  /** The catalog generation this connection loaded (readers reload when the writer moved it). */
  catalogGeneration: string | null;
  creationTimeAtBegin: number;
  schemaText: string | null;
  schema: SchemaJson | null;
  /** A write transaction is open. */
  open: boolean;
  /** A read transaction (`beginRead`) is open; `readOpen` once SQLite's part of it has begun. */
  reading: boolean;
  readOpen: boolean;
  /**
   * SQLite's read transaction stays open after `pauseRead()` for the next `beginSnapshot()`,
   * which reads at it again if the commit counter still shows `snapshotCount`.
   */
  paused: boolean;
  /** The commit counter as read just before the open (or paused) read transaction began. */
  snapshotCount: number;
  catalogVersionAtBegin: number;
  /** Changes on every write and rollback (`Store.writeVersion`). */
  version: number;
}

export interface SqliteConnection {
  readonly db: Database.Database;
  readonly sql: SqliteStatements;
  readonly catalog: Catalog;
  readonly search: SearchIndexes;
  readonly log: WriteLog;
  readonly cache: DocumentCache;
  readonly validation: DocumentValidation;
  readonly validationContext: ValidationContext;
  /** Null for a read-only connection: a reader never writes WAL frames, so it has nothing to checkpoint. */
  readonly checkpointer: WalCheckpointer | null;
  /** The engine's count of commits to the file (`StoreOptions.commitCounter`), or null. */
  readonly commits: CommitCounter | null;
  readonly now: () => number;
  readonly randomBytes: (n: number) => Uint8Array;
  /** Ids written by the open transaction: their uncommitted text must never be cached. */
  readonly writtenInTransaction: Set<string>;
  readonly state: ConnectionState;
  tableName(tableNumber: number): string | null;
  /** Called before every SQLite read: starts the read transaction's SQLite part on first use. */
  readFromSqlite(): void;
  requireTransaction(what: string): void;
  /**
   * Where a document is found by id: its table's `by_id` index and the id's key there, or
   * null when the id names no table of this store (then no such document exists).
   */
  byIdEntry(id: string): { table: string; index: number; key: Buffer } | null;
  /** The committed-or-pending text of document `id`, read from SQLite (no cache). */
  readDocument(id: string): string | null;
}

/** Opens (or creates) the SQLite file `options.path` and loads the state it holds. */
export function openSqliteConnection(options: StoreOptions): SqliteConnection {
  const readOnly = options.readOnly === true;
  const db = openDatabase(options.path, options.synchronous ?? "FULL", readOnly, options.notice);
  const checkpointer = readOnly ? null : createWalCheckpointer(options.path, options.synchronous ?? "FULL");
  if (checkpointer !== null) db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT_PAGES}`);
  const sql = createSqliteStatements(db);
  const catalog = createCatalog(db);
  const search = createSearchIndexes(db);
  const tableName = (n: number) => catalog.tableName(n) ?? systemTableNameOf(n);
  const validationContext: ValidationContext = { tableNameOf: tableName };
  const validation = createDocumentValidation(validationContext);

  const lastTs = BigInt(sql.getState("last_ts") ?? "0");
  const lastCreationTime = Number(sql.getState("last_creation_time") ?? "0");
  const schemaText = sql.getState("schema");
  const schema = schemaText === null ? null : parseSchemaJson(schemaText);
  validation.setSchema(schema);
  const state: ConnectionState = {
    lastTs,
    syncedTs: lastTs,
    lastCreationTime,
    catalogGeneration: sql.getState("catalog_version"),
    creationTimeAtBegin: lastCreationTime,
    schemaText,
    schema,
    open: false,
    reading: false,
    readOpen: false,
    paused: false,
    snapshotCount: 0,
    catalogVersionAtBegin: 0,
    version: 0,
  };

  function byIdEntry(id: string): { table: string; index: number; key: Buffer } | null {
    const tableNumber = tableNumberOfId(id);
    const table = tableNumber === null ? null : catalog.tableName(tableNumber);
    const byId = table === null ? undefined : catalog.index(`${table}.by_id`);
    return byId === undefined ? null : { table: table!, index: byId.id, key: indexKey([id]) };
  }

  const commits = options.commitCounter === undefined ? null : new CommitCounter(options.commitCounter);
  return {
    db,
    sql,
    catalog,
    search,
    log: createWriteLog(),
    cache: createDocumentCache(options.documentCacheSize ?? DEFAULT_DOCUMENT_CACHE_SIZE),
    validation,
    validationContext,
    checkpointer,
    commits,
    now: options.now,
    randomBytes: pooledRandomBytes(options.randomBytes),
    writtenInTransaction: new Set<string>(),
    state,
    tableName,
    readFromSqlite() {
      if (state.reading && !state.readOpen) {
        if (commits !== null) state.snapshotCount = commits.read();
        sql.beginRead.run();
        state.readOpen = true;
      }
    },
    requireTransaction(what) {
      if (!state.open) throw new EngineError("NoTransaction", `${what} needs an open transaction`, "fatal");
    },
    byIdEntry,
    readDocument(id) {
      const entry = byIdEntry(id);
      return entry === null ? null : (sql.getDocument.get(entry.index, entry.key) ?? null);
    },
  };
}
