import { EngineError } from "../errors.js";
import type { RuntimeDatabase } from "../runtime/runtime-database.js";
import { tableInComponent } from "../values/table-names.js";

/**
 * The database as one component sees it (the app is the component `""`).
 * Its code names tables in its own terms; here they become store names
 * (`"pool/workers"`), and store names of other components are out of reach
 * both ways: an id of another component's table reads as an id of a table
 * that does not exist (`db.get` → null, `normalizeId` → null), and a name
 * with a `/` (which no component can declare) is refused, so no code can
 * name another namespace's table. Everything else (transactions, read sets,
 * the commit path) is the shared database's: a component's writes commit or
 * roll back with the transaction that made them.
 */
export function componentDatabase(base: RuntimeDatabase, component: string): RuntimeDatabase {
  const storeName = (table: unknown): string => {
    if (typeof table !== "string" || table.includes("/")) {
      throw new EngineError("InvalidTableName", `Invalid table name: ${JSON.stringify(table)}`);
    }
    return tableInComponent(component, table);
  };
  /**
   * True when store table name `stored` is this component's: `componentOfTable(stored)`'s
   * component, worked out without the object it makes (every `db.get` asks, twice).
   */
  const owns = (stored: string): boolean => {
    const slash = stored.lastIndexOf("/");
    return component === "" ? slash === -1 : slash === component.length && stored.startsWith(component);
  };
  /** The component's own name for a store table name, or null when it belongs to another component. */
  const ownName = (stored: string | null | undefined): string | null | undefined => {
    if (typeof stored !== "string") return stored;
    // An owned name is `<component>/<table>` (or the bare table in the app).
    return !owns(stored) ? null : component === "" ? stored : stored.slice(component.length + 1);
  };
  const foreign = (id: string): boolean => {
    const stored = base.tableOfId(id);
    return typeof stored === "string" && !owns(stored);
  };
  const requireOwn = (id: string): void => {
    if (foreign(id)) throw new EngineError("DocumentNotFound", `Nonexistent document ID ${id}`);
  };

  // Every member is spelled out (no prototype tricks): a new member of the interface must be
  // decided here, scoped or passed through.
  return {
    begin: () => base.begin(),
    commit: () => base.commit(),
    rollback: () => base.rollback(),
    savepoint: () => base.savepoint(),
    release: (savepoint) => base.release(savepoint),
    rollbackTo: (savepoint) => base.rollbackTo(savepoint),
    beginRead: () => base.beginRead(),
    endRead: () => base.endRead(),
    get inTransaction() {
      return base.inTransaction;
    },
    tableOfId: (id) => ownName(base.tableOfId(id)),
    tableNameOfNumber: (n) => ownName(base.tableNameOfNumber(n)) ?? null,
    get: (id, reads) => (foreign(id) ? null : base.get(id, reads)),
    getValue: (id, reads) => (foreign(id) ? null : base.getValue(id, reads)),
    insert: (table, fields) => base.insert(storeName(table), fields),
    replace(id, fields) {
      requireOwn(id);
      base.replace(id, fields);
    },
    remove(id) {
      requireOwn(id);
      return base.remove(id);
    },
    openStream: (query, reads) => base.openStream(storeQuery(query, component), reads),
    page: (query, options, reads) => base.page(storeQuery(query, component), options, reads),
    count: (table, reads) => base.count(storeName(table), reads),
    vectorSearch: (query) => base.vectorSearch(storeVectorQuery(query, component)),
    normalizeId: (table, idString) => base.normalizeId(storeName(table), idString),
    newReads: () => base.newReads(),
    discardedReads: base.discardedReads,
    latestTs: () => base.latestTs(),
    observeCommit: (ts, previousTs, ids) => base.observeCommit(ts, previousTs, ids),
    storedMutationResult: (sessionId, requestId) => base.storedMutationResult(sessionId, requestId),
    recordMutationResult: (sessionId, requestId, result) => base.recordMutationResult(sessionId, requestId, result),
  };
}

/** A `vectorSearch` query (§3.7) with its `"table.index"` in store names, checked like `storeQuery`. */
function storeVectorQuery(query: unknown, component: string): unknown {
  if (typeof query !== "object" || query === null) return query;
  const { indexName } = query as { indexName?: unknown };
  if (typeof indexName !== "string") return query;
  if (indexName.includes("/")) throw new EngineError("InvalidTableName", `Invalid table name: ${JSON.stringify(indexName)}`);
  return { ...query, indexName: tableInComponent(component, indexName) };
}

/**
 * A serialized query (§4.1) with its table or index in store names. The
 * shape is checked later by the query layer; only the names are touched here.
 */
function storeQuery(query: unknown, component: string): unknown {
  if (typeof query !== "object" || query === null) return query;
  const source = (query as { source?: unknown }).source;
  if (typeof source !== "object" || source === null) return query;
  const { tableName, indexName } = source as { tableName?: unknown; indexName?: unknown };
  refuseSlash(tableName);
  refuseSlash(indexName);
  if (component === "") return query;
  const renamed: Record<string, unknown> = { ...source };
  if (typeof tableName === "string") renamed.tableName = tableInComponent(component, tableName);
  if (typeof indexName === "string") renamed.indexName = tableInComponent(component, indexName);
  return { ...query, source: renamed };
}

/** A name with a `/` would reach into another component's namespace (checked once per query). */
function refuseSlash(name: unknown): void {
  if (typeof name === "string" && name.includes("/")) throw new EngineError("InvalidTableName", `Invalid table name: ${JSON.stringify(name)}`);
}
