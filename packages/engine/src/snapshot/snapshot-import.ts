import type { ValidatorJSON } from "convex/values";
import type { BlobStore } from "../storage/blob-store.js";
import type { Store } from "../store/store.js";
import { DEFAULT_IMPORT_LIMITS, type ImportLimits } from "./import-limits.js";
import type { ImportUnit } from "./import-units.js";
import { writeImport, type ImportMode, type ImportSummary } from "./import-writer.js";
import { checkTableOption, readTableFile, type ImportFormat } from "./table-file-reader.js";
import { readSnapshotZip } from "./zip-reader.js";

export type { ImportMode, ImportSummary } from "./import-writer.js";

/** What to import. */
export interface ImportRequest {
  /** The file on disk (an upload to the admin API is spooled to one first). */
  file: string;
  format: ImportFormat;
  /** The target table: required for csv/JSON formats, null for a ZIP. */
  table: string | null;
  mode: ImportMode;
  /** Bounds on what the file may make the engine read (defaults: `DEFAULT_IMPORT_LIMITS`). */
  limits?: Partial<ImportLimits>;
}

/** What an import runs against. */
export interface ImportTarget {
  store: Store;
  /** Needed when a ZIP holds files. */
  blobs: BlobStore | null;
  /**
   * Runs `fn` in one write transaction of `store` and commits it (the runtime's
   * `transact`, so live queries see the import, or plain begin/commit offline);
   * rolls back when `fn` throws.
   */
  transact<T>(fn: () => Promise<T>): Promise<T>;
  now: () => number;
}

/**
 * `npx convex import` on this engine: a snapshot ZIP, or one table from CSV,
 * JSON Lines or a JSON array, streamed from a file into one transaction, so
 * either all of it is written or nothing (the error names the file and row).
 * Files whose rows `replace` removed are deleted after the commit.
 */
export async function importFile(request: ImportRequest, target: ImportTarget): Promise<ImportSummary> {
  checkTableOption(request.format, request.table);
  const limits: ImportLimits = { ...DEFAULT_IMPORT_LIMITS, ...request.limits };
  const summary = await target.transact(() =>
    writeImport(target.store, unitsOf(request, limits, target.store), {
      mode: request.mode,
      blobs: target.blobs,
      maxFileBytes: limits.maxEntryBytes,
      now: target.now,
    }),
  );
  for (const id of summary.removedFiles) target.blobs?.remove(id);
  return summary;
}

function unitsOf(request: ImportRequest, limits: ImportLimits, store: Store): AsyncIterable<ImportUnit> {
  if (request.format === "zip") return readSnapshotZip(request.file, limits);
  const table = request.table!;
  return readTableFile(request.file, { format: request.format, table, limits, optionalFields: optionalFieldsOf(store, table) });
}

/** The schema's optional top-level fields of `table` (CSV leaves their empty cells out, as Convex). */
function optionalFieldsOf(store: Store, table: string): Set<string> {
  const documentType = store.schema()?.tables.find((t) => t.tableName === table)?.documentType as ValidatorJSON | undefined;
  const out = new Set<string>();
  if (documentType?.type !== "object") return out;
  for (const [field, { optional }] of Object.entries(documentType.value)) if (optional) out.add(field);
  return out;
}
