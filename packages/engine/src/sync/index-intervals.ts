import { intervalContains, type ReadInterval } from "../query/read-set.js";
import type { DocumentWrite } from "../store/write-set.js";
import { tableNumberOfId } from "../values/document-id.js";
import { compareKeys } from "../values/index-key-codec.js";

/**
 * One subscription's read intervals on one index, as a commit's keys are tested against
 * them (`SubscriptionRegistry.invalidate`). The intervals are kept as recorded (entries
 * move in and out by identity when a re-run read nearly the same), and, once they have
 * been tested a few times without changing, also as their union: sorted, disjoint, so a
 * key is found by binary search instead of a compare against each interval. A feed
 * subscriber's like lookups are a few dozen point intervals on one index, and every
 * commit that writes the index tests every subscriber; the union is not built for
 * intervals that change between tests (sorting them would cost more than the scans).
 * Runs on the sync server's thread.
 */
export class IndexIntervals {
  readonly list: ReadInterval[] = [];
  /** The union's intervals (`lo` ascending, disjoint); null until a key is tested after a change. */
  private los: Uint8Array[] | null = null;
  private his: (Uint8Array | null)[] = [];
  /** Keys tested since the intervals last changed. */
  private tests = 0;

  add(interval: ReadInterval): void {
    this.list.push(interval);
    this.changed();
  }

  /** Removes this recorded interval (the same object); returns how many remain. */
  remove(interval: ReadInterval): number {
    const at = this.list.indexOf(interval);
    if (at >= 0) this.list.splice(at, 1);
    this.changed();
    return this.list.length;
  }

  /** True when some interval holds `key` (`lo` inclusive, `hi` exclusive, null = unbounded). */
  contains(key: Uint8Array): boolean {
    if (this.los === null && (this.list.length <= LINEAR_UP_TO || ++this.tests < UNION_AFTER_TESTS)) {
      // An index loop: a for-of over the array allocated an iterator result per step
      // whenever this ran unoptimized.
      const list = this.list;
      for (let n = 0; n < list.length; n++) if (intervalContains(list[n]!, key)) return true;
      return false;
    }
    if (this.los === null) this.merge();
    const los = this.los!;
    // The last interval of the union starting at or before `key`.
    let low = 0;
    let high = los.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (compareKeys(los[mid]!, key) <= 0) {
        found = mid;
        low = mid + 1;
      } else high = mid - 1;
    }
    if (found < 0) return false;
    const hi = this.his[found]!;
    return hi === null || compareKeys(key, hi) < 0;
  }

  private changed(): void {
    this.los = null;
    this.tests = 0;
  }

  private merge(): void {
    const sorted = [...this.list].sort((a, b) => compareKeys(a.lo, b.lo));
    const los: Uint8Array[] = [];
    const his: (Uint8Array | null)[] = [];
    for (const { lo, hi } of sorted) {
      const last = his.length - 1;
      // Overlapping or touching the previous one (it ends at or after this start): one interval.
      if (last >= 0 && (his[last] === null || compareKeys(lo, his[last]!) <= 0)) {
        if (his[last] !== null && (hi === null || compareKeys(hi, his[last]!) > 0)) his[last] = hi;
        continue;
      }
      los.push(lo);
      his.push(hi);
    }
    this.los = los;
    this.his = his;
  }
}

/** Below this many intervals a linear scan is as cheap as keeping the union. */
const LINEAR_UP_TO = 4;
/** The union is built at the third key tested since the intervals last changed. */
const UNION_AFTER_TESTS = 3;


/** A read set's intervals by index name. */
export function groupIntervals(intervals: readonly ReadInterval[]): Map<string, IndexIntervals> {
  const byIndex = new Map<string, IndexIntervals>();
  for (const interval of intervals) {
    let group = byIndex.get(interval.index);
    if (group === undefined) byIndex.set(interval.index, (group = new IndexIntervals()));
    group.add(interval);
  }
  return byIndex;
}

/** True when one of `writes` falls into these intervals (by index name) or fetched ids (`readSetIntersects`, on indexed reads). */
export function readsAnyOf(intervals: Map<string, IndexIntervals>, ids: readonly string[], writes: readonly DocumentWrite[]): boolean {
  for (const write of writes) {
    if (write.wholeTable !== undefined) {
      const prefix = `${write.table}.`;
      for (const index of intervals.keys()) if (index.startsWith(prefix)) return true;
      if (ids.some((id) => tableNumberOfId(id) === write.wholeTable!.tableNumber)) return true;
      continue;
    }
    if (ids.includes(write.id)) return true;
    for (const change of write.keys) {
      const group = intervals.get(change.index);
      if (group === undefined) continue;
      if ((change.oldKey !== null && group.contains(change.oldKey)) || (change.newKey !== null && group.contains(change.newKey))) return true;
    }
  }
  return false;
}
