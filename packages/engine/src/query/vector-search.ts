import type { JSONValue } from "convex/values";
import { EngineError } from "../errors";
import { decodeMaybeValue } from "../values/maybe-value";
import type { FilterCondition } from "../store/search-types";
import type { Store } from "../store/store";

/**
 * `ctx.vectorSearch` (`1.0/actions/vectorSearch`): the query the package sends checked the
 * way Convex checks it, with its messages (`crates/vector/src/{query,qdrant_index}.rs`),
 * then answered by the store at its current snapshot.
 */

/** Convex's limits: results per query, default results, equality conditions, dimensions. */
const MAX_VECTOR_RESULTS = 256;
const DEFAULT_VECTOR_LIMIT = 10;
const MAX_FILTER_LENGTH = 64;
const MAX_VECTOR_DIMENSIONS = 4096;

/** One result as `ctx.vectorSearch` returns it. */
export interface VectorSearchResult {
  _id: string;
  _score: number;
}

/** Runs the `query` argument of `1.0/actions/vectorSearch`. */
export function runVectorSearch(store: Store, raw: unknown): VectorSearchResult[] {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw invalid("the query must be an object");
  const { indexName, limit: rawLimit, vector: rawVector, expressions } = raw as Record<string, unknown>;
  if (typeof indexName !== "string" || !indexName.includes(".")) throw invalid("`indexName` must be \"table.index\"");
  const table = indexName.slice(0, indexName.indexOf("."));
  const vector = parseVector(rawVector);
  const limit = parseLimit(rawLimit);
  const filters = expressions === null || expressions === undefined ? [] : filterConditions(expressions as JSONValue);

  // Like the backend: a table that does not exist (yet) has nothing similar in it.
  if (store.tableNumber(table) === null) return [];
  const index = store.searchIndex(indexName);
  if (index === null) {
    const other = store.resolveIndex(indexName) !== null && !indexName.endsWith(".by_id") && !indexName.endsWith(".by_creation_time");
    throw other
      ? new EngineError("IndexNotAVectorIndexError", `Index ${indexName} is not a vector index`)
      : new EngineError("IndexNotFoundError", `Index ${indexName} not found.`);
  }
  if (index.kind !== "vector") throw new EngineError("IndexNotAVectorIndexError", `Index ${indexName} is not a vector index`);
  if (index.staged) {
    throw new EngineError("IndexStagedError", `Index ${indexName} is currently staged and not available to query until it is enabled.`);
  }
  if (limit > MAX_VECTOR_RESULTS) {
    throw new EngineError("VectorLimitTooLargeError", `Vector queries can fetch at most ${MAX_VECTOR_RESULTS} results, requested ${limit}.`);
  }
  for (const filter of filters) {
    if (!index.filterFields.includes(filter.field)) {
      throw new EngineError(
        "IncorrectVectorFilterField",
        `Vector query against ${indexName} contains a filter on ${JSON.stringify(filter.field)} but that field isn't indexed for filtering in \`filterFields\`.`,
      );
    }
  }
  if (filters.length > MAX_FILTER_LENGTH) {
    throw new EngineError(
      "TooManyElementsInVectorQueryError",
      `Vector query against ${indexName} has too many conditions. Max: ${MAX_FILTER_LENGTH} Actual: ${filters.length}`,
    );
  }
  if (vector.length !== index.dimensions) throw dimensionsMismatch(index.dimensions, vector.length);
  return store.vectorSearch(indexName, { vector, limit, filters }).map((m) => ({ _id: m.id, _score: m.score }));
}

function parseVector(raw: unknown): number[] {
  if (!Array.isArray(raw) || raw.length === 0) throw invalid("`vector` must be a non-empty array of numbers");
  for (const x of raw) {
    if (typeof x !== "number" || !Number.isFinite(x)) throw invalid(`\`vector\` must hold only finite numbers, found ${JSON.stringify(x)}`);
  }
  if (raw.length > MAX_VECTOR_DIMENSIONS) throw dimensionsMismatch(MAX_VECTOR_DIMENSIONS, raw.length);
  return raw as number[];
}

/**
 * The number of results: 10 when absent. The docs say a given `limit` must lie between 1
 * and 256; the backend answers 0 with no results, which hides a mistake, so 0 is refused.
 */
function parseLimit(raw: unknown): number {
  if (raw === undefined || raw === null) return DEFAULT_VECTOR_LIMIT;
  if (typeof raw !== "number" || !Number.isInteger(raw) || raw < 1) {
    throw invalid(`\`limit\` must be an integer between 1 and ${MAX_VECTOR_RESULTS}, got ${JSON.stringify(raw)}`);
  }
  return raw;
}

/**
 * The equality conditions of a filter built from `q.eq` and `q.or`, flattened: a document
 * qualifies when it matches any of them (`VectorSearchExpression::assemble_filter_map`).
 */
function filterConditions(expression: JSONValue): FilterCondition[] {
  const out: FilterCondition[] = [];
  const seen = new Set<string>();
  const visit = (node: JSONValue): void => {
    if (node !== null && typeof node === "object" && !Array.isArray(node)) {
      if (Array.isArray(node.$or)) {
        for (const child of node.$or) visit(child);
        return;
      }
      if (Array.isArray(node.$eq) && node.$eq.length === 2) {
        const [left, right] = node.$eq as JSONValue[];
        if (isField(left) && isLiteral(right)) {
          const condition = { field: left.$field, value: decodeMaybeValue(right.$literal) };
          // `q.or(q.eq("a", 1), q.eq("a", 1))` is one condition, as in the backend's value sets.
          const key = JSON.stringify([condition.field, right.$literal]);
          if (!seen.has(key)) out.push(condition);
          seen.add(key);
          return;
        }
        throw new EngineError("InvalidVectorSearchFilter", "`q.eq` must take a field path as its first argument and a value as its second");
      }
    }
    throw new EngineError("InvalidVectorSearchFilter", "Filters should be a combination of `q.eq` and `q.or`.");
  };
  visit(expression);
  return out;
}

function isField(node: JSONValue): node is { $field: string } {
  return node !== null && typeof node === "object" && !Array.isArray(node) && typeof node.$field === "string";
}

function isLiteral(node: JSONValue): node is { $literal: JSONValue } {
  return node !== null && typeof node === "object" && !Array.isArray(node) && "$literal" in node;
}

function dimensionsMismatch(expected: number, received: number): EngineError {
  return new EngineError("VectorDimensionsMismatch", `Expected a vector with dimensions ${expected}, received ${received}.`);
}

function invalid(detail: string): EngineError {
  return new EngineError("InvalidVectorSearch", `Invalid vectorSearch: ${detail}.`);
}
