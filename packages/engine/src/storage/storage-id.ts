import { tableNumberOfId } from "../values/document-id.js";
import { SYSTEM_TABLE_NUMBERS } from "../values/table-names.js";

const STORAGE_TABLE_NUMBER = SYSTEM_TABLE_NUMBERS._storage;

/**
 * True when `value` is a well-formed id of the `_storage` table (checksum,
 * canonical spelling and table number checked by the id codec, whose cache
 * spares every request for the same file a new decode). Only such strings
 * ever become file names, so a request cannot reach outside the storage
 * folder with `../`, slashes, encodings or NUL bytes.
 */
export function isStorageId(value: unknown): value is string {
  return typeof value === "string" && tableNumberOfId(value) === STORAGE_TABLE_NUMBER;
}
