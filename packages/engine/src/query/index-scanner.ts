import { keyAfter } from "../values/index-key-codec";
import type { IndexRow, KeyRange, ScanOrder, Store } from "../store/store";
import type { ScanTracker } from "./read-set";

/**
 * A resumable scan over an index range, fetched from the store in growing batches. No
 * SQLite iterator stays open between calls (better-sqlite3 forbids other statements while
 * one is), so each batch restarts just past the last key handed out. A batch read before a
 * write of the same transaction is thrown away, so a scan sees writes made while it runs.
 */

/** Rows per batch grow up to this, trading memory for fewer statement runs. */
export const MAX_BATCH = 1024;

/** A first batch for when nothing says how many rows are needed. */
export const DEFAULT_FIRST_BATCH = 32;

/** Hands out the rows of one range in order. */
export interface IndexScanner {
  /** The next row, or null at the end of the range. */
  next(): IndexRow | null;
}

/**
 * Creates a scanner. `firstBatch` is how many rows to fetch first: the exact need when it is
 * known (`first()` wants one row), a guess otherwise; it is clamped to 1..MAX_BATCH.
 */
export function createIndexScanner(
  store: Store,
  index: string,
  range: KeyRange,
  order: ScanOrder,
  tracker: ScanTracker,
  firstBatch: number,
): IndexScanner {
  let lo = range.lo;
  let hi = range.hi;
  let buffer: IndexRow[] = [];
  let position = 0;
  let bufferVersion = -1;
  let sourceDone = false;
  let finished = false;
  let batch = Math.max(1, Math.min(firstBatch, MAX_BATCH));
  let last: IndexRow | null = null;

  function refill(): void {
    if (last !== null) {
      if (order === "asc") lo = keyAfter(last.key);
      else hi = last.key;
    }
    buffer = store.scan(index, { lo, hi }, order, batch);
    position = 0;
    bufferVersion = store.writeVersion();
    sourceDone = buffer.length < batch;
    batch = Math.min(batch * 2, MAX_BATCH);
  }

  return {
    next() {
      if (finished) return null;
      const stale = bufferVersion !== store.writeVersion();
      if (stale || (position >= buffer.length && !sourceDone)) refill();
      if (position >= buffer.length) {
        finished = true;
        tracker.finish();
        return null;
      }
      const row = buffer[position++];
      last = row;
      tracker.advance(row);
      return row;
    },
  };
}
