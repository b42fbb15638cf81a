import { MAX_KEY } from "../values/index-key-codec";
import { HexKeyedRow } from "./hex-keyed-row";
import type { SqliteConnection } from "./sqlite-connection";
import type { IndexRow, Store } from "./store";

/**
 * The store's reads on one connection: by id through the document cache, index scans,
 * counts and search. Each sees the open transaction's own writes, or the read transaction's
 * snapshot, or (outside both) the latest commit. Runs on the thread that owns the connection
 * (for query workers, many times per query: keep it cheap).
 */

export type SqliteReads = Pick<Store, "get" | "scan" | "textSearch" | "vectorSearch" | "count">;

export function createSqliteReads(connection: SqliteConnection): SqliteReads {
  const { sql, catalog, search, log, cache } = connection;
  return {
    get(id) {
      const written = connection.writtenInTransaction.has(id) || log.wholeTables();
      if (!written) {
        const cached = cache.get(id);
        if (cached !== undefined) return cached;
      }
      connection.readFromSqlite();
      const text = connection.readDocument(id);
      if (!written) cache.set(id, text);
      return text;
    },
    scan(index, range, order, limit): IndexRow[] {
      const record = catalog.index(index);
      if (record === undefined || limit <= 0) return [];
      connection.readFromSqlite();
      const hi = range.hi ?? MAX_KEY;
      if (limit === 1) {
        const row = (order === "desc" ? sql.scanFirstDesc : sql.scanFirstAsc).get(record.id, range.lo, hi);
        return row === undefined ? [] : [new HexKeyedRow(row)];
      }
      const rows = (order === "desc" ? sql.scanDesc : sql.scanAsc).all(record.id, range.lo, hi, limit);
      const out: IndexRow[] = new Array(rows.length);
      for (let i = 0; i < rows.length; i++) out[i] = new HexKeyedRow(rows[i]!);
      return out;
    },
    textSearch(index, query) {
      connection.readFromSqlite();
      return search.textSearch(index, query);
    },
    vectorSearch(index, query) {
      connection.readFromSqlite();
      return search.vectorSearch(index, query);
    },
    count(table) {
      const byId = catalog.index(`${table}.by_id`);
      if (byId === undefined) return 0;
      connection.readFromSqlite();
      return sql.countEntries.get(byId.id)!;
    },
  };
}
