import { tableNumberOfId } from "../values/document-id";
import { compareKeys, keyAfter } from "../values/index-key-codec";
import type { KeyRange, ScanOrder } from "../store/store";
import type { DocumentWrite } from "../store/write-set";

/**
 * What an execution read, so the real-time layer can tell whether a commit may change its
 * result: index key intervals (`hi` exclusive, null = unbounded) and the ids fetched by
 * `get`. A scan that stopped early covers only up to the last key it examined, inclusive:
 * documents written beyond that point cannot change what it returned.
 */

/** One scanned interval of an index. */
export interface ReadInterval {
  /** `"<table>.<index>"`. */
  index: string;
  lo: Uint8Array;
  hi: Uint8Array | null;
}

/** The read set of one execution. */
export interface ReadSet {
  intervals: ReadInterval[];
  ids: string[];
}

/** Follows one scan as it consumes rows. */
export interface ScanTracker {
  /**
   * The scan has examined this row (rows come in scan order). Only the last row's key is
   * ever read, and only when the read set is taken.
   */
  advance(row: { readonly key: Uint8Array }): void;
  /** The scan reached the end of its range: the whole range counts as read. */
  finish(): void;
}

/** Collects the reads of one execution. */
export interface ReadSetRecorder {
  /** Records a whole interval as read. */
  addInterval(index: string, lo: Uint8Array, hi: Uint8Array | null): void;
  /** Records a `get` of this id (found or not). */
  addId(id: string): void;
  /** Starts tracking a scan of `range`; it counts as read only as far as it got. */
  trackScan(index: string, range: KeyRange, order: ScanOrder): ScanTracker;
  /** The reads so far, with every open scan cut at its current position. */
  readSet(): ReadSet;
}

/** One scan of an execution, and its own tracker: one object per `first()`, not four. */
class TrackedScan implements ScanTracker {
  last: { readonly key: Uint8Array } | null = null;
  finished = false;

  constructor(
    readonly index: string,
    readonly range: KeyRange,
    readonly order: ScanOrder,
  ) {}

  advance(row: { readonly key: Uint8Array }): void {
    this.last = row;
  }

  finish(): void {
    this.finished = true;
  }
}

const NO_TRACKING: ScanTracker = { advance() {}, finish() {} };

/**
 * A recorder that keeps nothing, for executions whose read set nobody asks
 * for (a one-off query, a mutation): tracking every scan and id costs
 * allocations on the hottest paths. Its read set is always empty.
 */
export const DISCARDED_READS: ReadSetRecorder = {
  addInterval() {},
  addId() {},
  trackScan: () => NO_TRACKING,
  readSet: () => ({ intervals: [], ids: [] }),
};

/** Creates an empty recorder. */
export function createReadSetRecorder(): ReadSetRecorder {
  const intervals: ReadInterval[] = [];
  const ids = new Set<string>();
  const scans: TrackedScan[] = [];

  return {
    addInterval: (index, lo, hi) => void intervals.push({ index, lo, hi }),
    addId: (id) => void ids.add(id),
    trackScan(index, range, order) {
      const scan = new TrackedScan(index, range, order);
      scans.push(scan);
      return scan;
    },
    readSet() {
      const out = [...intervals];
      for (const scan of scans) {
        const { lo, hi } = scan.range;
        if (scan.finished) out.push({ index: scan.index, lo, hi });
        else if (scan.last !== null) {
          out.push(
            scan.order === "asc"
              ? { index: scan.index, lo, hi: keyAfter(scan.last.key) }
              : { index: scan.index, lo: scan.last.key, hi },
          );
        }
      }
      return { intervals: out, ids: [...ids] };
    },
  };
}

/**
 * True when a commit's writes may change the result of an execution with this read set:
 * a written id was fetched, or an old or new key of a written document lies in a scanned
 * interval of the same index.
 */
export function readSetIntersects(readSet: ReadSet, writes: readonly DocumentWrite[]): boolean {
  if (writes.length === 0) return false;
  const ids = readSet.ids.length > 0 ? new Set(readSet.ids) : null;
  const byIndex = new Map<string, ReadInterval[]>();
  for (const interval of readSet.intervals) {
    const list = byIndex.get(interval.index);
    if (list === undefined) byIndex.set(interval.index, [interval]);
    else list.push(interval);
  }
  for (const write of writes) {
    if (write.wholeTable !== undefined) {
      if (readsTable(readSet, write.table, write.wholeTable.tableNumber)) return true;
      continue;
    }
    if (ids !== null && ids.has(write.id)) return true;
    for (const change of write.keys) {
      const intervals = byIndex.get(change.index);
      if (intervals === undefined) continue;
      for (const interval of intervals) {
        if (change.oldKey !== null && intervalContains(interval, change.oldKey)) return true;
        if (change.newKey !== null && intervalContains(interval, change.newKey)) return true;
      }
    }
  }
  return false;
}

/** True when a read set scanned any index of `table` or fetched any id of its number. */
export function readsTable(readSet: ReadSet, table: string, tableNumber: number): boolean {
  const prefix = `${table}.`;
  return readSet.intervals.some((i) => i.index.startsWith(prefix)) || readSet.ids.some((id) => tableNumberOfId(id) === tableNumber);
}

/** True when `key` lies in the interval (`lo` inclusive, `hi` exclusive, null = unbounded). */
export function intervalContains(interval: Pick<ReadInterval, "lo" | "hi">, key: Uint8Array): boolean {
  return compareKeys(key, interval.lo) >= 0 && (interval.hi === null || compareKeys(key, interval.hi) < 0);
}
