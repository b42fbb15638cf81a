import type { JSONValue } from "convex/values";
import type { ReadSet } from "../query/read-set.js";
import { changedReads, keepReadSet, samePackedReads, type ReadSetChange } from "../runtime/query-workers/received-read-set.js";
import type { Identity } from "../runtime/services.js";
import type { DocumentWrite } from "../store/write-set.js";
import { tableNumberOfId } from "../values/document-id.js";
import { groupIntervals, IndexIntervals, readsAnyOf } from "./index-intervals.js";
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
 *
 * A result is valid over a range of commit timestamps: from the snapshot it
 * was computed at (`validFrom`) up to, excluding, the first later commit that
 * wrote into its read set (`validTo`, null while none has). Update rounds
 * send a connection a Transition at a ts inside every one of its results'
 * ranges, which is what keeps each Transition at one snapshot although the
 * results were computed at different ones.
 *
 * Everything here runs on the sync server's thread (the event loop that
 * serves the sockets); no method waits.
 */

/** What a subscription executes. */
/** What the registry stores for one run of a subscription (`subscription-runner.ts` makes them). */
export interface RecordedRun {
  result: EncodedResult;
  journal: string | null;
  readSet: ReadSet;
  /** The snapshot the run read. */
  ts: bigint;
  /** The first commit after `ts` that wrote into its read set, or null while none has. */
  validTo: bigint | null;
}

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
  /** The snapshot ts `result` was computed at. */
  validFrom: bigint;
  /** The first commit after `validFrom` that may change `result`; null while none has. */
  validTo: bigint | null;
  /** The connection queries attached. */
  readonly watchers: Set<W>;
  /** True when the subscription must run again (never ran, or its result went stale). */
  dirty: boolean;
  /** True while a run is in flight. */
  running: boolean;
  /** Bumped when every result is declared stale (new code): a run started before does not count. */
  epoch: number;
  /** False once released (or never registered, for a refused query): results for it are dropped. */
  live: boolean;
  /** The last run's read intervals, grouped by index name. */
  intervals: Map<string, IndexIntervals>;
  /** The ids the last run fetched with `get`. */
  ids: string[];
  /** The last run's read set, as it was indexed. */
  readSet: ReadSet | null;
}

/** The registry of shared subscriptions. */
export class SubscriptionRegistry<W> {
  private readonly byKey = new Map<string, Subscription<W>>();
  /** Index name → subscriptions whose read set has intervals on it. */
  private readonly byIndex = new Map<string, Set<Subscription<W>>>();
  /** Document id → subscriptions that fetched it. */
  private readonly byId = new Map<string, Set<Subscription<W>>>();
  private epoch = 0;

  /** Number of live subscriptions. */
  get size(): number {
    return this.byKey.size;
  }

  /** Attaches `watcher` to the subscription for `spec`, creating it (dirty) if needed. */
  acquire(spec: QuerySpec, watcher: W): Subscription<W> {
    const key = subscriptionKey(spec);
    let sub = this.byKey.get(key);
    if (sub === undefined) {
      sub = newSubscription(key, spec, this.epoch);
      this.byKey.set(key, sub);
    }
    sub.watchers.add(watcher);
    return sub;
  }

  /**
   * A subscription that never runs and always reports `result` (a query the
   * connection may not add). It is not shared and not indexed.
   */
  refused(spec: QuerySpec, watcher: W, result: EncodedResult): Subscription<W> {
    const sub = newSubscription<W>("", spec, this.epoch);
    sub.result = result;
    sub.dirty = false;
    sub.live = false;
    sub.watchers.add(watcher);
    return sub;
  }

  /** Detaches `watcher`; the last one removes the subscription and its index entries. */
  release(sub: Subscription<W>, watcher: W): void {
    sub.watchers.delete(watcher);
    if (sub.watchers.size > 0 || !sub.live) return;
    sub.live = false;
    this.byKey.delete(sub.key);
    this.unindex(sub);
  }

  /**
   * Ends the validity of every result whose read set the writes of the commit
   * at `ts` fall into. Returns the subscriptions that became dirty.
   */
  invalidate(writes: readonly DocumentWrite[], ts: bigint): Subscription<W>[] {
    const stale: Subscription<W>[] = [];
    const mark = (sub: Subscription<W>) => {
      if (sub.validTo !== null || ts <= sub.validFrom) return;
      sub.validTo = ts;
      sub.dirty = true;
      stale.push(sub);
    };
    for (const write of writes) {
      if (write.wholeTable !== undefined) {
        this.invalidateTable(write.table, write.wholeTable.tableNumber, mark);
        continue;
      }
      const readers = this.byId.get(write.id);
      if (readers !== undefined) for (const sub of readers) mark(sub);
      for (const change of write.keys) {
        const candidates = this.byIndex.get(change.index);
        if (candidates === undefined) continue;
        for (const sub of candidates) {
          if (sub.validTo !== null) continue;
          const intervals = sub.intervals.get(change.index)!;
          if ((change.oldKey !== null && intervals.contains(change.oldKey)) || (change.newKey !== null && intervals.contains(change.newKey))) {
            mark(sub);
          }
        }
      }
    }
    return stale;
  }

