import { performance } from "node:perf_hooks";
import type { CommitSummary } from "../runtime/runtime-database.js";
import type { Runtime, SnapshotQueryResult } from "../runtime/runtime.js";
import { CommitLog } from "./commit-log.js";
import type { ConnectionQuery, ConnectionView } from "./connection-view.js";
import { EmitSlices } from "./emit-slices.js";
import { countUnshown, emptyRoundStats, type RoundStats } from "./round-stats.js";
import type { RoundTarget } from "./round-target.js";
import { RunTurns } from "./run-turns.js";
import { SubscriptionRegistry, type Subscription } from "./subscription-registry.js";
import { failedRun, recordedRun } from "./subscription-runner.js";
import { emitTransition } from "./transition-emit.js";
import { TransitionEncoder } from "./transition-frames.js";

export type { RoundStats } from "./round-stats.js";
export type { RoundTarget } from "./round-target.js";
/**
 * Update rounds: the one place where subscriptions run and Transitions are
 * built (convex-interface.md §5.6, "an update").
 *
 * Everything here runs on the sync server's thread and never holds the
 * executor's lock. Subscriptions run through `Runtime.runTracked`, which
 * reads some snapshot, may overlap other runs and commits (on query workers,
 * in parallel), and says which snapshot (`ts`) it read. The invariant that
 * still keeps each Transition at one snapshot: a result is valid from its
 * `ts` until the first later commit that writes into its read set. Commits
 * are announced (`onCommit`) in ts order, and every commit at or below a
 * result's `ts` before that result arrives; so a result is checked, when it
 * arrives, against the commits announced after its snapshot (a log of recent
 * write sets, kept only as far back as the oldest run in flight could need),
 * and later commits end its validity as they are announced. A connection is
 * sent a Transition at a ts inside the validity of every one of its results
 * (`ConnectionView.transitionTs`): the latest commit when all are current.
 *
 * Fairness: a connection whose subscriptions went stale queues for runs
 * (`run-turns.ts`, round-robin, one run per turn), with a bounded number of
 * runs in flight. A subscription shared by many connections runs once, and
 * every holder is answered, in bounded slices (`emit-slices.ts`).
 *
 * Failure of one subscription or connection stays with it: a run that throws
 * fails that query (QueryFailed) and a connection whose bookkeeping throws is
 * closed, while every other connection keeps its updates.
 */

/** What rounds need from the engine. */
export interface UpdateRoundsDeps {
  runtime: Pick<Runtime, "runTracked">;
  /** The latest commit ts when the server starts (later ones arrive through `onCommit`). */
  lastCommitTs: () => bigint;
  logInternal: (e: unknown) => void;
  /** Most subscription runs in flight at once. */
  maxRunsInFlight: number;
}

/** Schedules subscription runs and Transitions for every connection of a sync server. */
export class UpdateRounds {
  readonly registry = new SubscriptionRegistry<ConnectionQuery>();
  readonly stats: RoundStats = emptyRoundStats();
  readonly encoder = new TransitionEncoder();
  private readonly targets = new Map<ConnectionView, RoundTarget>();
  private touched = new Set<RoundTarget>();
  private detached: RoundTarget[] = [];
  /** Connections owed a Transition for a mutation whose commit was not yet covered. */
  private readonly owing = new Set<RoundTarget>();
  private readonly turns = new RunTurns();
  /** Runs on an executor now (bounded by `maxRunsInFlight`), and runs whose results have not arrived (also those waiting for a sync). */
  private inFlight = 0;
  private unanswered = 0;
  /** Commits recent enough to matter to a run in flight, and the latest announced one. */
  private readonly commits: CommitLog;
  private scheduled = false;
  private pumpScheduled = false;
  private idleWaiters: (() => void)[] = [];
  /** Connections that may have a Transition due, served in bounded slices (one encoding per distinct Transition across them). */
  private readonly emits = new EmitSlices((target) => this.tryEmit(target), () => this.encoder.clear(), () => this.settle());

  constructor(private readonly deps: UpdateRoundsDeps) {
    this.commits = new CommitLog(deps.lastCommitTs());
  }

  /** Starts serving a connection. */
  attach(target: RoundTarget): void {
    this.targets.set(target.view, target);
  }

  /** Stops serving a connection; its subscriptions are released at the next round. */
  detach(target: RoundTarget): void {
    this.detached.push(target);
    this.schedule();
  }

  /** A connection has queued changes, owes a Transition, or may take one again. */
  touch(target: RoundTarget): void {
    this.touched.add(target);
    this.schedule();
  }

  /** Sends the connection its Transition now if every result it needs is there (a mutation's response just went out). */
  emitNow(target: RoundTarget): void {
    this.tryEmit(target);
    this.encoder.clear();
    if (target.owedTs !== null) this.touch(target);
  }

  /**
   * A commit happened. Announced in ts order, before any run that read a
   * snapshot at or after it returns (the `runTracked` contract), possibly
   * from inside the executor: this only records and marks, the rest waits
   * for the next round.
   */
  onCommit(commit: CommitSummary): void {
    if (this.commits.running) this.stats.commitsDuringRuns += 1;
    this.commits.append(commit);
    if (commit.writes.length > 0) {
      for (const sub of this.registry.invalidate(commit.writes, commit.ts)) if (!sub.running) this.turns.queueRun(sub);
    }
    this.schedule();
  }

  /** Re-runs every subscription (new code was loaded); results keep showing until the new ones are in. */
  invalidateAll(): void {
    for (const sub of this.registry.invalidateAll(this.commits.latestTs)) if (!sub.running) this.turns.queueRun(sub);
    this.schedule();
  }

