import type { IndexRow, Store } from "../store/store.js";
import { keyAfter, MIN_KEY } from "../values/index-key-codec.js";

const BATCH = 1000;

/**
 * Every row of a table in creation order, read in batches. Rows already
 * handed out may be deleted meanwhile: the next batch starts past them.
 */
export function* rowsInCreationOrder(store: Store, table: string): Generator<IndexRow> {
  let lo: Uint8Array = MIN_KEY;
  for (;;) {
    const rows = store.scan(`${table}.by_creation_time`, { lo, hi: null }, "asc", BATCH);
    yield* rows;
    if (rows.length < BATCH) return;
    lo = keyAfter(rows[rows.length - 1]!.key);
  }
}
