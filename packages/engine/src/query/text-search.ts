import type { JSONValue } from "convex/values";
import { EngineError } from "../errors";
import { compareKeys, indexKey } from "../values/index-key-codec";
import { decodeMaybeValue } from "../values/maybe-value";
import { queryTerms } from "../values/text-tokenizer";
import { textSearchIntervals } from "../store/text-index-keys";
import { TEXT_SEARCH_MAX_CANDIDATES, type FilterCondition, type SearchIndexInfo, type TextSearchQuery } from "../store/search-types";
import { type IndexRow, type KeyRange, type Store } from "../store/store";
import type { IndexScanner } from "./index-scanner";
import type { ReadSetRecorder } from "./read-set";

/**
 * `withSearchIndex` queries (docs/convex-interface.md §4.1 `Search` source) with Convex's
 * semantics: the filters are checked in the backend's order with its messages, an empty
 * search string matches nothing, the search runs once on the first row asked for and yields
 * up to 1024 candidates in relevance order, and asking for a 1025th row is an error
 * (`crates/database/src/query/search_query.rs`).
 *
 * Rows are keyed by `(-score, -creationTime, id)` (the backend's search index key), so
 * pagination cursors are positions in relevance order and `paginate` works unchanged.
 */

/** Convex's cap on equality filters in one search (`MAX_FILTER_CONDITIONS`). */
const MAX_FILTER_CONDITIONS = 8;

/** The key fields of a search's rows, for query fingerprints. */
export const SEARCH_ROW_FIELDS: readonly string[] = ["_score", "_creationTime", "_id"];

/** A checked search: the index and the compiled query, or null for an empty search string. */
export interface CompiledTextSearch {
  index: SearchIndexInfo & { kind: "text" };
  query: TextSearchQuery | null;
}

/** Checks a `Search` source against its index; throws the backend's errors. */
export function compileTextSearch(store: Store, indexName: string, filters: readonly JSONValue[]): CompiledTextSearch {
  const index = store.searchIndex(indexName);
  if (index === null) {
    throw new EngineError("IndexNotFoundError", `Index ${indexName} not found.`);
  }
  if (index.kind !== "text") {
    throw new EngineError("IndexNotASearchIndexError", `Index ${indexName} is not a search index.`);
  }
  if (index.staged) {
    throw new EngineError("IndexStagedError", `Index ${indexName} is currently staged and not available to query until it is enabled.`);
  }
  const parsed = filters.map(parseFilter);
  const firstSearch = parsed.find((f) => f.type === "Search");
  if (firstSearch === undefined) {
    throw new EngineError(
      "MissingSearchFilterError",
      `Search query against ${indexName} does not contain any search filters. You must include a search filter like \`q.search("${index.searchField}", searchText)\`.`,
    );
  }
  // The backend answers an empty search string before checking anything else.
  if (firstSearch.text === "") return { index, query: null };

  let text: string | null = null;
  const conditions: FilterCondition[] = [];
  for (const filter of parsed) {
    if (filter.type === "Search") {
      if (filter.field !== index.searchField) {
        throw new EngineError(
          "IncorrectSearchField",
          `Search query against ${indexName} contains a search filter against ${JSON.stringify(filter.field)}, which doesn't match the indexed \`searchField\` ${JSON.stringify(index.searchField)}.`,
        );
      }
      if (text !== null) {
        throw new EngineError(
          "DuplicateSearchFiltersError",
          `Search query against ${indexName} contains multiple search filters against ${JSON.stringify(filter.field)}. Only one is allowed.`,
        );
      }
      text = filter.text;
    } else {
      if (!index.filterFields.includes(filter.field)) {
        throw new EngineError(
          "IncorrectFilterFieldError",
          `Search query against ${indexName} contains an equality filter on ${JSON.stringify(filter.field)} but that field isn't indexed for filtering in \`filterFields\`.`,
        );
      }
      conditions.push({ field: filter.field, value: decodeMaybeValue(filter.value) });
    }
  }
  if (conditions.length > MAX_FILTER_CONDITIONS) {
    throw new EngineError(
      "TooManyFilterConditionsInSearchQueryError",
      `Search query against ${indexName} has too many filter conditions. Max: ${MAX_FILTER_CONDITIONS} Actual: ${conditions.length}`,
    );
  }
  return { index, query: { terms: queryTerms(text!), filters: conditions } };
}

/**
 * The rows of a search within `range` (a cursor window over relevance keys), loading each
 * document only when it is asked for. The search runs on the first `next()` and records
 * its term intervals (`store/text-index-keys.ts`) into `recorder`.
 */
export function createTextSearchScanner(store: Store, search: CompiledTextSearch, range: KeyRange, recorder: ReadSetRecorder): IndexScanner {
  let rows: { key: Buffer; id: string }[] | null = null;
  let position = 0;

  return {
    next(): IndexRow | null {
      if (rows === null) {
        rows = [];
        if (search.query !== null && search.query.terms.length > 0) {
          for (const interval of textSearchIntervals(search.index, search.query)) {
            recorder.addInterval(search.index.name, interval.lo, interval.hi);
          }
          for (const candidate of store.textSearch(search.index.name, search.query)) {
            const key = indexKey([-candidate.score, -candidate.creationTime, candidate.id]);
            if (compareKeys(key, range.lo) >= 0 && (range.hi === null || compareKeys(key, range.hi) < 0)) {
              rows.push({ key, id: candidate.id });
            }
          }
        }
      }
      for (;;) {
        if (position === TEXT_SEARCH_MAX_CANDIDATES) {
          throw new EngineError(
            "SearchQueryScannedTooManyDocumentsError",
            `Search query scanned too many documents (fetched ${TEXT_SEARCH_MAX_CANDIDATES}). Consider using a smaller limit, paginating the query, or using a filter field to limit the number of documents pulled from the search index.`,
          );
        }
        const row = rows[position];
        if (row === undefined) return null;
        position++;
        const text = store.get(row.id);
        // Candidates come from the same snapshot as the documents; a gap would be a bug, not a row.
        if (text !== null) return { key: row.key, text };
      }
    },
  };
}

type ParsedFilter = { type: "Search"; field: string; text: string } | { type: "Eq"; field: string; value: JSONValue };

function parseFilter(raw: JSONValue): ParsedFilter {
  if (raw !== null && typeof raw === "object" && !Array.isArray(raw) && typeof raw.fieldPath === "string") {
    if (raw.type === "Search" && typeof raw.value === "string") return { type: "Search", field: raw.fieldPath, text: raw.value };
    if (raw.type === "Eq" && "value" in raw) return { type: "Eq", field: raw.fieldPath, value: raw.value as JSONValue };
  }
  throw new EngineError("InvalidQuery", `Invalid query: malformed search filter ${JSON.stringify(raw)}`);
}
