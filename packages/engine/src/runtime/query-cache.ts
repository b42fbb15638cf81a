import { intervalContains, type ReadInterval, type ReadSet } from "../query/read-set.js";
import type { DocumentWrite } from "../store/write-set.js";
import type { CallOutcome } from "./function-outcome.js";

/**
 * Results of one-off query calls, reused until a commit writes into what
 * they read — the query cache Convex's own backend keeps, keyed like its
 * (function, arguments, identity, visibility). A result is dropped:
 * - at the commit that writes a key inside an interval it scanned or an id it
 *   fetched (checked when the commit happens, under the executor lock, so a
 *   cached result is always as fresh as the latest commit);
 * - after `maxAgeMs`, because a query may depend on the clock (Convex
 *   tolerates time-dependent results up to 5 s old as well);
 * - when the code, the env vars or the deployment clock change (`clear`).
 * Failed calls are never cached.
 *
 * Invalidation cost follows what a write can touch, not the cache size:
 * intervals whose bounds share their first bytes (the `Eq` part of a
 * `withIndex` range, e.g. one user's likes) are filed under those bytes, so a
 * written key only meets the intervals filed under its own first bytes, plus
 * the few wide ones (whole-table scans, page scans).
 */

/** Bytes of a key that file an interval; the sort key of a document id alone is longer. */
const BUCKET_BYTES = 16;

/** Settings of a query cache. */
export interface QueryCacheOptions {
  /** Most results kept. */
  maxEntries: number;
  /** Most bytes kept (results as text and parsed, and keys; approximate). */
  maxBytes: number;
  /** A result is not served once it is this old (ms). */
  maxAgeMs: number;
  /** A monotonic clock (ms). */
  now: () => number;
}

/** A successful outcome as the cache keeps it. */
export type CachedOutcome = Extract<CallOutcome, { status: "success" }>;

interface Entry {
  key: string;
  outcome: CachedOutcome;
  storedAt: number;
  bytes: number;
  /** Where the entry is filed, so it can be unfiled. */
  ids: string[];
  filed: { file: IndexFile; bucket: string | null; filed: Filed }[];
  dropped: boolean;
}

interface IndexFile {
  /** Intervals whose bounds share their first BUCKET_BYTES bytes, by those bytes. */
  buckets: Map<string, Set<Filed>>;
  /** Every other interval. */
  wide: Set<Filed>;
}

interface Filed {
  entry: Entry;
  interval: ReadInterval;
}

/** Caches successful query outcomes and drops them when commits touch what they read. */
export class QueryCache {
  private readonly entries = new Map<string, Entry>();
  private readonly byId = new Map<string, Set<Entry>>();
  private readonly byIndex = new Map<string, IndexFile>();
  private bytes = 0;

  constructor(private readonly options: QueryCacheOptions) {}

