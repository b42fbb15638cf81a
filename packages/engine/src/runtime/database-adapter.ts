import { jsonToConvex, type Value } from "convex/values";
import { countDocuments, readDocument } from "../query/document-reads.js";
import { paginateQuery } from "../query/paginate.js";
import { openQueryStream } from "../query/query-stream.js";
import { createReadSetRecorder, DISCARDED_READS } from "../query/read-set.js";
import { parseSerializedQuery } from "../query/serialized-query.js";
import { runVectorSearch } from "../query/vector-search.js";
import type { SavepointId, Store } from "../store/store.js";
import { tableNumberOfId } from "../values/document-id.js";
import type { RuntimeDatabase } from "./runtime-database.js";

/** The runtime's view of the data layer, over a Store and the query engine. */
export function createRuntimeDatabase(store: Store): RuntimeDatabase {
  const tableOfId = (id: string): string | null | undefined => {
    const tableNumber = typeof id === "string" ? tableNumberOfId(id) : null;
    if (tableNumber === null) return undefined;
    return store.tableName(tableNumber);
  };
  const decode = (text: string | null): Record<string, Value> | null =>
    text === null ? null : (jsonToConvex(JSON.parse(text)) as Record<string, Value>);

  return {
    begin: () => store.begin(),
    commit: () => store.commit(),
    rollback: () => store.rollback(),
    beginRead: () => store.beginRead(),
    endRead: () => store.endRead(),
    savepoint: () => store.savepoint(),
    release: (sp) => store.release(sp as SavepointId),
    rollbackTo: (sp) => store.rollbackTo(sp as SavepointId),
    get inTransaction() {
      return store.inTransaction();
    },
    tableOfId,
    tableNameOfNumber: (n) => store.tableName(n),
    get: (id, reads) => readDocument(store, id, reads),
    getValue: (id, reads) => decode(readDocument(store, id, reads)),
    insert: (table, fields) => store.insert(table, fields),
    replace: (id, fields) => void store.replace(id, fields),
    remove: (id) => store.delete(id),
    openStream: (query, reads) => openQueryStream(store, parseSerializedQuery(query), reads),
    page: (query, options, reads) => paginateQuery(store, parseSerializedQuery(query), options, reads),
    count: (table, reads) => countDocuments(store, table, reads),
    vectorSearch: (query) => runVectorSearch(store, query),
    normalizeId(table, idString) {
      const tableNumber = tableNumberOfId(idString);
      if (tableNumber === null) return null;
      const number = store.tableNumber(table);
      return number !== null && number === tableNumber ? idString : null;
    },
    newReads: () => createReadSetRecorder(),
    discardedReads: DISCARDED_READS,
    latestTs: () => store.lastCommitTs(),
    observeCommit: (ts, previousTs, ids) => store.observeCommit(ts, previousTs, ids),
    storedMutationResult: (sessionId, requestId) => store.getMutationResult(sessionId, requestId),
    recordMutationResult: (sessionId, requestId, result) => store.recordMutationResult(sessionId, requestId, result),
  };
}
