import Database from "better-sqlite3";
import { EngineError } from "../errors";
import { isOlderLayout, migrateLayout } from "./layout-migration";
import type { SynchronousMode } from "./store-options";

/**
 * The SQLite file layout of the store (docs/convex-interface.md §8.0, adapted):
 *
 * - `tables(number, name)`: the table catalog; user tables from 10001, system ones reserved.
 * - `indexes(id, table_number, name, fields)`: every index, built-ins included; `fields` is
 *   the JSON array of key fields with the implicit `_creationTime`/`_id` appended.
 * - `documents(seq, table_number, value)`: one row per document, `value` its Convex JSON
 *   text. `seq` is the rowid that index entries point at (an integer join is the cheapest).
 *   There is no id column: a document is found by id through its table's `by_id` entry, so
 *   a write touches one id structure, not two (layout 1 kept `documents.id UNIQUE` beside
 *   the `by_id` entries; `layout-migration.ts` converts such files).
 * - `index_entries(index_id, key, doc)`: `WITHOUT ROWID`, primary key `(index_id, key)`, so a
 *   range scan is one b-tree walk already in key order. Keys end with `_id`, so are unique.
 * - `store_state(key, value)`: the engine's own state (last commit ts, last creation time,
 *   applied schema), written in the same transaction as the data it describes.
 * - `meta(key, value)`: a small key/value map for the layers above.
 * - `mutation_results(session_id, request_id, …)`: results of mutations for exactly-once
 *   retries, pruned by age.
 */

/**
 * Bumped when the layout changes incompatibly: an older file is converted on open
 * (`layout-migration.ts`), a newer one refused.
 */
export const LAYOUT_VERSION = "2";

/**
 * Page size of new files. A write rewrites every page it touches into the WAL, and a toggle
 * touches a dozen index leaves at random keys: smaller pages mean fewer bytes per commit.
 * Measured with `bench/durable-likes.bench.ts` (see docs/architecture.md "Storage layout").
 */
export const NEW_FILE_PAGE_SIZE = 4096;

const DDL = `
CREATE TABLE IF NOT EXISTS tables (
  number INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS indexes (
  id INTEGER PRIMARY KEY,
  table_number INTEGER NOT NULL,
  name TEXT NOT NULL UNIQUE,
  fields TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
  seq INTEGER PRIMARY KEY,
  table_number INTEGER NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS index_entries (
  index_id INTEGER NOT NULL,
  key BLOB NOT NULL,
  doc INTEGER NOT NULL,
  PRIMARY KEY (index_id, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS store_state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mutation_results (
  session_id TEXT NOT NULL,
  request_id INTEGER NOT NULL,
  result TEXT NOT NULL,
  ts TEXT NOT NULL,
  recorded_at REAL NOT NULL,
  PRIMARY KEY (session_id, request_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mutation_results_by_age ON mutation_results (recorded_at);
`;

/**
 * Opens (creating if needed) the SQLite file in WAL mode with the store's tables.
 *
 * `synchronous` defaults to FULL: in WAL mode NORMAL survives a process crash but may lose
 * the last commits on power loss, and a mutation is acknowledged to its client right after
 * `commit()` — so only FULL keeps "acknowledged ⇒ durable". NORMAL is a fair choice for
 * tests and throwaway data.
 */
export function openDatabase(
  path: string,
  synchronous: SynchronousMode = "FULL",
  readOnly = false,
  notice: (message: string) => void = () => {},
): Database.Database {
  if (readOnly) return openReader(path);
  const db = new Database(path);
  try {
    // Only takes effect on a new, empty file (before WAL mode is set).
    db.pragma(`page_size = ${NEW_FILE_PAGE_SIZE}`);
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${synchronous}`);
    // Another process holding the write lock is waited for, not failed on at once.
    db.pragma("busy_timeout = 5000");
    // 64 MiB of page cache instead of SQLite's 2 MiB default: the index b-tree is shared by
    // every table, and the memory is only taken as pages are actually read.
    db.pragma("cache_size = -65536");
    // An older file keeps its own tables here (IF NOT EXISTS); the migration rebuilds them.
    db.exec(DDL);
    let row = db.prepare("SELECT value FROM store_state WHERE key = 'layout_version'").pluck().get() as
      | string
      | undefined;
    if (row === undefined) {
      db.prepare("INSERT INTO store_state (key, value) VALUES ('layout_version', ?)").run(LAYOUT_VERSION);
    } else if (row !== LAYOUT_VERSION && isOlderLayout(row)) {
      migrateLayout(db, path, row, notice);
      row = LAYOUT_VERSION;
    }
    if (row !== undefined && row !== LAYOUT_VERSION) {
      throw new EngineError(
        "UnsupportedLayout",
        `The data file ${path} has store layout ${row}; this engine reads layout ${LAYOUT_VERSION}.`,
        "fatal",
      );
    }
    // Savepoints (each mutation of a group commit after the first, each component call) keep
    // the original of every page they change in a sub-journal, which SQLite spills to a file
    // in /var/tmp past 64 KiB: about 23 pwrite calls per mutation and a file opened per batch
    // on the writer thread in the sustained benchmark (`perf trace`). The sub-journal only
    // serves a rollback inside the open transaction, so durability does not depend on where it
    // lives. Set after the layout migration, whose index builds may sort more than fits in
    // memory.
    db.pragma("temp_store = MEMORY");
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Opens a read-only connection to a store file another connection created (a query
 * worker's snapshot reader): no DDL, no journal-mode change, the same layout check.
 */
function openReader(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    db.pragma("cache_size = -65536");
    const row = db.prepare("SELECT value FROM store_state WHERE key = 'layout_version'").pluck().get() as string | undefined;
    if (row !== LAYOUT_VERSION) {
      throw new EngineError("UnsupportedLayout", `The data file ${path} has store layout ${String(row)}; this engine reads layout ${LAYOUT_VERSION}.`, "fatal");
    }
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
