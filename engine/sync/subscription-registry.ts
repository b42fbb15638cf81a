import type { JSONValue } from "convex/values";
import type { ReadInterval, ReadSet } from "../query/read-set.js";
import type { Identity } from "../runtime/services.js";
import type { DocumentWrite } from "../store/store.js";
import { tableNumberOfId } from "../values/document-id.js";
import { compareKeys } from "../values/index-key-codec.js";
import type { EncodedResult } from "./server-message.js";

/**
 * Live query executions shared by every connection that asks the same thing.
 *
 * A subscription is identified by (function, arguments, identity, the
 * journal it started from): connections with equal keys see equal results, so
 * the query runs once per invalidation and its encoded result fans out. The
 * registry indexes each subscription's last read set by index name and by
 * fetched id, so a commit only tests the subscriptions that read an index it
 * wrote, and only against their intervals on that index.
 */

/** What a subscription executes. */
export interface QuerySpec {
  /** Canonical `module:function` path. */
  udfPath: string;
  args: JSONValue;
  identity: Identity | null;
  /** Stable text of the identity (`"null"` when signed out); part of the key. */
  identityKey: string;
  /** Admin sessions may subscribe to internal queries. */
  admin: boolean;
  /** The journal the first subscriber brought (pagination end cursor), or null. */
  journal: string | null;
}

/** One shared live query; `W` is what a subscriber attaches as (a connection's query). */
export interface Subscription<W = unknown> {
  readonly key: string;
  readonly spec: QuerySpec;
  /** The journal to run with next: the latest run's, or the one it started from. */
  journal: string | null;
  /** The latest result; null until the first run. */
  result: EncodedResult | null;
  /** The connection queries attached. */
  readonly watchers: Set<W>;
  /** True when the result may be stale (never run, or a commit touched what it read). */
  dirty: boolean;
  /** The last run's read intervals, grouped by index name. */
  intervals: Map<string, ReadInterval[]>;
  /** The ids the last run fetched with `get`. */
  ids: string[];
}

/** The registry of shared subscriptions. */
export class SubscriptionRegistry<W> {
  private readonly byKey = new Map<string, Subscription<W>>();
  /** Index name → subscriptions whose read set has intervals on it. */
  private readonly byIndex = new Map<string, Set<Subscription<W>>>();
  /** Document id → subscriptions that fetched it. */
  private readonly byId = new Map<string, Set<Subscription<W>>>();
  private readonly dirty = new Set<Subscription<W>>();

  /** Number of live subscriptions. */
  get size(): number {
    return this.byKey.size;
  }

  /** Attaches `watcher` to the subscription for `spec`, creating it (dirty) if needed. */
  acquire(spec: QuerySpec, watcher: W): Subscription<W> {
    const key = subscriptionKey(spec);
    let sub = this.byKey.get(key);
    if (sub === undefined) {
      sub = { key, spec, journal: spec.journal, result: null, watchers: new Set(), dirty: true, intervals: new Map(), ids: [] };
      this.byKey.set(key, sub);
      this.dirty.add(sub);
    }
    sub.watchers.add(watcher);
    return sub;
  }

  /** Detaches `watcher`; the last one removes the subscription and its index entries. */
  release(sub: Subscription<W>, watcher: W): void {
    sub.watchers.delete(watcher);
    if (sub.watchers.size > 0) return;
    this.byKey.delete(sub.key);
    this.dirty.delete(sub);
    this.unindex(sub);
  }

  /** Marks every subscription whose read set a commit's writes fall into. */
  invalidate(writes: readonly DocumentWrite[]): void {
    for (const write of writes) {
      if (write.wholeTable !== undefined) {
        this.invalidateTable(write.table, write.wholeTable.tableNumber);
        continue;
      }
      const readers = this.byId.get(write.id);
      if (readers !== undefined) for (const sub of readers) this.markDirty(sub);
      for (const change of write.keys) {
        const candidates = this.byIndex.get(change.index);
        if (candidates === undefined) continue;
        for (const sub of candidates) {
          if (sub.dirty) continue;
          const intervals = sub.intervals.get(change.index)!;
          if ((change.oldKey !== null && anyContains(intervals, change.oldKey)) || (change.newKey !== null && anyContains(intervals, change.newKey))) {
            this.markDirty(sub);
          }
        }
      }
    }
  }

  /** Marks every subscription that scanned an index of `table` or fetched one of its ids (a table written wholesale). */
  private invalidateTable(table: string, tableNumber: number): void {
    const prefix = `${table}.`;
    for (const [index, subs] of this.byIndex) if (index.startsWith(prefix)) for (const sub of subs) this.markDirty(sub);
    for (const [id, subs] of this.byId) if (tableNumberOfId(id) === tableNumber) for (const sub of subs) this.markDirty(sub);
  }

  /** Marks every subscription stale (new code was loaded). */
  invalidateAll(): void {
    for (const sub of this.byKey.values()) this.markDirty(sub);
  }

  /** The subscriptions that must run before the next Transition; clears the list. */
  takeDirty(): Subscription<W>[] {
    const out = [...this.dirty];
    this.dirty.clear();
    return out;
  }

  /** Stores a run's outcome and re-indexes its read set. */
  recordRun(sub: Subscription<W>, result: EncodedResult, journal: string | null, readSet: ReadSet): void {
    sub.result = result;
    sub.journal = journal;
    sub.dirty = false;
    if (sub.watchers.size === 0) return;
    this.unindex(sub);
    const intervals = new Map<string, ReadInterval[]>();
    for (const interval of readSet.intervals) {
      const list = intervals.get(interval.index);
      if (list === undefined) intervals.set(interval.index, [interval]);
      else list.push(interval);
    }
    sub.intervals = intervals;
    sub.ids = readSet.ids;
    for (const index of intervals.keys()) addTo(this.byIndex, index, sub);
    for (const id of sub.ids) addTo(this.byId, id, sub);
  }

  private markDirty(sub: Subscription<W>): void {
    if (sub.dirty) return;
    sub.dirty = true;
    this.dirty.add(sub);
  }

  private unindex(sub: Subscription<W>): void {
    for (const index of sub.intervals.keys()) removeFrom(this.byIndex, index, sub);
    for (const id of sub.ids) removeFrom(this.byId, id, sub);
    sub.intervals = new Map();
    sub.ids = [];
  }
}

/** The dedupe key: equal keys are guaranteed equal results at one snapshot. */
function subscriptionKey(spec: QuerySpec): string {
  return `${spec.udfPath}\u0000${JSON.stringify(spec.args)}\u0000${spec.identityKey}\u0000${spec.admin ? 1 : 0}\u0000${JSON.stringify(spec.journal)}`;
}

function anyContains(intervals: readonly ReadInterval[], key: Uint8Array): boolean {
  for (const interval of intervals) {
    if (compareKeys(key, interval.lo) >= 0 && (interval.hi === null || compareKeys(key, interval.hi) < 0)) return true;
  }
  return false;
}

function addTo<K, S>(map: Map<K, Set<S>>, key: K, sub: S): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(sub);
}

function removeFrom<K, S>(map: Map<K, Set<S>>, key: K, sub: S): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(sub);
  if (set.size === 0) map.delete(key);
}
