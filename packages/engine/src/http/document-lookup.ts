import { EngineError } from "../errors.js";
import type { Store } from "../store/store.js";
import { tryDecodeDocumentId } from "../values/document-id.js";

/**
 * The document with this id and its table, for following an id from any
 * document (ids carry their table number). The caller holds the runtime lock.
 */
export function findDocument(store: Store, id: string): { table: string; document: unknown } {
  const decoded = tryDecodeDocumentId(id);
  if (decoded === null) throw new EngineError("BadRequest", `"${id}" is not a document id.`);
  const table = store.tableName(decoded.tableNumber);
  const text = table === null ? null : store.get(id);
  if (table === null || text === null) throw new EngineError("NotFound", `No document has the id ${id}.`);
  return { table, document: JSON.parse(text) };
}
