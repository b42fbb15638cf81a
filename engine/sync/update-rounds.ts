import type { Runtime } from "../runtime/runtime.js";
import type { CommitSummary } from "../runtime/runtime-database.js";
import type { DocumentWrite } from "../store/store.js";
import type { ConnectionQuery, ConnectionView } from "./connection-view.js";
import { encodeResult, type StateVersion } from "./server-message.js";
import { SubscriptionRegistry, type Subscription } from "./subscription-registry.js";

/**
 * Update rounds: the one place where subscriptions run and Transitions are
 * built (convex-interface.md §5.6, "an update").
 *
 * A round holds the executor lock from start to end, so every result it
 * produces, and every result it reuses, is valid at one snapshot: the latest
 * commit ts when it took the lock. Commits, query-set changes and identity
 * changes only queue work and ask for a round; whatever piles up while a
 * round runs (a burst of likes, say) is handled by the next one together.
 * Within a round a connection gets its Transition as soon as the
 * subscriptions it watches have run, so the first subscribers hear of a
 * change before the last subscription has been re-executed.
 */

/** A connection as rounds see it. */
export interface RoundTarget {
  readonly view: ConnectionView;
  readonly closed: boolean;
  /** A successful mutation's commit ts that no Transition sent after its response covers yet. */
  readonly owedTs: bigint | null;
  /** Sends (or holds) a Transition built by the round. */
  deliverTransition(start: StateVersion, end: StateVersion, modifications: string[]): void;
}

/** Counters for tests and benchmarks. */
export interface RoundStats {
  rounds: number;
  /** Subscription executions, total and per canonical function path. */
  queryRuns: number;
  queryRunsByPath: Map<string, number>;
  /** Where the last round's time went (ms), for benchmarks. */
  lastRound: RoundTiming | null;
}

/** Time spent in one update round, by phase. */
export interface RoundTiming {
  /** Waiting for the executor lock after the round was due. */
  lockWaitMs: number;
  /** Executing subscriptions (the function, its reads, result encoding). */
  executeMs: number;
  /** Building Transitions and handing them to the sockets. */
  emitMs: number;
  /** Yields to I/O in between, so early Transitions leave. */
  yieldMs: number;
  /** From taking the lock to the end of the round. */
  totalMs: number;
  subscriptionsRun: number;
  transitionsSent: number;
}

/** What rounds need from the engine. */
export interface UpdateRoundsDeps {
  runtime: Pick<Runtime, "lock" | "runQueryLocked">;
  /** The latest commit ts: the snapshot of a round. */
  lastCommitTs: () => bigint;
  logInternal: (e: unknown) => void;
  /** Monotonic ms clock. */
  now: () => number;
  /** Yield to I/O after this much continuous query execution, so finished Transitions leave (ms). */
  yieldEveryMs?: number;
}

/** Schedules and runs update rounds for every connection of a sync server. */
export class UpdateRounds {
  readonly registry = new SubscriptionRegistry<ConnectionQuery>();
  readonly stats: RoundStats = { rounds: 0, queryRuns: 0, queryRunsByPath: new Map(), lastRound: null };
  private timing: RoundTiming = emptyTiming();
  private readonly targets = new Map<ConnectionView, RoundTarget>();
  private touched = new Set<RoundTarget>();
  private detached: RoundTarget[] = [];
  private commits: (readonly DocumentWrite[])[] = [];
  private scheduled = false;
  private running: Promise<void> | null = null;
  private again = false;

  constructor(private readonly deps: UpdateRoundsDeps) {}

  /** Starts serving a connection. */
  attach(target: RoundTarget): void {
    this.targets.set(target.view, target);
  }

  /** Stops serving a connection; its subscriptions are released at the next round. */
  detach(target: RoundTarget): void {
    this.detached.push(target);
    this.request();
  }

  /** A connection has queued changes or owes a Transition. */
  touch(target: RoundTarget): void {
    this.touched.add(target);
    this.request();
  }

  /** A commit happened (called inside the executor lock, before it is released). */
  onCommit(commit: CommitSummary): void {
    if (commit.writes.length === 0) return;
    this.commits.push(commit.writes);
    this.request();
  }

  /** Re-runs every subscription (new code was loaded). */
  invalidateAll(): void {
    this.registry.invalidateAll();
    this.request();
  }

  /** Resolves once no round runs or is due. */
  async idle(): Promise<void> {
    while (this.running !== null || this.scheduled) {
      await (this.running ?? new Promise((resolve) => setImmediate(resolve)));
    }
  }

