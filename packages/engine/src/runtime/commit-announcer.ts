import type { TransactionState } from "./execution.js";
import type { QueryCache } from "./query-cache.js";
import type { RecentCommits } from "./recent-commits.js";
import type { CommitSummary, RuntimeDatabase } from "./runtime-database.js";
import type { RuntimeOptions } from "./runtime-types.js";
import type { BlobService } from "./services.js";
import type { WriterCommit } from "./writer/writer-types.js";

/** Who else hears of commits: the query workers, and the other connection that writes the file. */
export interface CommitFollowers {
  queryWorkers(commit: CommitSummary): void;
  /** A commit of this runtime's own connection, for the writer thread's connection. */
  otherConnection(commit: CommitSummary): void;
}

/**
 * Commit announcement on the runtime's thread (the main thread, for the engine): every commit
 * — this connection's own (engine writes, mutations run here) and the writer thread's as its
 * messages arrive — is told, in ts order, to the query cache, the recent write sets, the
 * scheduler, `onCommit` (the real-time layer), the query workers and the other connection;
 * then callers waiting for a ts to be announced go on.
 *
 * The query workers hear of a writer commit earlier, as soon as the writer reports it
 * (`writerWrote`), while its WAL sync still runs: their caches follow what their read
 * connections see, and those see a commit as soon as it is made. Told only at the
 * announcement, a worker that began a snapshot during the sync found it newer than the last
 * commit it heard of and dropped all its caches. The ts order holds: the mutation batcher
 * keeps the runtime's lock until its commits are durable and announced, so no commit of this
 * connection comes between.
 */
export class CommitAnnouncer {
  /** Callers waiting until a commit ts has been announced here (worker results read at a later snapshot). */
  private waiters: { ts: bigint; resolve(): void }[] = [];

  constructor(
    private readonly db: RuntimeDatabase,
    private readonly queryCache: QueryCache | null,
    private readonly recentCommits: RecentCommits,
    private readonly blobs: BlobService | null,
    private readonly options: RuntimeOptions,
    private readonly followers: CommitFollowers,
  ) {}

  /** After a commit of these transactions on this thread: their after-commit effects, then the announcement. */
  committed(commit: CommitSummary, txs: readonly TransactionState[]): void {
    let touchedScheduler = false;
    for (const tx of txs) {
      touchedScheduler ||= tx.touchedScheduler;
      for (const effect of tx.afterCommit) {
        try {
          effect();
        } catch (e) {
          this.options.logInternal?.(e);
        }
      }
    }
    this.announce(commit, touchedScheduler, true);
  }

  /**
   * A commit of the writer thread (in ts order, before the answers that depend on it):
   * this thread's connection learns of it, then everyone who listens to commits here.
   */
  writerCommitted(commit: WriterCommit): void {
    const ids: string[] = [];
    const writes = commit.writes.map((w) => {
      ids.push(w.id);
      // Keys crossed the thread boundary as plain Uint8Arrays; readers of write sets use Buffer methods.
      return { ...w, keys: w.keys.map((k) => ({ index: k.index, oldKey: asBuffer(k.oldKey), newKey: asBuffer(k.newKey) })) };
    });
    this.db.observeCommit(commit.ts, commit.previousTs, ids);
    for (const id of commit.deletedBlobs) {
      try {
        this.blobs?.deleteBlob(id);
      } catch (e) {
        this.options.logInternal?.(e);
      }
    }
    this.announce({ ts: commit.ts, previousTs: commit.previousTs, writes }, commit.touchedScheduler, false);
  }

  /** A commit of the writer as soon as it reports it, before it is durable: only the query workers' caches hear of it now. */
  writerWrote(commit: WriterCommit): void {
    this.followers.queryWorkers(commit);
  }

  /** Resolves once every commit up to `ts` has been announced on this thread; null when it already was. */
  announced(ts: bigint): Promise<void> | null {
    if (ts <= this.db.latestTs()) return null;
    return new Promise((resolve) => this.waiters.push({ ts, resolve }));
  }

  /** Lets every waiter go (the runtime is closing). */
  close(): void {
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  /** Tells everyone on this thread who follows commits, in ts order. */
  private announce(commit: CommitSummary, touchedScheduler: boolean, ownConnection: boolean): void {
    // Before anyone hears of the commit: a client that saw its mutation succeed must not get a stale cached query.
    this.queryCache?.invalidate(commit.writes);
    this.recentCommits.add(commit);
    // The scheduler only sets a timer here; before onCommit so a writer thread can report both together.
    if (touchedScheduler) this.options.onSchedulerChange?.();
    this.options.onCommit?.(commit);
    // The writer's commits reached the query workers when it reported them (`writerWrote`).
    if (ownConnection) {
      this.followers.queryWorkers(commit);
      this.followers.otherConnection(commit);
    }
    if (this.waiters.length > 0) {
      const ready = this.waiters.filter((w) => w.ts <= commit.ts);
      this.waiters = this.waiters.filter((w) => w.ts > commit.ts);
      for (const waiter of ready) waiter.resolve();
    }
  }
}

function asBuffer(key: Uint8Array | null): Buffer | null {
  return key === null || Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
}
