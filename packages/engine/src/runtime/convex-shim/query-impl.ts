import { version } from "convex";
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { filterBuilderImpl, serializeExpression } from "convex-upstream:server/impl/filter_builder_impl.js";
import { SearchFilterBuilderImpl } from "convex-upstream:server/impl/search_filter_builder_impl.js";
import { validateArg, validateArgIsNonNegativeInteger } from "convex-upstream:server/impl/validate.js";
import { documentToConvex } from "./document-values.js";
import { IndexRangeBuilderImpl } from "./index-range-builder.js";
import { performAsyncSyscall, performSyscall } from "./syscall.js";
import { asyncSyscallError, isAsyncFailure } from "./syscall-errors.js";

/**
 * Stands in for `convex/dist/esm/server/impl/query_impl.js` in the engine's worker
 * threads (`convex-shim-plugin.ts` says how, `SUBSTITUTES` which upstream text it was
 * written against). Same classes, methods, argument checks, errors and states as
 * upstream; what differs is what `collect()` — and so `take(n)`, `first()` and
 * `unique()`, which upstream builds on it — costs:
 *
 * upstream opens the stream (`1.0/queryStream`), then asks for each document with its
 * own async syscall and promise (`1.0/queryStreamNext`, one more to learn that the stream
 * is done) and closes it (`1.0/queryCleanup`); a `first()` is four syscalls, four query
 * objects and a dozen promises. Here, when the engine offers the value protocol,
 * `collect()` opens the stream the same way and then takes the rest of it in one async
 * syscall (`engine/queryStreamRest`), which the engine answers by calling the very handler
 * of `1.0/queryStreamNext` until the stream is done: the same reads in the same order, the
 * same read set, the same budget checks, the same errors. `take(n)` (so `first()` and
 * `unique()`) opens and reads in one synchronous syscall (`engine/queryTake`), whose
 * reading errors are thrown as that async syscall's were. Documents are copied as
 * upstream's `next()` copies them (`document-values.ts`), so user code never holds a value
 * the engine shares. Without the engine's value protocol, upstream's path runs as it is.
 */

declare const Convex: { asyncSyscallValue?: unknown } | undefined;

const MAX_QUERY_OPERATORS = 256;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type SerializedQuery = { source: any; operators: unknown[] };
type State =
  | { type: "preparing"; query: SerializedQuery }
  | { type: "executing"; queryId: number }
  | { type: "closed" }
  | { type: "consumed" };

export class QueryInitializerImpl {
  tableName: string;

