import { EngineError } from "../errors";
import { MIN_KEY } from "../values/index-key-codec";
import { isValidTableName } from "../values/table-names";
import type { IndexInfo, KeyRange, ScanOrder, Store } from "../store/store";
import { compileFilter, type DocumentJson } from "./filter-expression";
import { compileIndexRange } from "./index-range";
import type { SerializedQuery } from "./serialized-query";
import { compileTextSearch, SEARCH_ROW_FIELDS, type CompiledTextSearch } from "./text-search";

/**
 * A serialized query resolved against the store: which index, which key interval, which
 * direction, and the operators compiled into closures.
 */

/** A compiled operator: a predicate, or a cap on how many documents pass this point. */
export type CompiledOperator =
  | { kind: "filter"; test: (doc: DocumentJson) => boolean }
  | { kind: "limit"; count: number };

/** Everything needed to run a query. */
export interface QueryPlan {
  query: SerializedQuery;
  /** The index scanned; for a search, a stand-in whose keys are relevance keys. */
  index: IndexInfo;
  /** Set for `withSearchIndex`: rows come from the text search, not from an index scan. */
  search: CompiledTextSearch | null;
  range: KeyRange;
  order: ScanOrder;
  operators: CompiledOperator[];
  /** True when some operator reads document fields (documents must then be parsed). */
  parsesDocuments: boolean;
  /**
   * How many rows the scan can need at most when that is known from a leading `limit`
   * (no filter before it), else null.
   */
  rowCap: number | null;
}

/** Resolves and compiles a query; throws `EngineError` for unknown indexes or bad ranges. */
export function planQuery(store: Store, query: SerializedQuery): QueryPlan {
  const source = query.source;
  let index: IndexInfo;
  let range: KeyRange;
  let search: CompiledTextSearch | null = null;
  if (source.type === "FullTableScan") {
    if (!isValidTableName(source.tableName)) {
      throw new EngineError("InvalidTableName", `Invalid table name: "${source.tableName}"`);
    }
    index = store.resolveIndex(`${source.tableName}.by_creation_time`)!;
    range = { lo: MIN_KEY, hi: null };
  } else if (source.type === "IndexRange") {
    const found = store.resolveIndex(source.indexName);
    if (found === null) throw indexNotFound(store, source.indexName);
    index = found;
    range = compileIndexRange(index, source.range);
  } else {
    search = compileTextSearch(store, source.indexName, source.filters);
    index = { name: search.index.name, table: search.index.table, fields: SEARCH_ROW_FIELDS };
    range = { lo: MIN_KEY, hi: null };
  }

  // Sized up front: a push onto `[]` allocates room for 17 (one plan per `first()`).
  const operators = new Array<CompiledOperator>(query.operators.length);
  let parsesDocuments = false;
  let rowCap: number | null = null;
  for (let i = 0; i < query.operators.length; i++) {
    const op = query.operators[i]!;
    if ("filter" in op) {
      operators[i] = { kind: "filter", test: compileFilter(op.filter) };
      parsesDocuments = true;
    } else {
      operators[i] = { kind: "limit", count: op.limit };
      // Only a limit before every filter bounds the rows the scan must read.
      if (!parsesDocuments) rowCap = rowCap === null ? op.limit : Math.min(rowCap, op.limit);
    }
  }
  const order = source.type !== "Search" && source.order === "desc" ? "desc" : "asc";
  return { query, index, search, range, order, operators, parsesDocuments, rowCap };
}

/** Why `withIndex` names no index: declared staged, a search or vector index, or unknown. */
function indexNotFound(store: Store, name: string): EngineError {
  const dot = name.indexOf(".");
  const table = store.schema()?.tables.find((t) => t.tableName === name.slice(0, dot));
  if (table?.stagedDbIndexes?.some((i) => i.indexDescriptor === name.slice(dot + 1))) {
    return new EngineError("IndexStagedError", `Index ${name} is currently staged and not available to query until it is enabled.`);
  }
  if (store.searchIndex(name) !== null) {
    return new EngineError("IndexNotADatabaseIndex", `Index ${name} is a search or vector index: query it with withSearchIndex or vectorSearch, not withIndex.`);
  }
  return new EngineError("IndexNotFound", `Index ${name} not found.`);
}
