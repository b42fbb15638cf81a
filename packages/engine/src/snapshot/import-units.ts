import type { Value } from "convex/values";

/**
 * What the readers of every import format produce and the writer consumes:
 * parsing and validation of bytes stay apart from writing, so the writer can
 * run wherever the store's write transaction lives.
 *
 * A stream of units starts with one `tables` unit naming every table the
 * import writes; documents of a table follow in file order.
 */
export type ImportUnit = TablesUnit | DocumentUnit | StorageRowUnit | StorageFileUnit;

/** The tables an import writes, before any of their documents. */
export interface TablesUnit {
  kind: "tables";
  /** Each user table with the number its ids embed; null when the file does not say (single-table formats). */
  tables: { name: string; number: number | null }[];
  /** The import carries `_storage` rows (and their files). */
  storage: boolean;
}

/** One document of a user table. `_id` and `_creationTime` are kept when present. */
export interface DocumentUnit {
  kind: "document";
  table: string;
  /** Where it came from, for errors: `posts/documents.jsonl line 3`, `row 12`. */
  where: string;
  doc: Record<string, Value>;
}

/** One `_storage` row of a snapshot ZIP. */
export interface StorageRowUnit {
  kind: "storageRow";
  where: string;
  doc: Record<string, Value>;
}

/** The bytes of one stored file of a snapshot ZIP, opened on demand. */
export interface StorageFileUnit {
  kind: "storageFile";
  storageId: string;
  where: string;
  open(): Promise<AsyncIterable<Uint8Array>>;
}
