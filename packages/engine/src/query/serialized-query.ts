import type { JSONValue } from "convex/values";
import { EngineError } from "../errors";

/**
 * The serialized query the `convex` package sends with `1.0/queryStream` and `1.0/queryPage`
 * (docs/convex-interface.md §4.1), as wire types, and a parser that checks the shape.
 */

/** Scan direction as sent; null means ascending. */
export type WireOrder = "asc" | "desc" | null;

/** One `withIndex` range expression. `value` may be `{"$undefined": null}`. */
export interface RangeExpression {
  type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte";
  fieldPath: string;
  value: JSONValue;
}

/** Where a query's rows come from. */
export type QuerySource =
  | { type: "FullTableScan"; tableName: string; order: WireOrder }
  | { type: "IndexRange"; indexName: string; range: RangeExpression[]; order: WireOrder }
  | { type: "Search"; indexName: string; filters: JSONValue[] };

/** A filter expression node (§4.3); checked when compiled. */
export type FilterExpression = JSONValue;

/** One operator, applied in list order. */
export type QueryOperator = { filter: FilterExpression } | { limit: number };

/** A whole serialized query. */
export interface SerializedQuery {
  source: QuerySource;
  operators: QueryOperator[];
}

/** The backend's cap on operators per query (the package checks it too). */
const MAX_QUERY_OPERATORS = 256;

const RANGE_TYPES = new Set(["Eq", "Gt", "Gte", "Lt", "Lte"]);

/** Checks the shape of a serialized query; throws `EngineError("InvalidQuery")`. */
export function parseSerializedQuery(raw: unknown): SerializedQuery {
  if (!isRecord(raw) || !isRecord(raw.source)) throw invalid("expected {source, operators}");
  const operators = raw.operators ?? [];
  if (!Array.isArray(operators)) throw invalid("`operators` must be an array");
  if (operators.length > MAX_QUERY_OPERATORS) throw invalid(`at most ${MAX_QUERY_OPERATORS} operators are allowed`);
  return { source: parseSource(raw.source), operators: operators.map(parseOperator) };
}

function parseSource(source: Record<string, unknown>): QuerySource {
  switch (source.type) {
    case "FullTableScan":
      if (typeof source.tableName !== "string") throw invalid("FullTableScan needs a tableName");
      return { type: "FullTableScan", tableName: source.tableName, order: parseOrder(source.order) };
    case "IndexRange": {
      if (typeof source.indexName !== "string") throw invalid("IndexRange needs an indexName");
      const range = source.range ?? [];
      if (!Array.isArray(range)) throw invalid("IndexRange.range must be an array");
      return { type: "IndexRange", indexName: source.indexName, range: range.map(parseRange), order: parseOrder(source.order) };
    }
    case "Search":
      if (typeof source.indexName !== "string") throw invalid("Search needs an indexName");
      return { type: "Search", indexName: source.indexName, filters: (source.filters ?? []) as JSONValue[] };
    default:
      throw invalid(`unknown source type ${JSON.stringify(source.type)}`);
  }
}

function parseRange(raw: unknown): RangeExpression {
  if (!isRecord(raw) || !RANGE_TYPES.has(raw.type as string) || typeof raw.fieldPath !== "string" || !("value" in raw)) {
    throw invalid(`malformed range expression ${JSON.stringify(raw)}`);
  }
  return { type: raw.type as RangeExpression["type"], fieldPath: raw.fieldPath, value: raw.value as JSONValue };
}

function parseOperator(raw: unknown): QueryOperator {
  if (isRecord(raw) && "filter" in raw) return { filter: raw.filter as JSONValue };
  if (isRecord(raw) && "limit" in raw) {
    const limit = raw.limit;
    if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 0) throw invalid("limit must be a non-negative integer");
    return { limit };
  }
  throw invalid(`unknown operator ${JSON.stringify(raw)}`);
}

function parseOrder(order: unknown): WireOrder {
  if (order === undefined || order === null) return null;
  if (order === "asc" || order === "desc") return order;
  throw invalid(`order must be "asc", "desc" or null, not ${JSON.stringify(order)}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function invalid(detail: string): EngineError {
  return new EngineError("InvalidQuery", `Invalid query: ${detail}`);
}
