import Database from "better-sqlite3";

/**
 * Turns a store file written by this engine (layout 2) into the file the previous engine
 * wrote (layout 1), to test the conversion on open (`engine/store/layout-migration.ts`).
 * The two layouts differ only in `documents`: layout 1 also kept each document's id in a
 * `id TEXT NOT NULL UNIQUE` column (with its own unique index), declared as below in that
 * version's `sqlite-layout.ts`. Everything else (tables, indexes, index entries, search side
 * tables, engine state) was already written as layout 2 writes it.
 */
export function downgradeToLayout1(path: string): void {
  const db = new Database(path);
  try {
    db.transaction(() => {
      db.exec(`
        CREATE TABLE documents_layout_1 (
          seq INTEGER PRIMARY KEY,
          id TEXT NOT NULL UNIQUE,
          table_number INTEGER NOT NULL,
          value TEXT NOT NULL
        );
        INSERT INTO documents_layout_1 (seq, id, table_number, value)
          SELECT seq, json_extract(value, '$._id'), table_number, value FROM documents ORDER BY seq;
        DROP TABLE documents;
        ALTER TABLE documents_layout_1 RENAME TO documents;
        UPDATE store_state SET value = '1' WHERE key = 'layout_version';
      `);
    })();
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
  }
}