  /** The cached outcome for `key`, or null. */
  get(key: string): CachedOutcome | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (this.options.now() - entry.storedAt > this.options.maxAgeMs) {
      this.drop(entry);
      return null;
    }
    // Most recently used last: eviction takes the first.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.outcome;
  }

  /**
   * Keeps `outcome` for `key` with what it read. Must be called before any
   * later commit can happen (under the executor lock that ran the query).
   */
  set(key: string, outcome: CachedOutcome, reads: ReadSet): void {
    // Text and key, plus the parsed value, which takes roughly twice the text (a worker's
    // UTF-8 bytes count as its text: measured without decoding them).
    const bytes = 3 * (outcome.valueBytes?.length ?? outcome.valueText?.length ?? JSON.stringify(outcome.value).length) + key.length;
    if (bytes > this.options.maxBytes / 4) return;
    const previous = this.entries.get(key);
    if (previous !== undefined) this.drop(previous);
    const entry: Entry = { key, outcome, storedAt: this.options.now(), bytes, ids: reads.ids, filed: [], dropped: false };
    for (const id of reads.ids) {
      let set = this.byId.get(id);
      if (set === undefined) this.byId.set(id, (set = new Set()));
      set.add(entry);
    }
    for (const interval of reads.intervals) {
      let file = this.byIndex.get(interval.index);
      if (file === undefined) this.byIndex.set(interval.index, (file = { buckets: new Map(), wide: new Set() }));
      const bucket = bucketOf(interval);
      const filed: Filed = { entry, interval };
      if (bucket === null) file.wide.add(filed);
      else {
        let set = file.buckets.get(bucket);
        if (set === undefined) file.buckets.set(bucket, (set = new Set()));
        set.add(filed);
      }
      entry.filed.push({ file, bucket, filed });
    }
    this.entries.set(key, entry);
    this.bytes += bytes;
    while (this.entries.size > this.options.maxEntries || this.bytes > this.options.maxBytes) {
      this.drop(this.entries.values().next().value as Entry);
    }
  }

  /** Drops every result that read something these writes changed. */
  invalidate(writes: readonly DocumentWrite[]): void {
    if (this.entries.size === 0) return;
    for (const write of writes) {
      // A table written wholesale (an import) is rare: everything cached goes.
      if (write.wholeTable !== undefined) return this.clear();
      const readers = this.byId.get(write.id);
      if (readers !== undefined) for (const entry of [...readers]) this.drop(entry);
      for (const change of write.keys) {
        const file = this.byIndex.get(change.index);
        if (file === undefined) continue;
        if (change.oldKey !== null) this.dropReaders(file, change.oldKey);
        if (change.newKey !== null && (change.oldKey === null || !change.newKey.equals(change.oldKey))) {
          this.dropReaders(file, change.newKey);
        }
      }
    }
  }

  /** Drops everything (new code, env vars or clock). */
  clear(): void {
    this.entries.clear();
    this.byId.clear();
    this.byIndex.clear();
    this.bytes = 0;
  }

  /** Number of cached results. */
  get size(): number {
    return this.entries.size;
  }

  private dropReaders(file: IndexFile, key: Buffer): void {
    const doomed: Entry[] = [];
    const bucket = key.length >= BUCKET_BYTES ? file.buckets.get(key.toString("latin1", 0, BUCKET_BYTES)) : undefined;
    if (bucket !== undefined) for (const filed of bucket) if (intervalContains(filed.interval, key)) doomed.push(filed.entry);
    for (const filed of file.wide) if (intervalContains(filed.interval, key)) doomed.push(filed.entry);
    // Keys shorter than a bucket prefix can only fall in wide intervals.
    for (const entry of doomed) this.drop(entry);
  }

  private drop(entry: Entry): void {
    if (entry.dropped) return;
    entry.dropped = true;
    this.entries.delete(entry.key);
    this.bytes -= entry.bytes;
    for (const id of entry.ids) {
      const set = this.byId.get(id);
      set?.delete(entry);
      if (set?.size === 0) this.byId.delete(id);
    }
    for (const { file, bucket, filed } of entry.filed) {
      if (bucket === null) {
        file.wide.delete(filed);
        continue;
      }
      const set = file.buckets.get(bucket);
      set?.delete(filed);
      if (set?.size === 0) file.buckets.delete(bucket);
    }
  }
}

/**
 * The bucket of an interval: its bounds' first BUCKET_BYTES bytes when both
 * have them in common (then every key between them starts with them too),
 * else null (wide).
 */
function bucketOf(interval: ReadInterval): string | null {
  const { lo, hi } = interval;
  if (hi === null || lo.length < BUCKET_BYTES || hi.length < BUCKET_BYTES) return null;
  for (let i = 0; i < BUCKET_BYTES; i++) if (lo[i] !== hi[i]) return null;
  return Buffer.from(lo.buffer, lo.byteOffset, BUCKET_BYTES).toString("latin1");
}