  constructor(tableName: string) {
    this.tableName = tableName;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  withIndex(indexName: string, indexRange?: (q: any) => any): QueryImpl {
    validateArg(indexName, 1, "withIndex", "indexName");
    let rangeBuilder = IndexRangeBuilderImpl.new();
    if (indexRange !== undefined) rangeBuilder = indexRange(rangeBuilder);
    return new QueryImpl({
      source: { type: "IndexRange", indexName: qualifiedIndexName(this.tableName, indexName), range: rangeBuilder.export(), order: null },
      operators: [],
    });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  withSearchIndex(indexName: string, searchFilter: (q: any) => any): QueryImpl {
    validateArg(indexName, 1, "withSearchIndex", "indexName");
    validateArg(searchFilter, 2, "withSearchIndex", "searchFilter");
    const searchFilterBuilder = SearchFilterBuilderImpl.new();
    return new QueryImpl({
      source: { type: "Search", indexName: `${this.tableName}.${indexName}`, filters: searchFilter(searchFilterBuilder).export() },
      operators: [],
    });
  }

  fullTableScan(): QueryImpl {
    return new QueryImpl({ source: { type: "FullTableScan", tableName: this.tableName, order: null }, operators: [] });
  }

  order(order: "asc" | "desc"): QueryImpl {
    return this.fullTableScan().order(order);
  }

  // Internal in upstream too.
  async count(): Promise<Value> {
    const syscallJSON = await performAsyncSyscall("1.0/count", { table: this.tableName });
    return jsonToConvex(syscallJSON as JSONValue);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  filter(predicate: (q: any) => any): QueryImpl {
    return this.fullTableScan().filter(predicate);
  }

  limit(n: number): QueryImpl {
    return this.fullTableScan().limit(n);
  }

  collect(): Promise<Value[]> {
    return this.fullTableScan().collect();
  }

  take(n: number): Promise<Value[]> {
    return this.fullTableScan().take(n);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  paginate(paginationOpts: any): Promise<unknown> {
    return this.fullTableScan().paginate(paginationOpts);
  }

  first(): Promise<Value | null> {
    return this.fullTableScan().first();
  }

  unique(): Promise<Value | null> {
    return this.fullTableScan().unique();
  }

  [Symbol.asyncIterator](): QueryImpl {
    return this.fullTableScan()[Symbol.asyncIterator]();
  }
}

/**
 * `${table}.${index}`, the same string object for the same pair: a fresh concatenation per
 * query is a rope that every map the engine looks the name up in (the catalog, the scan
 * cache) must flatten and hash again. Table and index names in user code are literals, so
 * there are a handful of pairs; the map starts over if code makes names up by the thousand.
 */
const indexNames = new Map<string, Map<string, string>>();
let indexNamesHeld = 0;
const MAX_INDEX_NAMES = 1_024;

function qualifiedIndexName(tableName: string, indexName: string): string {
  let ofTable = indexNames.get(tableName);
  let name = ofTable?.get(indexName);
  if (name !== undefined) return name;
  if (indexNamesHeld >= MAX_INDEX_NAMES) {
    indexNames.clear();
    indexNamesHeld = 0;
    ofTable = undefined;
  }
  if (ofTable === undefined) indexNames.set(tableName, (ofTable = new Map()));
  name = `${tableName}.${indexName}`;
  ofTable.set(indexName, name);
  indexNamesHeld += 1;
  return name;
}

/** Whether the `Convex` global answers `engine/queryStreamRest` (the engine's value protocol does). */
function engineTakesRest(): boolean {
  return typeof Convex !== "undefined" && Convex.asyncSyscallValue !== undefined;
}

/** The documents left in open stream `queryId`, in one syscall; an error leaves it open, as upstream's loop does. */
async function restOfStream(queryId: number): Promise<Value[]> {
  return copied((await performAsyncSyscall("engine/queryStreamRest", { queryId })) as JSONValue[]);
}

/** Documents as the engine answered them, copied for user code. */
function copied(documents: JSONValue[]): Value[] {
  const out: Value[] = new Array(documents.length);
  for (let i = 0; i < documents.length; i++) out[i] = documentToConvex(documents[i]!);
  return out;
}

function throwClosedError(type: "closed" | "consumed"): never {
  throw new Error(
    type === "consumed"
      ? "This query is closed and can't emit any more values."
      : "This query has been chained with another operator and can't be reused.",
  );
}

export class QueryImpl {
  state: State;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  private readonly source: any;

  constructor(query: SerializedQuery) {
    this.state = { type: "preparing", query };
    this.source = query.source;
  }

  /** Upstream's field, worked out when a message needs it (splitting every query's index name cost ~1% of a feed run). */
  get tableNameForErrorMessages(): string {
    return this.source.type === "FullTableScan" ? this.source.tableName : this.source.indexName.split(".")[0];
  }

  takeQuery(): SerializedQuery {
    if (this.state.type !== "preparing") {
      throw new Error("A query can only be chained once and can't be chained after iteration begins.");
    }
    const query = this.state.query;
    this.state = { type: "closed" };
    return query;
  }

  startQuery(): number {
    if (this.state.type === "executing") throw new Error("Iteration can only begin on a query once.");
    if (this.state.type === "closed" || this.state.type === "consumed") throwClosedError(this.state.type);
    const { queryId } = performSyscall("1.0/queryStream", { query: this.state.query, version });
    this.state = { type: "executing", queryId };
    return queryId;
  }

  closeQuery(): void {
    if (this.state.type === "executing") performSyscall("1.0/queryCleanup", { queryId: this.state.queryId });
    this.state = { type: "consumed" };
  }

  order(order: "asc" | "desc"): QueryImpl {
    validateArg(order, 1, "order", "order");
    const query = this.takeQuery();
    if (query.source.type === "Search") {
      throw new Error("Search queries must always be in relevance order. Can not set order manually.");
    }
    if (query.source.order !== null) throw new Error("Queries may only specify order at most once");
    query.source.order = order;
    return new QueryImpl(query);
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  filter(predicate: (q: any) => any): QueryImpl {
    validateArg(predicate, 1, "filter", "predicate");
    const query = this.takeQuery();
    if (query.operators.length >= MAX_QUERY_OPERATORS) {
      throw new Error(`Can't construct query with more than ${MAX_QUERY_OPERATORS} operators`);
    }
    query.operators.push({ filter: serializeExpression(predicate(filterBuilderImpl)) });
    return new QueryImpl(query);
  }

  limit(n: number): QueryImpl {
    validateArg(n, 1, "limit", "n");
    const query = this.takeQuery();
    query.operators.push({ limit: n });
    return new QueryImpl(query);
  }

  [Symbol.asyncIterator](): QueryImpl {
    this.startQuery();
    return this;
  }

  async next(): Promise<{ value: Value; done: boolean }> {
    if (this.state.type === "closed" || this.state.type === "consumed") throwClosedError(this.state.type);
    const queryId = this.state.type === "preparing" ? this.startQuery() : this.state.queryId;
    const { value, done } = await performAsyncSyscall("1.0/queryStreamNext", { queryId });
    if (done) this.closeQuery();
    return { value: documentToConvex(value), done };
  }

  return(): Promise<{ done: true; value: undefined }> {
    this.closeQuery();
    return Promise.resolve({ done: true, value: undefined });
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  async paginate(paginationOpts: any): Promise<unknown> {
    validateArg(paginationOpts, 1, "paginate", "options");
    if (typeof paginationOpts?.numItems !== "number" || paginationOpts.numItems < 0) {
      throw new Error(`\`options.numItems\` must be a positive number. Received \`${paginationOpts?.numItems}\`.`);
    }
    const query = this.takeQuery();
    const { page, isDone, continueCursor, splitCursor, pageStatus } = await performAsyncSyscall("1.0/queryPage", {
      query,
      cursor: paginationOpts.cursor,
      endCursor: paginationOpts?.endCursor ?? null,
      pageSize: paginationOpts.numItems,
      maximumRowsRead: paginationOpts.maximumRowsRead ?? null,
      maximumBytesRead: paginationOpts.maximumBytesRead,
      version,
    });
    return { page: (page as JSONValue[]).map((json) => documentToConvex(json)), isDone, continueCursor, splitCursor, pageStatus };
  }

  async collect(): Promise<Value[]> {
    if (!engineTakesRest()) return this.collectByItem();
    // As upstream's `for await`: the iterator opens the stream at once, synchronously.
    const queryId = this.startQuery();
    const documents = await restOfStream(queryId);
    // Upstream's last `next()` closes the query; the engine closed the stream when it ended.
    this.state = { type: "consumed" };
    return documents;
  }

  async take(n: number): Promise<Value[]> {
    return this.takenAtOnce(n) ?? (await this.limit(n).collect());
  }

  // first() and unique() read through `takenAtOnce` rather than awaiting take(): one async
  // function per call instead of two (a feed run makes one first() per post), same reads,
  // same errors (a throw inside an async function is its rejection either way).
  async first(): Promise<Value | null> {
    const firstArray = this.takenAtOnce(1) ?? (await this.limit(1).collect());
    return firstArray.length === 0 ? null : firstArray[0]!;
  }

  async unique(): Promise<Value | null> {
    const firstTwo = this.takenAtOnce(2) ?? (await this.limit(2).collect());
    if (firstTwo.length === 0) return null;
    if (firstTwo.length === 2) {
      const [a, b] = firstTwo as Array<{ _id: string }>;
      throw new Error(`unique() query returned more than one result from table ${this.tableNameForErrorMessages}:
 [${a!._id}, ${b!._id}, ...]`);
    }
    return firstTwo[0]!;
  }

  /**
   * take(n)'s documents, read at once: upstream's `this.limit(n).collect()` in one
   * synchronous syscall, without the query object `limit` makes only for `collect`
   * (nothing else ever sees it); see the header. Null where the engine offers no value
   * protocol: then the caller collects as upstream does (its argument checks made here).
   */
  private takenAtOnce(n: number): Value[] | null {
    validateArg(n, 1, "take", "n");
    validateArgIsNonNegativeInteger(n, 1, "take", "n");
    if (!engineTakesRest()) return null;
    const query = this.takeQuery();
    // A new list rather than a push: the first push onto `[]` allocates room for 17 operators,
    // and this runs for every `first()` (nothing else holds the taken query's list).
    query.operators = query.operators.length === 0 ? [{ limit: n }] : [...query.operators, { limit: n }];
    try {
      return copied(performSyscall("engine/queryTake", { query, version }) as JSONValue[]);
    } catch (e) {
      throw isAsyncFailure(e) ? asyncSyscallError(e.rejection) : e;
    }
  }

  /** Upstream's `collect()`: one `next()` per document. */
  private async collectByItem(): Promise<Value[]> {
    const out: Value[] = [];
    for await (const item of this) out.push(item);
    return out;
  }
}