  /**
   * Declares every result stale (new code was loaded): they stay showable up
   * to `latestTs` and every subscription runs again; runs already in flight
   * (on the old code) do not count. Returns the subscriptions.
   */
  invalidateAll(latestTs: bigint): Subscription<W>[] {
    this.epoch += 1;
    const all = [...this.byKey.values()];
    for (const sub of all) {
      sub.epoch = this.epoch;
      sub.dirty = true;
      if (sub.validTo === null || sub.validTo > latestTs + 1n) sub.validTo = latestTs + 1n;
    }
    return all;
  }

  /** Calls `mark` on every subscription that scanned an index of `table` or fetched one of its ids (a table written wholesale). */
  private invalidateTable(table: string, tableNumber: number, mark: (sub: Subscription<W>) => void): void {
    const prefix = `${table}.`;
    for (const [index, subs] of this.byIndex) if (index.startsWith(prefix)) for (const sub of subs) mark(sub);
    for (const [id, subs] of this.byId) if (tableNumberOfId(id) === tableNumber) for (const sub of subs) mark(sub);
  }

  /**
   * True when these writes fall into what the subscription's latest recorded run read (its
   * index entries: the same test `invalidate` makes, for one subscription, with no unpacking
   * or regrouping of its read set).
   */
  reads(sub: Subscription<W>, writes: readonly DocumentWrite[]): boolean {
    return readsAnyOf(sub.intervals, sub.ids, writes);
  }

  /** Stores a run's outcome, valid from `ts` to `validTo`, and re-indexes its read set. */
  recordRun(
    sub: Subscription<W>,
    run: RecordedRun,
  ): void {
    sub.result = run.result;
    sub.journal = run.journal;
    sub.validFrom = run.ts;
    sub.validTo = run.validTo;
    sub.dirty = run.validTo !== null;
    if (!sub.live) return;
    // The same reads as last time (bytes equal): the index entries already say so.
    if (samePackedReads(sub.readSet, run.readSet)) return;
    // Nearly the same reads (a lookup more or less): only the entries that differ move.
    const change = changedReads(sub.readSet, run.readSet);
    if (change !== null) {
      this.reindex(sub, change);
      return;
    }
    this.unindex(sub);
    // Kept before it is unpacked: the entries' keys are then views into the kept copy.
    keepReadSet(run.readSet);
    sub.readSet = run.readSet;
    sub.intervals = groupIntervals(run.readSet.intervals);
    sub.ids = run.readSet.ids;
    for (const index of sub.intervals.keys()) addTo(this.byIndex, index, sub);
    for (const id of sub.ids) addTo(this.byId, id, sub);
  }

  /** Moves a subscription's index entries by what its new read set adds and drops. */
  private reindex(sub: Subscription<W>, change: ReadSetChange): void {
    sub.readSet = change.readSet;
    keepReadSet(change.readSet);
    sub.ids = change.readSet.ids;
    for (const interval of change.removedIntervals) {
      if (sub.intervals.get(interval.index)!.remove(interval) > 0) continue;
      sub.intervals.delete(interval.index);
      removeFrom(this.byIndex, interval.index, sub);
    }
    for (const interval of change.addedIntervals) {
      let group = sub.intervals.get(interval.index);
      if (group === undefined) {
        sub.intervals.set(interval.index, (group = new IndexIntervals()));
        addTo(this.byIndex, interval.index, sub);
      }
      group.add(interval);
    }
    // An id read twice may be dropped at one place and kept at another.
    for (const id of change.removedIds) if (!sub.ids.includes(id)) removeFrom(this.byId, id, sub);
    for (const id of change.addedIds) addTo(this.byId, id, sub);
  }

  private unindex(sub: Subscription<W>): void {
    for (const index of sub.intervals.keys()) removeFrom(this.byIndex, index, sub);
    for (const id of sub.ids) removeFrom(this.byId, id, sub);
    sub.intervals = new Map();
    sub.ids = [];
    sub.readSet = null;
  }
}

function newSubscription<W>(key: string, spec: QuerySpec, epoch: number): Subscription<W> {
  return {
    key,
    spec,
    journal: spec.journal,
    result: null,
    validFrom: 0n,
    validTo: null,
    watchers: new Set(),
    dirty: true,
    running: false,
    epoch,
    live: true,
    intervals: new Map(),
    ids: [],
    readSet: null,
  };
}

/** The dedupe key: equal keys are guaranteed equal results at one snapshot. */
function subscriptionKey(spec: QuerySpec): string {
  return `${spec.udfPath}\u0000${JSON.stringify(spec.args)}\u0000${spec.identityKey}\u0000${spec.admin ? 1 : 0}\u0000${JSON.stringify(spec.journal)}`;
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
