import type { JSONValue } from "convex/values";
import type { TransactionState } from "./execution-context.js";
import type { CallOutcome } from "./function-outcome.js";
import type { CommitSummary, RuntimeDatabase } from "./runtime-database.js";
import type { SerialLock } from "./serial-lock.js";

/**
 * Group commit (design.md §4): mutations waiting for the executor run back to
 * back in ONE SQLite transaction, each isolated by a savepoint, and the batch
 * ends with one COMMIT, i.e. at most one fsync. Nothing is answered before that
 * commit is durable, so "acknowledged ⇒ durable" holds for every mutation: on
 * this thread the COMMIT itself syncs (`synchronous=FULL`); on the writer
 * thread the main thread syncs the WAL after it (`writer/wal-sync.ts`) while
 * the writer runs the next batch (`MutationBatcher.pipeline`).
 *
 * - A mutation that fails is rolled back to its savepoint, alone; the others
 *   in the batch commit. (The first one needs no savepoint: with nothing
 *   before it, its failure rolls back the whole transaction.)
 * - Order is arrival order, so one client's mutations keep their order.
 * - Every mutation of a batch gets the batch's commit ts; subscribers see the
 *   batch as one commit.
 * - Exactly-once: a request whose idempotency key is stored answers its
 *   stored result; a second copy of a key inside the same batch answers the
 *   first copy's result once the batch commits.
 * - Batches are bounded in count and time so queued queries are not starved:
 *   a batch takes what was queued when it started (up to MAX_BATCH_SIZE) and
 *   what arrives while it is younger than MAX_BATCH_MS.
 */

/** Most mutations in one batch. */
const MAX_BATCH_SIZE = 256;
/** A batch stops taking mutations that arrived after it started once it has run this long (ms). */
const MAX_BATCH_MS = 10;

/** One mutation waiting for a batch. */
export interface QueuedMutation {
  /** Runs the mutation in the open transaction; never throws (failures are outcomes). */
  run(tx: TransactionState): Promise<CallOutcome>;
  idempotencyKey?: { sessionId: string; requestId: number };
  /** Log lines of this call (an error outcome of the batch commit carries them). */
  logLines: string[];
  resolve(outcome: CallOutcome): void;
}

/** What running a batch needs from the runtime that owns the write connection. */
export interface MutationBatchHost {
  readonly db: RuntimeDatabase;
  newTx(): TransactionState;
  /** After a commit: after-commit effects of the given transactions, subscribers, scheduler wake-up. */
  committed(commit: CommitSummary, txs: readonly TransactionState[]): void;
  /** The outcome clients see for an error that is not the function's own (a failed commit). */
  errorOutcome(e: unknown, logLines: string[]): CallOutcome;
  /** Errors of the engine itself. */
  logInternal(e: unknown): void;
}

interface Ran {
  item: QueuedMutation;
  outcome: CallOutcome;
  tx: TransactionState | null;
  /** Set when this request repeats an earlier one of the same batch: its outcome is that one's. */
  sameAs: Ran | null;
}

/**
 * Runs a batch elsewhere (the writer worker): the items in order, in one transaction,
 * resolving each once the commit is durable. `executed` resolves when the writer can take
 * the next batch, `done` when every item has its answer.
 */
export type RemoteBatchRunner = (items: QueuedMutation[], alone: boolean) => { executed: Promise<void>; done: Promise<void> };

/** How long mutations waited in the queue before their batch started, summed (the benchmark reads it). */
export interface QueueStats {
  dispatched: number;
  waitedMs: number;
}

/**
 * Queues mutations and runs them in group-committed batches under the executor lock:
 * on this thread (`host`), or handed whole to `remote` (the writer worker), which gets
 * what was queued when the batch started (arrivals meanwhile form the next batch).
 */
