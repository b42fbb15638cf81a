import { openSqliteConnection } from "./sqlite-connection";
import { createSqliteDocumentWrites } from "./sqlite-document-writes";
import { createSqliteReads } from "./sqlite-reads";
import { createSqliteTransactions } from "./sqlite-transactions";
import type { Store } from "./store";
import type { StoreOptions } from "./store-options";

/**
 * The store on better-sqlite3 (WAL). One connection, driven by one serial executor: an open
 * transaction's writes are visible to the reads that follow them and to nobody else.
 *
 * Assembled from one connection's pieces: transactions and the commit clock
 * (`sqlite-transactions.ts`), document writes (`sqlite-document-writes.ts`), reads
 * (`sqlite-reads.ts`); the catalog, engine state and mutation results are answered here.
 */

/** Opens (or creates) a store in the SQLite file `options.path`. */
export function createSqliteStore(options: StoreOptions): Store {
  const connection = openSqliteConnection(options);
  const { db, sql, catalog, search, log, checkpointer, state } = connection;
  const transactions = createSqliteTransactions(connection);
  const reads = createSqliteReads(connection);
  const writes = createSqliteDocumentWrites(connection, reads.count);

  const store: Store = {
    tableNumber: (table) => catalog.tableNumber(table),
    tableName: connection.tableName,
    listTables: () => catalog.tables(),
    resolveIndex: (name) => catalog.resolve(name),
    listIndexes: (table) => catalog.indexesOf(table).map(({ name, table: t, fields }) => ({ name, table: t, fields })),
    searchIndex: (name) => search.info(name),
    schema: () => state.schema,

    ...transactions,
    ...reads,
    ...writes,

    getMeta: (key) => sql.getMeta.get(key) ?? null,
    setMeta(key, value) {
      if (value === null) sql.deleteMeta.run(key);
      else sql.putMeta.run(key, value);
    },
    getMutationResult(sessionId, requestId) {
      const row = sql.getResult.get(sessionId, requestId);
      return row === undefined ? null : { result: row.result, ts: BigInt(row.ts) };
    },
    recordMutationResult(sessionId, requestId, result) {
      connection.requireTransaction("recordMutationResult()");
      log.addResult({ sessionId, requestId, result, recordedAt: connection.now() });
    },
    pruneMutationResults: (maxAgeMs) => sql.pruneResults.run(connection.now() - maxAgeMs).changes,

    close() {
      store.endRead();
      store.rollback();
      checkpointer?.close();
      db.close();
    },
  };
  return store;
}
