import type { Runtime } from "../runtime/runtime.js";
import type { CommitSummary } from "../runtime/runtime-database.js";
import type { DocumentWrite } from "../store/store.js";
import type { ConnectionQuery, ConnectionView } from "./connection-view.js";
import { emptyTiming, type RoundStats, type RoundTiming } from "./round-stats.js";
import type { StateVersion } from "./server-message.js";
import { SubscriptionRegistry } from "./subscription-registry.js";
import { runSubscription } from "./subscription-runner.js";

export type { RoundStats, RoundTiming } from "./round-stats.js";

/**
 * Update rounds: the one place where subscriptions run and Transitions are
 * built (convex-interface.md §5.6, "an update").
 *
 * Commits, query-set changes and identity changes only queue work and ask
 * for a round; whatever piles up meanwhile (a burst of likes, say) is
 * handled together. A round works in slices: each slice takes the executor
 * lock, reads the latest commit ts, marks what the commits since the last
 * slice invalidated, and runs stale subscriptions for a few milliseconds
 * before letting queued mutations in. The invariant that keeps every
 * Transition at one snapshot: a subscription's result stays valid from the
 * snapshot it ran at until a commit writes into its read set (then it is
 * dirty), so a connection whose subscriptions are all clean can be sent a
 * Transition at the current slice's snapshot, whichever slice ran them.
 * Connections get their Transition as soon as their own subscriptions are
 * clean, so the first subscribers hear of a change before the last
 * subscription has been re-executed.
 */

/** A connection as rounds see it. */
export interface RoundTarget {
  readonly view: ConnectionView;
  readonly closed: boolean;
  /** A successful mutation's commit ts that no Transition sent after its response covers yet. */
  readonly owedTs: bigint | null;
  /** True while the client is not reading fast enough: its next Transition waits (and absorbs later changes). */
  readonly backlogged: boolean;
  /** Calls `callback` once the backlog has drained (or the connection closed). */
  whenDrained(callback: () => void): void;
  /** Sends (or holds) a Transition built by the round. */
  deliverTransition(start: StateVersion, end: StateVersion, modifications: string[]): void;
}

/** What rounds need from the engine. */
export interface UpdateRoundsDeps {
  runtime: Pick<Runtime, "lock" | "runQueryLocked">;
  /** The latest commit ts: the snapshot of a round. */
  lastCommitTs: () => bigint;
  logInternal: (e: unknown) => void;
  /** Monotonic ms clock. */
  now: () => number;
  /** How long one slice may hold the executor lock running subscriptions (ms). */
  sliceMs?: number;
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
  /** Connections with stale subscriptions, in the order they went stale (a place is skipped once its connection was answered). */
  private queue: ConnectionView[] = [];
  /** The connections in `queue` still waiting for their Transition. */
  private readonly queued = new Set<ConnectionView>();
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
      this.again = false;
      this.running = this.round()
        .catch((e) => this.deps.logInternal(e))
        .finally(() => {
          this.running = null;
          if (this.again) this.request();
        });
    });
  }

  private async round(): Promise<void> {
    this.stats.rounds += 1;
    const due = this.deps.now();
    this.timing = emptyTiming();
    for (;;) {
      const asked = this.deps.now();
      const more = await this.deps.runtime.lock.run(async () => {
        this.timing.lockWaitMs += this.deps.now() - asked;
        this.timing.slices += 1;
        return this.slice();
      });
      // Work that arrived during the slice (commits, new queries) joins this round.
      if (!more && !this.again) break;
      this.again = false;
      // A macrotask turn lets requests parse and queue for the lock ahead of the next slice.
      await new Promise((resolve) => setImmediate(resolve));
    }
    this.timing.totalMs = this.deps.now() - due;
    this.stats.lastRound = this.timing;
  }

  /** One turn under the lock; true when connections are left whose subscriptions must run. */
  private async slice(): Promise<boolean> {
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
    for (const sub of this.registry.takeDirty()) {
      for (const query of sub.watchers) this.enqueue(query.view);
    }
    const emitted = new Set<ConnectionView>();
    const emit = (view: ConnectionView) => {
      const target = this.targets.get(view);
      if (target === undefined || emitted.has(view)) return;
      emitted.add(view);
      // Answered at this snapshot: a place it still holds in the queue has nothing left to run.
      this.queued.delete(view);
      this.emit(target, ts);
    };
    // Connections that changed but wait for no query can be answered now; the others queue
    // (also when they joined a subscription that is already waiting to run for someone else).
    for (const target of touched) {
      if (isClean(target.view)) emit(target.view);
      else this.enqueue(target.view);
    }

    // A connection's stale subscriptions all run in the same slice, so under a steady stream
    // of commits every connection still reaches a state where all of them are clean.
    const deadline = this.deps.now() + (this.deps.sliceMs ?? 8);
    let next = 0;
    while (next < this.queue.length) {
      const view = this.queue[next++]!;
      if (!this.queued.delete(view) || !this.targets.has(view)) continue;
      for (const query of view.queries.values()) {
        const sub = query.sub;
        if (!sub.dirty) continue;
        const runStart = this.deps.now();
        await runSubscription(this.deps, this.registry, this.stats, sub);
        const runEnd = this.deps.now();
        this.timing.executeMs += runEnd - runStart;
        this.timing.subscriptionsRun += 1;
        // Everyone else holding this subscription may be complete now.
        for (const watcher of sub.watchers) if (watcher.view !== view && isClean(watcher.view)) emit(watcher.view);
        this.timing.emitMs += this.deps.now() - runEnd;
      }
      const emitStart = this.deps.now();
      emit(view);
      this.timing.emitMs += this.deps.now() - emitStart;
      if (this.deps.now() >= deadline) break;
    }
    // Only places left whose connection was not answered meanwhile still count.
    this.queue = this.queued.size > 0 ? this.queue.slice(next) : [];
    return this.queue.length > 0;
  }

  private enqueue(view: ConnectionView): void {
    if (this.queued.has(view)) return;
    this.queued.add(view);
    this.queue.push(view);
  }

  private emit(target: RoundTarget, ts: bigint): void {
    if (target.closed) return;
    if (target.backlogged) {
      // A Transition is a diff from what was sent: skipping one loses nothing, the next covers both.
      target.whenDrained(() => this.touch(target));
      return;
    }
    const owed = target.owedTs;
    const transition = target.view.buildTransition(ts, owed !== null && owed <= ts);
    if (transition === null) return;
    target.deliverTransition(transition.start, transition.end, transition.modifications);
    target.view.markSent(transition.end);
    this.timing.transitionsSent += 1;
  }
}

/** True when every subscription of the connection holds a result valid at the current snapshot. */
function isClean(view: ConnectionView): boolean {
  for (const query of view.queries.values()) if (query.sub.dirty) return false;
  return true;
}
