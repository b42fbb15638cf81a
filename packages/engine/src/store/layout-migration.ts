import { chmodSync, existsSync, renameSync, rmSync } from "node:fs";
import type Database from "better-sqlite3";
import { EngineError } from "../errors";

/**
 * Converting a store file written by an older layout (`sqlite-layout.ts`) to the current one,
 * once, when the engine opens it. Runs on the main thread of `createEngine`, before the
 * writer thread and the query workers open the file (they refuse an old layout).
 *
 * Safety: first a complete copy of the old file is written beside it (`VACUUM INTO` a
 * temporary name, then renamed, so a half-written copy never carries the final name); then
 * the conversion runs as ONE SQLite transaction, with checks at its end. A crash or a failed
 * check rolls all of it back and the file stays in the old layout, to be converted on the
 * next start; nothing is half-converted. The copy is kept until the user removes it.
 *
 * Layout 1 → 2: `documents` loses its `id TEXT UNIQUE` column (documents are found through
 * their table's `by_id` index entries, which layout 1 kept as well). `seq` values stay, so
 * index entries and the search side tables (keyed by `seq`) stay valid as they are. The page
 * size stays that of the old file (it can only change by rewriting the file outside WAL).
 */

/** Layouts this engine converts, each to the next. */
const STEPS: Record<string, { to: string; convert: (db: Database.Database) => void }> = {
  "1": { to: "2", convert: dropDocumentIdColumn },
};

/** True when `version` is a layout this engine can convert from. */
export function isOlderLayout(version: string): boolean {
  return Object.hasOwn(STEPS, version);
}

/** The path of the copy kept of a file before its conversion from `version`. */
export function layoutBackupPath(path: string, version: string): string {
  return `${path}.layout-${version}.bak`;
}

/** Converts the open file at `path` from layout `from` to the newest layout this engine reads. */
export function migrateLayout(db: Database.Database, path: string, from: string, notice: (message: string) => void): void {
  let version = from;
  while (Object.hasOwn(STEPS, version)) {
    const step = STEPS[version]!;
    const backup = layoutBackupPath(path, version);
    notice(`Converting the data file ${path} from store layout ${version} to ${step.to} (once). A copy of the old file is kept at ${backup}.`);
    writeBackup(db, backup);
    const started = performance.now();
    db.prepare("BEGIN IMMEDIATE").run();
    try {
      // Another process may have converted it meanwhile (the data-folder lock makes this rare).
      const current = db.prepare("SELECT value FROM store_state WHERE key = 'layout_version'").pluck().get();
      if (current === version) {
        step.convert(db);
        db.prepare("UPDATE store_state SET value = ? WHERE key = 'layout_version'").run(step.to);
      }
      db.prepare("COMMIT").run();
    } catch (e) {
      if (db.inTransaction) db.prepare("ROLLBACK").run();
      throw new EngineError(
        "LayoutMigrationFailed",
        `Converting ${path} from store layout ${version} to ${step.to} failed, and nothing was changed: ${(e as Error).message}. ` +
          `The file still has layout ${version} (a copy is at ${backup}); an engine of the previous version still opens it.`,
        "fatal",
      );
    }
    // The old pages are free now; move the WAL into the file so it does not linger at its peak size.
    db.pragma("wal_checkpoint(TRUNCATE)");
    notice(`Converted ${path} to store layout ${step.to} in ${Math.round(performance.now() - started)} ms.`);
    version = step.to;
  }
}

/** A consistent copy of the whole file at `backup` (replacing an older copy of the same layout). */
function writeBackup(db: Database.Database, backup: string): void {
  const partial = `${backup}.partial`;
  rmSync(partial, { force: true });
  db.prepare("VACUUM INTO ?").run(partial);
  // As private as the database itself (data-folder.ts keeps it 0600).
  chmodSync(partial, 0o600);
  if (existsSync(backup)) rmSync(backup);
  renameSync(partial, backup);
}

/**
 * Layout 1 → 2 inside the caller's transaction: rebuilds `documents` without its id column,
 * then checks that every document is still there and reachable through exactly one `by_id`
 * entry of its own table, as the new layout's id lookups need.
 */
function dropDocumentIdColumn(db: Database.Database): void {
  const count = (sql: string) => db.prepare(sql).pluck().get() as number;
  const before = count("SELECT count(*) FROM documents");
  db.exec(`
    CREATE TABLE documents_layout_2 (
      seq INTEGER PRIMARY KEY,
      table_number INTEGER NOT NULL,
      value TEXT NOT NULL
    );
    INSERT INTO documents_layout_2 (seq, table_number, value) SELECT seq, table_number, value FROM documents ORDER BY seq;
    DROP TABLE documents;
    ALTER TABLE documents_layout_2 RENAME TO documents;
  `);
  const after = count("SELECT count(*) FROM documents");
  const reachable = count(`
    SELECT count(*) FROM index_entries e
    JOIN indexes i ON i.id = e.index_id AND i.name = (SELECT name FROM tables WHERE number = i.table_number) || '.by_id'
    JOIN documents d ON d.seq = e.doc AND d.table_number = i.table_number`);
  const byIdEntries = count(`
    SELECT count(*) FROM index_entries e
    JOIN indexes i ON i.id = e.index_id AND i.name = (SELECT name FROM tables WHERE number = i.table_number) || '.by_id'`);
  if (after !== before || reachable !== before || byIdEntries !== before) {
    throw new Error(
      `the file holds ${before} documents but ${byIdEntries} by_id entries, ${reachable} of them pointing at a document of their table`,
    );
  }
}