export class MutationBatcher {
  private readonly queue: QueuedMutation[] = [];
  /** When each queued mutation arrived (parallel to `queue`). */
  private readonly arrivals: number[] = [];
  private scheduled = false;
  /** Wakes a pipeline waiting for its batches' answers when a mutation arrives. */
  private arrived: (() => void) | null = null;
  readonly queueStats: QueueStats = { dispatched: 0, waitedMs: 0 };

  constructor(
    private readonly lock: SerialLock,
    private readonly host: MutationBatchHost,
    private readonly remote: () => RemoteBatchRunner | null = () => null,
  ) {}

  /** Runs a mutation in the next batch; resolves once its batch is durable (or it failed). */
  submit(item: Omit<QueuedMutation, "resolve">): Promise<CallOutcome> {
    return new Promise((resolve) => {
      this.queue.push({ ...item, resolve });
      this.arrivals.push(performance.now());
      this.arrived?.();
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // One event-loop turn first: requests that arrived in the same I/O phase
    // are parsed and queued by then and join this batch instead of each
    // paying its own fsync.
    setImmediate(() => {
      void this.lock.run(async () => {
        const remote = this.remote();
        if (remote === null) await runMutationBatch(this.host, this.takeInline());
        else await this.pipeline(remote);
        this.scheduled = false;
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  /**
   * Sends what is queued to the writer as one batch and, each time the writer has run
   * one, what queued meanwhile as the next, while earlier batches are made durable and
   * answered (mutations that arrive while those wait are sent too); returns once every
   * batch sent is answered. The caller holds the lock until then, so commits are
   * announced in ts order; the chain ends as soon as someone else waits for the lock, so
   * engine writes on the main connection (scheduler, storage, admin) are not held up.
   */
  private async pipeline(remote: RemoteBatchRunner): Promise<void> {
    // Batches sent whose answers are not all given yet: a count, not a list of their
    // promises, so a chain that runs for minutes under steady load holds nothing per batch.
    let pending = 0;
    let failure = null as { error: unknown } | null;
    let allAnswered: (() => void) | null = null;
    const settled = () => {
      pending -= 1;
      if (pending === 0) allAnswered?.();
    };
    for (;;) {
      if (this.queue.length > 0 && this.lock.queueLength === 0) {
        const items = this.take(MAX_BATCH_SIZE);
        // A lone mutation with no other batch awaiting its answers: nothing would share its sync.
        const { executed, done } = remote(items, items.length === 1 && pending === 0);
        pending += 1;
        done.then(settled, (error: unknown) => {
          failure ??= { error };
          settled();
        });
        await executed;
        continue;
      }
      const everyAnswer = pending === 0 ? Promise.resolve(true as const) : new Promise<true>((resolve) => (allAnswered = () => resolve(true)));
      let finished = true;
      if (this.lock.queueLength > 0) await everyAnswer;
      else {
        const arrival = new Promise<false>((resolve) => (this.arrived = () => resolve(false)));
        finished = await Promise.race([everyAnswer, arrival]);
        this.arrived = null;
      }
      if (finished) {
        if (failure !== null) throw failure.error;
        return;
      }
      // One event-loop turn, as for a new batch: requests of the same I/O phase join it.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** The first `count` queued mutations (their queue wait counted). */
  private take(count: number): QueuedMutation[] {
    const now = performance.now();
    for (const at of this.arrivals.splice(0, count)) this.queueStats.waitedMs += now - at;
    const items = this.queue.splice(0, count);
    this.queueStats.dispatched += items.length;
    return items;
  }

  /**
   * Everything queued when the batch starts runs in it (up to the size bound); later
   * arrivals join only while the batch is young, so queued queries are not held up long.
   */
  private takeInline(): () => QueuedMutation | undefined {
    const started = performance.now();
    const waiting = this.queue.length;
    let taken = 0;
    return () => {
      if (this.queue.length === 0 || taken >= MAX_BATCH_SIZE) return undefined;
      if (taken >= waiting && performance.now() - started >= MAX_BATCH_MS) return undefined;
      taken += 1;
      return this.take(1)[0];
    };
  }
}

/**
 * Runs one group-committed batch on the host's write connection (the caller holds the
 * lock): mutations from `next()` until it returns undefined, then one COMMIT; answers
 * every item it took.
 */
export async function runMutationBatch(host: MutationBatchHost, next: () => QueuedMutation | undefined): Promise<void> {
  const ran: Ran[] = [];
  let commit: CommitSummary | null = null;
  try {
    commit = await runAndCommit(host, next, ran);
  } catch (e) {
    // A store operation or the commit failed: nothing of the batch is durable.
    if (host.db.inTransaction) host.db.rollback();
    for (const r of ran) {
      const durable = r.outcome.status === "success" && r.outcome.ts !== undefined;
      if (r.outcome === NOT_RUN || r.sameAs !== null || (r.outcome.status === "success" && !durable)) {
        r.outcome = host.errorOutcome(e, r.item.logLines);
        r.sameAs = null;
      }
    }
  }
  if (commit !== null) {
    try {
      host.committed(commit, ran.filter((r) => r.tx !== null).map((r) => r.tx!));
    } catch (e) {
      host.logInternal(e);
    }
  }
  for (const r of ran) r.item.resolve(answer(r, commit));
}

/**
 * Runs mutations from `next()` until it has none, then commits. Every mutation taken is
 * in `ran` (even when this throws), so each gets an answer. Null when nothing was left to
 * commit.
 */
async function runAndCommit(host: MutationBatchHost, next: () => QueuedMutation | undefined, ran: Ran[]): Promise<CommitSummary | null> {
  const { db } = host;
  const byKey = new Map<string, Ran>();
  let open = false;
  /** Mutations of the open transaction that succeeded: a later failure needs a savepoint to keep them. */
  let kept = 0;
  for (let item = next(); item !== undefined; item = next()) {
    const key = item.idempotencyKey;
    const keyText = key === undefined ? null : `${key.requestId}:${key.sessionId}`;
    const entry: Ran = { item, outcome: NOT_RUN, tx: null, sameAs: null };
    ran.push(entry);
    if (key !== undefined) {
      const stored = db.storedMutationResult(key.sessionId, key.requestId);
      if (stored !== null) {
        // Committed by an earlier batch, hence durable.
        entry.outcome = { status: "success", value: JSON.parse(stored.result) as JSONValue, valueText: stored.result, logLines: [], ts: stored.ts };
        continue;
      }
      const earlier = byKey.get(keyText!);
      if (earlier !== undefined) {
        entry.sameAs = earlier;
        continue;
      }
    }
    if (!open) {
      db.begin();
      open = true;
      kept = 0;
    }
    const savepoint = kept > 0 ? db.savepoint() : null;
    const tx = host.newTx();
    try {
      entry.outcome = await item.run(tx);
    } catch (e) {
      entry.outcome = host.errorOutcome(e, item.logLines);
    }
    if (entry.outcome.status === "success") {
      if (key !== undefined) {
        db.recordMutationResult(key.sessionId, key.requestId, entry.outcome.valueText ?? JSON.stringify(entry.outcome.value));
      }
      if (savepoint !== null) db.release(savepoint);
      kept += 1;
      entry.tx = tx;
      if (keyText !== null) byKey.set(keyText, entry);
    } else if (savepoint !== null) {
      db.rollbackTo(savepoint);
    } else {
      db.rollback();
      open = false;
    }
  }
  return open ? db.commit() : null;
}

const NOT_RUN: CallOutcome = { status: "error", errorMessage: "The mutation did not run.", logLines: [] };

/** What one queued request is answered: its outcome (or its twin's), stamped with the commit ts. */
function answer(r: Ran, commit: CommitSummary | null): CallOutcome {
  const outcome = r.sameAs === null ? r.outcome : { ...r.sameAs.outcome, logLines: [] };
  if (outcome.status !== "success" || outcome.ts !== undefined) return outcome;
  // A success without a ts ran in this batch; it exists only if the batch committed.
  return commit === null ? NOT_RUN : { ...outcome, ts: commit.ts };
}