  /** Resolves once no round is due, no run is in flight and none waits to be dispatched. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return !this.scheduled && !this.pumpScheduled && this.unanswered === 0 && this.turns.size === 0 && !this.emits.busy;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // One macrotask of delay lets a burst of messages and commits join one round.
    setImmediate(() => {
      this.scheduled = false;
      try {
        this.round();
      } catch (e) {
        this.deps.logInternal(e);
      }
      this.settle();
    });
  }

  /** Applies queued connection changes, answers who can be answered, dispatches runs. */
  private round(): void {
    this.stats.rounds += 1;
    for (const target of this.detached) {
      target.view.detachAll(this.registry);
      this.targets.delete(target.view);
      this.touched.delete(target);
      this.owing.delete(target);
      this.turns.delete(target.view);
      this.emits.delete(target);
    }
    this.detached = [];
    const touched = [...this.touched, ...this.owing];
    this.touched = new Set();
    for (const target of touched) {
      if (target.closed || !this.targets.has(target.view)) continue;
      try {
        target.view.applyPending(this.registry);
        if (target.view.runQueue.size > 0) this.turns.add(target.view);
      } catch (e) {
        this.deps.logInternal(e);
        target.abort(e);
        continue;
      }
      this.emits.add(target);
    }
    this.emits.run();
    this.pump();
  }

  private settle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Dispatches runs, one per connection per turn, up to the in-flight bound. */
  private pump(): void {
    this.turns.take(
      () => this.inFlight < this.deps.maxRunsInFlight,
      (view) => this.targets.has(view),
      (sub) => this.start(sub),
    );
  }

  private start(sub: Subscription<ConnectionQuery>): void {
    const { spec } = sub;
    sub.running = true;
    this.inFlight += 1;
    this.unanswered += 1;
    if (this.inFlight > this.stats.maxInFlight) this.stats.maxInFlight = this.inFlight;
    // The executor is free once it has run the query; the result may then still wait for the
    // WAL sync of a commit it read (pipelined durability), and the next runs go on meanwhile.
    let executing = true;
    const executed = () => {
      if (!executing) return;
      executing = false;
      this.inFlight -= 1;
      this.schedulePump();
    };
    const runId = this.commits.started();
    const epoch = sub.epoch;
    const startedAt = performance.now();
    this.stats.queryRuns += 1;
    this.stats.queryRunsByPath.set(spec.udfPath, (this.stats.queryRunsByPath.get(spec.udfPath) ?? 0) + 1);
    // One reaction for either outcome, no catch/finally links (a fan-out makes a thousand).
    const answered = (result: SnapshotQueryResult | null, error: unknown) => {
      try {
        if (result !== null) this.arrived(sub, epoch, result);
        else this.failed(sub, error);
      } catch (e) {
        this.deps.logInternal(e);
      }
      this.stats.runMs += performance.now() - startedAt;
      this.commits.finished(runId);
      this.unanswered -= 1;
      executed();
      this.schedulePump();
    };
    const request = { path: spec.udfPath, args: spec.args, identity: spec.identity, allowInternal: spec.admin, origin: "client" as const, journal: sub.journal, executed };
    this.deps.runtime.runTracked(request).then((result) => answered(result, null), (e: unknown) => answered(null, e));
  }

  /** Dispatches the next runs from a macrotask of their own (an executor answering within microtasks would chain them all). */
  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
      this.settle();
    });
  }

  private arrived(sub: Subscription<ConnectionQuery>, epoch: number, run: SnapshotQueryResult): void {
    sub.running = false;
    if (!sub.live) return;
    if (sub.epoch !== epoch) {
      // New code arrived while this ran on the old one.
      this.turns.queueRun(sub);
      return;
    }
    countUnshown(this.stats, sub);
    this.registry.recordRun(sub, recordedRun(sub, run, null, this.deps.logInternal));
    // The commits announced since its snapshot, against its read set as just indexed.
    const validTo = this.commits.firstConflict(run.ts, (writes) => this.registry.reads(sub, writes));
    if (validTo !== null) [sub.validTo, sub.dirty] = [validTo, true];
    if (sub.dirty) {
      this.stats.staleResults += 1;
      this.turns.queueRun(sub);
    }
    this.answerWatchers(sub);
  }

  /** `runTracked` reports the function's own errors as outcomes; this is an engine fault. */
  private failed(sub: Subscription<ConnectionQuery>, e: unknown): void {
    this.deps.logInternal(e);
    sub.running = false;
    if (!sub.live) return;
    // The query fails for its subscribers until it is subscribed again or new code is loaded.
    this.registry.recordRun(sub, failedRun(sub, this.commits.latestTs));
    this.answerWatchers(sub);
  }

  private answerWatchers(sub: Subscription<ConnectionQuery>): void {
    for (const watcher of sub.watchers) {
      const target = this.targets.get(watcher.view);
      if (target !== undefined) this.emits.add(target);
    }
    this.emits.run();
  }

  /** Builds and sends the connection's Transition if it may have one now. */
  private tryEmit(target: RoundTarget): void {
    if (target.closed) return;
    const started = performance.now();
    try {
      if (!emitTransition(target, this.commits.latestTs, this.encoder, this.stats)) return;
      if (target.owedTs !== null) this.owing.add(target);
      else this.owing.delete(target);
    } catch (e) {
      this.deps.logInternal(e);
      target.abort(e);
    } finally {
      this.stats.emitMs += performance.now() - started;
    }
  }
}
