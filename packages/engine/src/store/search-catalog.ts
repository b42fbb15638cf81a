import type Database from "better-sqlite3";
import { splitFieldPath } from "../values/field-path";
import type { SearchIndexInfo } from "./search-types";

/**
 * The catalog of search (full-text) and vector indexes: a table of its own beside the
 * database-index catalog (`catalog.ts`), mirrored in memory because every write to an
 * indexed table consults it. Each built index keeps its entries in a SQLite table of its own
 * named after the record id (`text-index.ts`, `vector-index.ts`). Records change only while
 * a schema is applied, in that transaction; after a failed apply the mirror is reloaded.
 */

/** A search or vector index with what the store needs to maintain it. */
export type SearchIndexRecord = SearchIndexInfo & {
  /** Names the index's own SQLite table. */
  id: number;
  /** Field paths split once: the search or vector field first, then the filter fields. */
  paths: string[][];
};

/** A vector index's record. */
export type VectorIndexRecord = SearchIndexRecord & { kind: "vector" };

/** The in-memory mirror of the `search_indexes` table. */
export interface SearchCatalog {
  /** Re-reads the records from SQLite (after a rolled-back schema change). */
  reload(): void;
  get(name: string): SearchIndexRecord | undefined;
  /** The built (not staged) indexes of a table, the ones writes must maintain. */
  builtOf(table: string): readonly SearchIndexRecord[];
  all(): readonly SearchIndexRecord[];
  /** Records a new index (its entries are the caller's to create) and returns it. */
  add(info: SearchIndexInfo): SearchIndexRecord;
  /** Forgets an index (its entries are the caller's to drop). */
  remove(name: string): void;
}

const DDL = `
CREATE TABLE IF NOT EXISTS search_indexes (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  table_name TEXT NOT NULL,
  definition TEXT NOT NULL
);`;

/** Creates (if needed) and loads the catalog of an open store database. */
export function createSearchCatalog(db: Database.Database): SearchCatalog {
  db.exec(DDL);
  const byName = new Map<string, SearchIndexRecord>();
  const builtByTable = new Map<string, SearchIndexRecord[]>();
  const insert = db.prepare("INSERT INTO search_indexes (name, table_name, definition) VALUES (?, ?, ?)");
  const remove = db.prepare("DELETE FROM search_indexes WHERE name = ?");
  const selectAll = db.prepare("SELECT id, definition FROM search_indexes ORDER BY name");

  function index(record: SearchIndexRecord): void {
    byName.set(record.name, record);
    if (record.staged) return;
    const list = builtByTable.get(record.table) ?? [];
    list.push(record);
    builtByTable.set(record.table, list);
  }

  function reload(): void {
    byName.clear();
    builtByTable.clear();
    for (const row of selectAll.all() as { id: number; definition: string }[]) {
      index(toRecord(row.id, JSON.parse(row.definition) as SearchIndexInfo));
    }
  }

  reload();
  return {
    reload,
    get: (name) => byName.get(name),
    builtOf: (table) => builtByTable.get(table) ?? [],
    all: () => [...byName.values()],
    add(info) {
      const id = Number(insert.run(info.name, info.table, JSON.stringify(info)).lastInsertRowid);
      const record = toRecord(id, info);
      index(record);
      return record;
    },
    remove(name) {
      const record = byName.get(name);
      if (record === undefined) return;
      remove.run(name);
      byName.delete(name);
      const list = builtByTable.get(record.table);
      if (list !== undefined) builtByTable.set(record.table, list.filter((r) => r !== record));
    },
  };
}

function toRecord(id: number, info: SearchIndexInfo): SearchIndexRecord {
  const main = info.kind === "text" ? info.searchField : info.vectorField;
  return { ...info, id, paths: [main, ...info.filterFields].map(splitFieldPath) };
}
