import type Database from "better-sqlite3";
import { EngineError } from "../errors";
import { splitFieldPath } from "../values/field-path";
import { BUILT_IN_INDEX_FIELDS } from "./built-in-indexes";

export { BUILT_IN_INDEX_FIELDS } from "./built-in-indexes";
import {
  FIRST_USER_TABLE_NUMBER,
  isSystemTableName,
  isValidTableName,
  SYSTEM_TABLE_NUMBERS,
  systemTableNameOf,
} from "../values/table-names";
import type { IndexInfo, TableInfo } from "./store";

/**
 * The table and index catalog: SQLite rows mirrored in memory, because every read and
 * write needs it. Changes go to SQLite inside the caller's transaction; after a rollback
 * the mirror is reloaded from SQLite, which then holds the truth again.
 */

/** An index with what the store needs to maintain it. */
export interface IndexRecord extends IndexInfo {
  /** The SQLite id used in `index_entries`. */
  id: number;
  tableNumber: number;
  /** `fields` split at dots, once. */
  paths: string[][];
}


/** True for a table's `by_id` and `by_creation_time`. */
export function isBuiltInIndex(index: IndexInfo): boolean {
  return Object.hasOwn(BUILT_IN_INDEX_FIELDS, descriptorOf(index));
}

/** The key fields of a user index: the declared ones, then the implicit `_creationTime`, `_id`. */
export function userIndexFields(declaredFields: readonly string[]): string[] {
  return [...declaredFields, "_creationTime", "_id"];
}

/** The in-memory catalog over the store's SQLite file. */
export interface Catalog {
  /** Re-reads everything from SQLite (after a rollback). */
  reload(): void;
  /** Bumped on every change, so a savepoint can tell whether a rollback must reload. */
  version(): number;
  tableNumber(name: string): number | null;
  tableName(number: number): string | null;
  tables(): TableInfo[];
  index(name: string): IndexRecord | undefined;
  /** `Store.resolveIndex`: an existing index, or a built-in one of a table not created yet. */
  resolve(name: string): IndexInfo | null;
  indexesOf(table: string): IndexRecord[];
  /**
   * Creates a table with its built-in indexes and returns its number: the
   * next free user number unless `number` is given (imports keep the numbers
   * their ids embed).
   */
  createTable(name: string, number?: number): number;
  /**
   * Gives an existing, empty user table another number (an import into a
   * deployment whose schema push numbered its tables differently).
   */
  renumberTable(name: string, number: number): void;
  /** Creates an empty user index `table.descriptor` over `declaredFields`. */
  createIndex(table: string, descriptor: string, declaredFields: readonly string[]): IndexRecord;
  /** Drops an index and its entries. */
  dropIndex(name: string): void;
}

