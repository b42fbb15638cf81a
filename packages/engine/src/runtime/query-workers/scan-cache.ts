import type { IndexRow, KeyRange, ScanOrder, Store } from "../../store/store.js";
import { tableNumberOfId } from "../../values/document-id.js";

/**
 * Index scans a query worker answered, kept for the runs that follow (runs on the worker
 * thread; for its main connection's snapshots only — pinned snapshots have stores of their
 * own). After one commit the re-runs of a thousand subscriptions scan the same 20 posts;
 * after the next one, each viewer's own lookups (its likes, blocks, bookmarks) are the
 * same as in its previous run unless the commit wrote into their table. So a scan's rows
 * stay valid until a commit writes any document of the index's table (the worker hears
 * every commit's written ids in ts order; ids carry their table number), and everything
 * goes when a commit is missed or the snapshot moved on unannounced.
 *
 * The cache sits below the query layer: the stream, its operators and read-set recording
 * run exactly as on a miss, so a cached answer records the same intervals. Rows are shared
 * between runs and never changed (`IndexRow` is read-only; its key is decoded once).
 *
 * Bounded by two generations of entries (as `parsed-documents.ts`).
 */

/** Scans per generation: at most twice this many are held. */
const GENERATION_SIZE = 4_096;
/** A scan that returned more rows than this is not kept (it is rare, and big). */
const MAX_CACHED_ROWS = 256;
/**
 * Scans of fewer rows are not cached: `first()` is one B-tree probe, which SQLite answers
 * faster than this cache builds its key (measured: caching every lookup cost the feed's
 * re-runs more than it saved).
 */
const MIN_CACHED_LIMIT = 2;

export interface ScanCache {
  /** The store whose `scan` answers from the cache; everything else is the store's own. */
  readonly store: Store;
  /** A commit wrote these ids: drops the scans of their tables (all scans, for null). */
  forget(ids: readonly string[] | null): void;
}

type Generation = Map<number, Map<string, IndexRow[]>>;

/** Wraps `store` (a read-only connection: nothing on it writes) with a scan cache. */
export function createScanCache(store: Store): ScanCache {
  let young: Generation = new Map();
  let old: Generation = new Map();
  let youngSize = 0;
  /** Index name → its table's number, for the current catalog. */
  const tableOfIndex = new Map<string, number | null>();

  const tableNumberOf = (index: string): number | null => {
    let number = tableOfIndex.get(index);
    if (number === undefined) {
      const info = store.resolveIndex(index);
      number = info === null ? null : store.tableNumber(info.table);
      tableOfIndex.set(index, number);
    }
    return number;
  };

  const cached: Store = Object.create(store) as Store;
  cached.scan = (index: string, range: KeyRange, order: ScanOrder, limit: number): IndexRow[] => {
    if (limit < MIN_CACHED_LIMIT) return store.scan(index, range, order, limit);
    const table = tableNumberOf(index);
    if (table === null) return store.scan(index, range, order, limit);
    const key = `${index}\u0000${order}${limit}\u0000${latin1(range.lo)}${range.hi === null ? "" : `\u0000${latin1(range.hi)}`}`;
    let rows = young.get(table)?.get(key);
    if (rows !== undefined) return rows;
    rows = old.get(table)?.get(key) ?? store.scan(index, range, order, limit);
    if (rows.length > MAX_CACHED_ROWS) return rows;
    let scans = young.get(table);
    if (scans === undefined) young.set(table, (scans = new Map()));
    scans.set(key, rows);
    if (++youngSize >= GENERATION_SIZE) {
      old = young;
      young = new Map();
      youngSize = 0;
    }
    return rows;
  };

  return {
    store: cached,
    forget(ids) {
      if (ids === null) {
        young = new Map();
        old = new Map();
        youngSize = 0;
        // The catalog may have changed with the commits missed (a schema push).
        tableOfIndex.clear();
        return;
      }
      for (const id of ids) {
        const table = tableNumberOfId(id);
        if (table === null) continue;
        const dropped = young.get(table);
        if (dropped !== undefined) {
          youngSize -= dropped.size;
          young.delete(table);
        }
        old.delete(table);
      }
    },
  };
}

/** Key bytes as a string of the same length (one character per byte), for map keys. */
function latin1(key: Uint8Array): string {
  return (Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength)).toString("latin1");
}

/**
 * Keeps a worker's caches — the store's document texts and the scan cache — exact for
 * the snapshot its main connection reads (worker thread). Commits arrive in ts order,
 * between jobs; each names the commit it follows, so a gap (a schema push, writes from
 * another process, a bulk write set) is seen and everything is dropped.
 */
export class SnapshotCaches {
  /** Highest commit ts whose writes the caches have taken. */
  private ts = -1n;
  /**
   * Times everything was dropped: a snapshot newer than the last commit heard of
   * (`unannounced`), or a commit that did not follow the last one (`gap`). The pool sums
   * them over its workers (the sustained benchmark prints them).
   */
  readonly drops = { unannounced: 0, gap: 0 };

  constructor(
    private readonly store: Store,
    private readonly scans: ScanCache,
  ) {}

  /** A commit of the writer (in ts order): drops what it wrote, or everything after a gap. */
  committed(ts: bigint, previousTs: bigint, ids: readonly string[]): void {
    if (ts <= this.ts) return;
    if (previousTs !== this.ts) this.drops.gap += 1;
    this.forget(previousTs === this.ts ? ids : null);
    this.ts = ts;
  }

  /** Whether the caches took a commit newer than `ts`: a run must not read behind them. */
  heardAfter(ts: bigint): boolean {
    return this.ts > ts;
  }

  /**
   * A run reads at snapshot `ts`. The caches hold what was valid at `this.ts`; a newer
   * snapshot whose commits were not announced to this worker yet may not use them.
   */
  reading(ts: bigint): void {
    if (ts === this.ts) return;
    this.drops.unannounced += 1;
    this.forget(null);
    this.ts = ts;
  }

  private forget(ids: readonly string[] | null): void {
    this.store.forgetCachedDocuments(ids);
    this.scans.forget(ids);
  }
}