  private request(): void {
    if (this.running !== null) {
      this.again = true;
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    // One macrotask of delay lets a burst of messages and commits join one round.
    setImmediate(() => {
      this.scheduled = false;
      const due = this.deps.now();
      this.running = this.deps.runtime.lock
        .run(() => this.round(due))
        .catch((e) => this.deps.logInternal(e))
        .finally(() => {
          this.running = null;
          if (this.again) {
            this.again = false;
            this.request();
          }
        });
    });
  }

  private async round(due: number): Promise<void> {
    this.stats.rounds += 1;
    const started = this.deps.now();
    this.timing = emptyTiming();
    this.timing.lockWaitMs = started - due;
    const ts = this.deps.lastCommitTs();
    for (const target of this.detached) {
      target.view.detachAll(this.registry);
      this.targets.delete(target.view);
      this.touched.delete(target);
    }
    this.detached = [];
    for (const writes of this.commits) this.registry.invalidate(writes);
    this.commits = [];
    const touched = this.touched;
    this.touched = new Set();
    for (const target of touched) if (!target.closed) target.view.applyPending(this.registry);

    const toRun = this.registry.takeDirty();
    const waiting = new Map<ConnectionView, number>();
    for (const sub of toRun) {
      for (const query of sub.watchers) waiting.set(query.view, (waiting.get(query.view) ?? 0) + 1);
    }
    for (const target of touched) if (!waiting.has(target.view)) this.emit(target, ts);

    const yieldEvery = this.deps.yieldEveryMs ?? 8;
    let sliceStart = this.deps.now();
    for (const sub of toRun) {
      const runStart = this.deps.now();
      await this.run(sub);
      const runEnd = this.deps.now();
      this.timing.executeMs += runEnd - runStart;
      for (const query of sub.watchers) {
        const left = waiting.get(query.view)! - 1;
        if (left > 0) {
          waiting.set(query.view, left);
          continue;
        }
        waiting.delete(query.view);
        const target = this.targets.get(query.view);
        if (target !== undefined) this.emit(target, ts);
      }
      const emitEnd = this.deps.now();
      this.timing.emitMs += emitEnd - runEnd;
      if (emitEnd - sliceStart >= yieldEvery) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = this.deps.now();
        this.timing.yieldMs += sliceStart - emitEnd;
      }
    }
    this.timing.subscriptionsRun = toRun.length;
    this.timing.totalMs = this.deps.now() - started;
    this.stats.lastRound = this.timing;
  }

  private emit(target: RoundTarget, ts: bigint): void {
    if (target.closed) return;
    const owed = target.owedTs;
    const transition = target.view.buildTransition(ts, owed !== null && owed <= ts);
    if (transition === null) return;
    target.deliverTransition(transition.start, transition.end, transition.modifications);
    target.view.markSent(transition.end);
    this.timing.transitionsSent += 1;
  }

  private async run(sub: Subscription<ConnectionQuery>): Promise<void> {
    const { spec } = sub;
    this.stats.queryRuns += 1;
    this.stats.queryRunsByPath.set(spec.udfPath, (this.stats.queryRunsByPath.get(spec.udfPath) ?? 0) + 1);
    try {
      const { outcome, reads, journal } = await this.deps.runtime.runQueryLocked({
        path: spec.udfPath,
        args: spec.args,
        identity: spec.identity,
        allowInternal: spec.admin,
        origin: "client",
        journal: sub.journal,
      });
      // A failed run keeps the old end cursor, so a retry after the error covers the same range.
      const nextJournal = outcome.status === "success" ? journal : (journal ?? sub.journal);
      this.registry.recordRun(sub, encodeResult(outcome, nextJournal), nextJournal, reads.readSet());
    } catch (e) {
      this.deps.logInternal(e);
      const outcome = { status: "error" as const, errorMessage: "Server error while running the query", logLines: [] };
      // Nothing was recorded as read: run again on the next commit of any kind.
      this.registry.recordRun(sub, encodeResult(outcome, sub.journal), sub.journal, { intervals: [], ids: [] });
      this.registry.invalidateAll();
    }
  }
}

function emptyTiming(): RoundTiming {
  return { lockWaitMs: 0, executeMs: 0, emitMs: 0, yieldMs: 0, totalMs: 0, subscriptionsRun: 0, transitionsSent: 0 };
}
