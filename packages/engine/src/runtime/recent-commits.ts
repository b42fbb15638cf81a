import { readSetIntersects, type ReadSet } from "../query/read-set.js";
import type { CommitSummary } from "./runtime-database.js";

/** How long, and how many, commits are kept for `changedSince` (Convex keeps snapshots readable for about that long). */
const WINDOW_MS = 30_000;
const MAX_COMMITS = 4_096;

/**
 * The write sets of the latest commits, in ts order, so a result read at a later snapshot
 * can stand in for an older one (main thread): a query's result at `ts` equals its result
 * at `S > ts` exactly when no commit in `(ts, S]` wrote into what it read at `S` (the
 * rule that re-runs subscriptions, applied backwards). The log knows only an unbroken run
 * of commits: one that does not follow the last logged (a schema push, a write outside
 * the runtime) starts it afresh.
 */
export class RecentCommits {
  private readonly commits: { ts: bigint; at: number; writes: CommitSummary["writes"] }[] = [];
  /** Every commit after this ts is in the log (null: nothing known yet). */
  private knownAfter: bigint | null = null;

  constructor(
    private readonly now: () => number = () => performance.now(),
    /** At most this many commits are kept; 0 keeps none (a thread that never answers `changedSince`: the writer). */
    private readonly maxCommits = MAX_COMMITS,
  ) {}

  /** Adds a commit (called in ts order). */
  add(commit: CommitSummary): void {
    const last = this.commits.at(-1)?.ts ?? this.knownAfter;
    if (commit.previousTs === undefined || last !== commit.previousTs) {
      this.commits.length = 0;
      this.knownAfter = commit.previousTs ?? commit.ts;
      if (commit.previousTs === undefined) return;
    }
    const at = this.now();
    this.commits.push({ ts: commit.ts, at, writes: commit.writes });
    while (this.commits.length > this.maxCommits || (this.commits.length > 0 && at - this.commits[0]!.at > WINDOW_MS)) {
      this.knownAfter = this.commits.shift()!.ts;
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
