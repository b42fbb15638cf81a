import type { Value } from "convex/values";

/** What the store's text and vector search take and give (see `Store.textSearch`, `Store.vectorSearch`). */

/** How many candidates a text search produces at most (Convex's `MAX_CANDIDATE_REVISIONS`). */
export const TEXT_SEARCH_MAX_CANDIDATES = 1024;

/** A search or vector index as declared by the schema. */
export type SearchIndexInfo =
  | {
      kind: "text";
      /** `"<table>.<index>"`. */
      name: string;
      table: string;
      searchField: string;
      filterFields: string[];
      /** Declared staged: kept in the catalog, not built, not queryable. */
      staged: boolean;
    }
  | {
      kind: "vector";
      name: string;
      table: string;
      vectorField: string;
      dimensions: number;
      filterFields: string[];
      staged: boolean;
    };

/** An equality on a filter field of a search or vector index; `undefined` = field missing. */
export interface FilterCondition {
  field: string;
  value: Value | undefined;
}

/** A compiled text query: the terms (the last one a prefix) and the filter equalities. */
export interface TextSearchQuery {
  terms: { token: string; prefix: boolean }[];
  filters: FilterCondition[];
}

/** One text search match. `score` is the relevance, higher is better; it is never shown to user code. */
export interface TextSearchCandidate {
  id: string;
  creationTime: number;
  score: number;
}

/** A vector query; `filters` are alternatives (a document matching any one qualifies). */
export interface VectorSearchQuery {
  vector: readonly number[];
  limit: number;
  filters: FilterCondition[];
}

/** One vector search result: cosine similarity in -1..1. */
export interface VectorMatch {
  id: string;
  score: number;
}
