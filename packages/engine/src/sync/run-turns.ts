import type { ConnectionQuery, ConnectionView } from "./connection-view.js";
import type { Subscription } from "./subscription-registry.js";

/**
 * The fairness queue of update rounds: connections whose subscriptions went
 * stale wait here for runs and are served round-robin, one run per turn. A
 * socket with two thousand subscriptions gets one run in every round of
 * turns, like a viewer with one, so it never delays others by more than a
 * turn. A subscription shared by many connections runs once, on the first of
 * their turns (`ConnectionView.nextToRun` skips it for the others). Runs on
 * the sync server's thread.
 */
export class RunTurns {
  /** Connections waiting for a run, in turn order (a Set keeps insertion order; each at most once). */
  private readonly waiting = new Set<ConnectionView>();

  /** Connections waiting. */
  get size(): number {
    return this.waiting.size;
  }

  /** Queues a stale subscription for each connection that holds it. */
  queueRun(sub: Subscription<ConnectionQuery>): void {
    for (const watcher of sub.watchers) {
      watcher.view.runQueue.add(sub);
      this.waiting.add(watcher.view);
    }
  }

  /** A connection has runs queued (its own query-set changes): it takes a turn. */
  add(view: ConnectionView): void {
    this.waiting.add(view);
  }

  /** A connection closed. */
  delete(view: ConnectionView): void {
    this.waiting.delete(view);
  }

  /**
   * Starts runs, one per connection per turn, while `room()` says more may be in flight;
   * connections for which `attached` says no are dropped.
   */
  take(room: () => boolean, attached: (view: ConnectionView) => boolean, start: (sub: Subscription<ConnectionQuery>) => void): void {
    // Deleting and re-adding moves a connection to the back: the next turn is someone else's.
    for (const view of this.waiting) {
      if (!room()) break;
      this.waiting.delete(view);
      if (!attached(view)) continue;
      const sub = view.nextToRun();
      if (sub !== null) start(sub);
      if (view.runQueue.size > 0) this.waiting.add(view);
    }
  }
}
