import type Database from "better-sqlite3";

/**
 * Every statement the store runs, prepared once: preparing costs more than running a
 * point lookup, and the hot paths (get, scan) run thousands of times per second.
 */

/** The prepared statements of one store connection. */
export type SqliteStatements = ReturnType<typeof createSqliteStatements>;

/** Prepares the store's statements on `db`. */
export function createSqliteStatements(db: Database.Database) {
  const getStateStmt = db.prepare<[string], string>("SELECT value FROM store_state WHERE key = ?").pluck();
  const putState = db.prepare<[string, string]>(
    "INSERT INTO store_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  // CROSS JOIN pins the loop order: walk the index range, then fetch each document by rowid.
  // The LIMIT is wrapped in CAST because SQLite's planner reads a bare `LIMIT ?` parameter,
  // which makes every new binding expire the statement and re-prepare it (measured: 13 µs
  // instead of 5 µs per point lookup).
  // A row comes back as one string, its key as hex text followed by the document's text
  // (`HexKeyedRow` in hex-keyed-row.ts splits it): a JS string is much cheaper to make (and
  // collect) than a native Buffer, most keys are never looked at, and one plucked column
  // spares better-sqlite3 an array per row.
  const scanSql = (direction: "ASC" | "DESC", limit: string) =>
    "SELECT hex(e.key) || d.value FROM index_entries e CROSS JOIN documents d ON d.seq = e.doc " +
    `WHERE e.index_id = ? AND e.key >= ? AND e.key < ? ORDER BY e.key ${direction} LIMIT ${limit}`;
  const scan = (direction: "ASC" | "DESC") =>
    db.prepare<[number, Uint8Array, Uint8Array, number], string>(scanSql(direction, "CAST(? AS INTEGER)")).pluck();
  // `first()`, `unique()`-style point lookups are the most frequent scans: a LIMIT 1
  // statement read with get() skips building a result array.
  const scanFirst = (direction: "ASC" | "DESC") => db.prepare<[number, Uint8Array, Uint8Array], string>(scanSql(direction, "1")).pluck();

  return {
    begin: db.prepare("BEGIN IMMEDIATE"),
    beginRead: db.prepare("BEGIN DEFERRED"),
    commit: db.prepare("COMMIT"),
    rollback: db.prepare("ROLLBACK"),

    getState: (key: string): string | null => getStateStmt.get(key) ?? null,
    setState: (key: string, value: string): void => void putState.run(key, value),
    deleteState: db.prepare<[string]>("DELETE FROM store_state WHERE key = ?"),

    // A document is found by id through its table's `by_id` entry (layout 2 keeps no second
    // id index on `documents`): (by_id index id, key of the id) → seq → value.
    getDocument: db
      .prepare<[number, Uint8Array], string>(
        "SELECT d.value FROM index_entries e CROSS JOIN documents d ON d.seq = e.doc WHERE e.index_id = ? AND e.key = ?",
      )
      .pluck(),
    getForWrite: db.prepare<[number, Uint8Array], { seq: number; value: string }>(
      "SELECT d.seq, d.value FROM index_entries e CROSS JOIN documents d ON d.seq = e.doc WHERE e.index_id = ? AND e.key = ?",
    ),
    insertDocument: db.prepare<[number, string]>("INSERT INTO documents (table_number, value) VALUES (?, ?)"),
    updateDocument: db.prepare<[string, number]>("UPDATE documents SET value = ? WHERE seq = ?"),
    deleteDocument: db.prepare<[number]>("DELETE FROM documents WHERE seq = ?"),

    insertEntry: db.prepare<[number, Uint8Array, number]>("INSERT INTO index_entries (index_id, key, doc) VALUES (?, ?, ?)"),
    deleteEntry: db.prepare<[number, Uint8Array]>("DELETE FROM index_entries WHERE index_id = ? AND key = ?"),
    scanAsc: scan("ASC"),
    scanDesc: scan("DESC"),
    scanFirstAsc: scanFirst("ASC"),
    scanFirstDesc: scanFirst("DESC"),
    countEntries: db.prepare<[number], number>("SELECT count(*) FROM index_entries WHERE index_id = ?").pluck(),

    getMeta: db.prepare<[string], string>("SELECT value FROM meta WHERE key = ?").pluck(),
    putMeta: db.prepare<[string, string]>(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    ),
    deleteMeta: db.prepare<[string]>("DELETE FROM meta WHERE key = ?"),

    getResult: db.prepare<[string, number], { result: string; ts: string }>(
      "SELECT result, ts FROM mutation_results WHERE session_id = ? AND request_id = ?",
    ),
    putResult: db.prepare<[string, number, string, string, number]>(
      "INSERT OR REPLACE INTO mutation_results (session_id, request_id, result, ts, recorded_at) VALUES (?, ?, ?, ?, ?)",
    ),
    pruneResults: db.prepare<[number]>("DELETE FROM mutation_results WHERE recorded_at < ?"),
  };
}
