import type { JSONValue } from "convex/values";
import { createReadSetRecorder, type ReadSetRecorder } from "../../src/query/read-set";
import { openQueryStream } from "../../src/query/query-stream";
import type { QueryOperator, RangeExpression, SerializedQuery } from "../../src/query/serialized-query";
import type { Store } from "../../src/store/store";

/**
 * Serialized queries written the way the `convex` package sends them (§4.1), and a
 * `collect()` that drains a stream like `.collect()` does.
 */

/** `db.query(table)` with optional order and operators. */
export function tableScan(tableName: string, order: "asc" | "desc" | null = null, operators: QueryOperator[] = []): SerializedQuery {
  return { source: { type: "FullTableScan", tableName, order }, operators };
}

/** `db.query(t).withIndex(index, range)` with optional order and operators. */
export function indexRange(
  indexName: string,
  range: RangeExpression[] = [],
  order: "asc" | "desc" | null = null,
  operators: QueryOperator[] = [],
): SerializedQuery {
  return { source: { type: "IndexRange", indexName, range, order }, operators };
}

/** One range expression. */
export function r(type: RangeExpression["type"], fieldPath: string, value: JSONValue): RangeExpression {
  return { type, fieldPath, value };
}

/** `{"$undefined": null}`: "the field is missing". */
export const UNDEFINED: JSONValue = { $undefined: null };

/** Drains a stream into parsed documents, recording reads into `recorder`. */
export function collect(
  store: Store,
  query: SerializedQuery,
  recorder: ReadSetRecorder = createReadSetRecorder(),
): Record<string, JSONValue>[] {
  const stream = openQueryStream(store, query, recorder);
  const out: Record<string, JSONValue>[] = [];
  for (let text = stream.next(); text !== null; text = stream.next()) out.push(JSON.parse(text));
  stream.close();
  return out;
}
