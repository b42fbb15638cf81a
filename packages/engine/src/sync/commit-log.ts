import type { CommitSummary } from "../runtime/runtime-database.js";
import type { DocumentWrite } from "../store/write-set.js";

/**
 * Recent commits, for checking subscription results computed at an older
 * snapshot than the latest commit (runs overlap commits: they read whatever
 * snapshot the executor gives them).
 *
 * A run is registered when it is dispatched, with the latest commit
 * announced then (its *floor*: the executor reads at or after it). Commits
 * are kept while some run in flight may have read before them; `horizon` is
 * the ts at or below which commits are gone. A result whose snapshot is at or
 * above the horizon is checked exactly; an older one (an executor that read
 * a snapshot from before its dispatch) can only be trusted at its own ts.
 * Runs on the sync server's thread.
 */
export class CommitLog {
  /** Commits after `horizon`, in ts order, with writes. */
  private commits: { ts: bigint; writes: readonly DocumentWrite[] }[] = [];
  private horizon: bigint;
  private latest: bigint;
  /** Run id → the latest commit announced when it was dispatched. */
  private readonly floors = new Map<number, bigint>();
  private nextRunId = 0;

  constructor(latestTs: bigint) {
    this.latest = latestTs;
    this.horizon = latestTs;
  }

  /** The latest commit announced. */
  get latestTs(): bigint {
    return this.latest;
  }

  /** True while some run is in flight. */
  get running(): boolean {
    return this.floors.size > 0;
  }

  /** A commit was announced (in ts order). */
  append(commit: CommitSummary): void {
    if (commit.ts > this.latest) this.latest = commit.ts;
    // With no run in flight, no result can predate it: nothing to keep.
    if (this.floors.size === 0) this.horizon = this.latest;
    else if (commit.writes.length > 0) this.commits.push({ ts: commit.ts, writes: commit.writes });
  }

  /** A run was dispatched; returns its id for `finished`. */
  started(): number {
    const id = this.nextRunId++;
    this.floors.set(id, this.latest);
    return id;
  }

  /** A run answered; drops commits no run still in flight can need. */
  finished(id: number): void {
    this.floors.delete(id);
    let floor = this.latest;
    for (const ts of this.floors.values()) if (ts < floor) floor = ts;
    if (floor <= this.horizon) return;
    this.horizon = floor;
    let keep = 0;
    while (keep < this.commits.length && this.commits[keep]!.ts <= floor) keep += 1;
    if (keep > 0) this.commits = this.commits.slice(keep);
  }

  /**
   * The first commit after `ts` whose writes `reads` says the result read (where a
   * result computed at `ts` stops being valid), or null when none has so far.
   */
  firstConflict(ts: bigint, reads: (writes: readonly DocumentWrite[]) => boolean): bigint | null {
    if (ts < this.horizon) return ts + 1n;
    for (const commit of this.commits) {
      if (commit.ts > ts && reads(commit.writes)) return commit.ts;
    }
    return null;
  }
}
