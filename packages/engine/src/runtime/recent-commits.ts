import { readSetIntersects, type ReadSet } from "../query/read-set.js";
import type { DocumentWrite } from "../store/write-set.js";
import { tableNumberOfId } from "../values/document-id.js";
import type { CommitSummary } from "./runtime-database.js";

/** How long, and how many, commits are kept for `changedSince` (Convex keeps snapshots readable for about that long). */
const WINDOW_MS = 30_000;
const MAX_COMMITS = 4_096;
/**
 * Most per-document writes the log holds (each with its index keys and texts, about a
 * kilobyte). Past it the oldest commits are kept per table (`DocumentWrite.wholeTable`):
 * a bulk write (an import, a seed, a backfill) would otherwise stay on this thread's heap
 * until a later commit pushed it out of the window — forever on a deployment that then only
 * reads — and every major GC of the main thread would mark it again (the feed benchmarks'
 * 121,000-document seed kept 150 MB live there, and each major GC spent ~0.4 s of the main
 * thread's time marking it). About 90 mutations/s of three writes each fit at full detail.
 */
const MAX_DETAILED_WRITES = 8_192;

/**
 * The write sets of the latest commits, in ts order, so a result read at a later snapshot
 * can stand in for an older one (main thread): a query's result at `ts` equals its result
 * at `S > ts` exactly when no commit in `(ts, S]` wrote into what it read at `S` (the
 * rule that re-runs subscriptions, applied backwards). The log knows only an unbroken run
 * of commits: one that does not follow the last logged (a schema push, a write outside
 * the runtime) starts it afresh.
 */
export class RecentCommits {
  /** `detailed`: how many of `writes` are per document (0 once the commit is kept per table). */
  private readonly commits: { ts: bigint; at: number; writes: readonly DocumentWrite[]; detailed: number }[] = [];
  /** Every commit after this ts is in the log (null: nothing known yet). */
  private knownAfter: bigint | null = null;
  /** Per-document writes over all of `commits`. */
  private detailed = 0;
  /** How many of the oldest `commits` are kept per table. */
  private coarse = 0;

  constructor(
    private readonly now: () => number = () => performance.now(),
    /** At most this many commits are kept; 0 keeps none (a thread that never answers `changedSince`: the writer). */
    private readonly maxCommits = MAX_COMMITS,
    /** Past this many per-document writes the oldest commits are kept per table (see `MAX_DETAILED_WRITES`). */
    private readonly maxDetailedWrites = MAX_DETAILED_WRITES,
  ) {}

  /** Adds a commit (called in ts order). */
  add(commit: CommitSummary): void {
    const last = this.commits.at(-1)?.ts ?? this.knownAfter;
    if (commit.previousTs === undefined || last !== commit.previousTs) {
      this.commits.length = 0;
      this.detailed = 0;
      this.coarse = 0;
      this.knownAfter = commit.previousTs ?? commit.ts;
      if (commit.previousTs === undefined) return;
    }
    const at = this.now();
    const detailed = commit.writes.reduce((n, w) => (w.wholeTable === undefined ? n + 1 : n), 0);
    this.commits.push({ ts: commit.ts, at, writes: commit.writes, detailed });
    this.detailed += detailed;
    while (this.commits.length > this.maxCommits || (this.commits.length > 0 && at - this.commits[0]!.at > WINDOW_MS)) {
      const dropped = this.commits.shift()!;
      this.detailed -= dropped.detailed;
      this.knownAfter = dropped.ts;
      if (this.coarse > 0) this.coarse -= 1;
    }
    // Oldest first, so the commits a recent snapshot is compared against keep their detail.
    while (this.detailed > this.maxDetailedWrites && this.coarse < this.commits.length) {
      const kept = this.commits[this.coarse++]!;
      this.detailed -= kept.detailed;
      kept.detailed = 0;
      kept.writes = perTable(kept.writes);
    }
  }

  /**
   * Whether a commit in `(from, to]` wrote into `readSet`: false, true, or null when the
   * log does not reach back to `from` (too old, or commits the log never saw).
   */
  changedSince(from: bigint, to: bigint, readSet: ReadSet): boolean | null {
    if (from >= to) return false;
    if (this.knownAfter === null || from < this.knownAfter) return null;
    for (const commit of this.commits) {
      if (commit.ts <= from || commit.ts > to) continue;
      if (readSetIntersects(readSet, commit.writes)) return true;
    }
    return false;
  }
}

/**
 * A write set as one `wholeTable` entry per table written: it intersects every read of those
 * tables, so `changedSince` answers "changed" where the detail might have said otherwise (a
 * consistent query is refused, never answered wrongly).
 */
function perTable(writes: readonly DocumentWrite[]): DocumentWrite[] {
  const tables = new Map<string, number>();
  for (const w of writes) {
    if (!tables.has(w.table)) tables.set(w.table, w.wholeTable?.tableNumber ?? tableNumberOfId(w.id)!);
  }
  return [...tables].map(([table, tableNumber]) => ({ id: "", table, oldText: null, newText: null, keys: [], wholeTable: { tableNumber } }));
}
