import { MIN_KEY } from "../values/index-key-codec";
import type { Store } from "../store/store";
import type { ReadSetRecorder } from "./read-set";

/**
 * The reads that are not index scans, with their read-set entries: `db.get` (the id) and
 * `query(t).count()` (the whole table).
 */

/** `1.0/get`: the document's stored text or null; records the id as read. */
export function readDocument(store: Store, id: string, recorder: ReadSetRecorder): string | null {
  recorder.addId(id);
  return store.get(id);
}

/** `1.0/count`: the number of documents in `table`; any insert or delete there changes it. */
export function countDocuments(store: Store, table: string, recorder: ReadSetRecorder): number {
  recorder.addInterval(`${table}.by_id`, MIN_KEY, null);
  return store.count(table);
}