/** Creates the catalog for an open store database. */
export function createCatalog(db: Database.Database): Catalog {
  const byName = new Map<string, number>();
  const byNumber = new Map<number, string>();
  const indexes = new Map<string, IndexRecord>();
  const indexesByTable = new Map<string, IndexRecord[]>();
  let changes = 0;

  const insertTable = db.prepare("INSERT INTO tables (number, name) VALUES (?, ?)");
  const maxUserTable = db.prepare("SELECT max(number) FROM tables WHERE number >= ?").pluck();
  const insertIndex = db.prepare("INSERT INTO indexes (table_number, name, fields) VALUES (?, ?, ?)");
  const deleteIndex = db.prepare("DELETE FROM indexes WHERE id = ?");
  const deleteEntries = db.prepare("DELETE FROM index_entries WHERE index_id = ?");

  function addIndexRecord(record: IndexRecord): void {
    indexes.set(record.name, record);
    const list = indexesByTable.get(record.table) ?? [];
    list.push(record);
    // Built-ins first, then by name: a stable order for write sets and listings.
    list.sort((a, b) => rank(a) - rank(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    indexesByTable.set(record.table, list);
  }

  function reload(): void {
    byName.clear();
    byNumber.clear();
    indexes.clear();
    indexesByTable.clear();
    for (const row of db.prepare("SELECT number, name FROM tables").all() as { number: number; name: string }[]) {
      byName.set(row.name, row.number);
      byNumber.set(row.number, row.name);
    }
    const rows = db.prepare("SELECT id, table_number, name, fields FROM indexes").all() as {
      id: number;
      table_number: number;
      name: string;
      fields: string;
    }[];
    for (const row of rows) {
      const fields = JSON.parse(row.fields) as string[];
      const table = byNumber.get(row.table_number) ?? "";
      addIndexRecord({ id: row.id, name: row.name, table, tableNumber: row.table_number, fields, paths: fields.map(splitFieldPath) });
    }
    changes++;
  }

  function insertIndexRow(table: string, tableNumber: number, descriptor: string, fields: string[]): IndexRecord {
    const name = `${table}.${descriptor}`;
    const id = Number(insertIndex.run(tableNumber, name, JSON.stringify(fields)).lastInsertRowid);
    const record: IndexRecord = { id, name, table, tableNumber, fields, paths: fields.map(splitFieldPath) };
    addIndexRecord(record);
    changes++;
    return record;
  }

  /** Throws `TableNumberTaken` (`refusal: why`) unless `number` is a free, unreserved user table number. */
  function requireFreeNumber(number: number, refused: boolean, refusal: string): void {
    const holder = byNumber.get(number);
    if (refused || !Number.isInteger(number) || number <= 0 || systemTableNameOf(number) !== null || holder !== undefined) {
      throw new EngineError(
        "TableNumberTaken",
        `${refusal}: ${holder !== undefined ? `table "${holder}" has it` : "it is reserved or invalid"}.`,
      );
    }
  }

  reload();

  return {
    reload,
    version: () => changes,
    tableNumber: (name) => byName.get(name) ?? null,
    tableName: (number) => byNumber.get(number) ?? null,
    tables: () => [...byNumber.entries()].sort((a, b) => a[0] - b[0]).map(([number, name]) => ({ name, number })),
    index: (name) => indexes.get(name),
    resolve(name) {
      // The record itself is an IndexInfo: no copy on this hot path (callers only read it).
      const record = indexes.get(name);
      if (record !== undefined) return record;
      const dot = name.indexOf(".");
      const table = name.slice(0, dot);
      const descriptor = name.slice(dot + 1);
      if (dot <= 0 || !Object.hasOwn(BUILT_IN_INDEX_FIELDS, descriptor) || !isValidTableName(table)) return null;
      return { name, table, fields: BUILT_IN_INDEX_FIELDS[descriptor] };
    },
    indexesOf: (table) => indexesByTable.get(table) ?? [],

    createTable(name, requested) {
      if (!isValidTableName(name)) {
        throw new EngineError("InvalidTableName", `Invalid table name: "${name}"`);
      }
      let number: number;
      // The app's system tables have fixed numbers; a component's are numbered like user tables.
      const reserved = Object.hasOwn(SYSTEM_TABLE_NUMBERS, name) ? SYSTEM_TABLE_NUMBERS[name] : undefined;
      if (reserved !== undefined) {
        number = reserved;
      } else if (isSystemTableName(name) && !name.includes("/")) {
        throw new EngineError("UnknownSystemTable", `Unknown system table "${name}"`);
      } else if (requested !== undefined) {
        requireFreeNumber(requested, false, `Cannot create table "${name}" with number ${requested}`);
        number = requested;
      } else {
        const max = maxUserTable.get(FIRST_USER_TABLE_NUMBER) as number | null;
        number = max === null ? FIRST_USER_TABLE_NUMBER : max + 1;
      }
      insertTable.run(number, name);
      byName.set(name, number);
      byNumber.set(number, name);
      changes++;
      for (const [descriptor, fields] of Object.entries(BUILT_IN_INDEX_FIELDS)) {
        insertIndexRow(name, number, descriptor, [...fields]);
      }
      return number;
    },

    renumberTable(name, number) {
      const current = byName.get(name);
      if (current === undefined) throw new EngineError("TableNotFound", `Table "${name}" does not exist`, "fatal");
      requireFreeNumber(number, isSystemTableName(name), `Cannot give table "${name}" the number ${number}`);
      db.prepare("UPDATE tables SET number = ? WHERE name = ?").run(number, name);
      db.prepare("UPDATE indexes SET table_number = ? WHERE table_number = ?").run(number, current);
      reload();
    },

    createIndex(table, descriptor, declaredFields) {
      const number = byName.get(table);
      if (number === undefined) throw new EngineError("TableNotFound", `Table "${table}" does not exist`, "fatal");
      return insertIndexRow(table, number, descriptor, userIndexFields(declaredFields));
    },

    dropIndex(name) {
      const record = indexes.get(name);
      if (record === undefined) return;
      deleteEntries.run(record.id);
      deleteIndex.run(record.id);
      indexes.delete(name);
      const list = (indexesByTable.get(record.table) ?? []).filter((r) => r !== record);
      indexesByTable.set(record.table, list);
      changes++;
    },
  };
}

function rank(record: IndexRecord): number {
  const descriptor = descriptorOf(record);
  return descriptor === "by_id" ? 0 : descriptor === "by_creation_time" ? 1 : 2;
}

/** `"posts.by_author"` → `"by_author"`. */
function descriptorOf(index: IndexInfo): string {
  return index.name.slice(index.table.length + 1);
}
