import type { ConnectionQuery } from "./connection-view.js";
import type { Subscription } from "./subscription-registry.js";
import { sameEncodedResult } from "./server-message.js";

/** Counters for tests and benchmarks. */
export interface RoundStats {
  /** Batches of queued connection changes processed. */
  rounds: number;
  /** Subscription executions, total and per canonical function path. */
  queryRuns: number;
  queryRunsByPath: Map<string, number>;
  /** Results that arrived already invalidated by a commit after their snapshot, and ran again. */
  staleResults: number;
  /** Results replaced by the next run's before any connection was sent them: runs nobody saw. */
  unshownResults: number;
  /** Commits announced while at least one run was in flight. */
  commitsDuringRuns: number;
  /** Transitions whose results were computed at different snapshots (all valid at the Transition's ts). */
  mixedSnapshotTransitions: number;
  /** The most runs in flight at once. */
  maxInFlight: number;
  /** Wall time from dispatching runs to their results, summed (ms). */
  runMs: number;
  /** Time spent building and handing Transitions to sockets (ms). */
  emitMs: number;
  transitionsSent: number;
}

/** Counters before the first round. */
export function emptyRoundStats(): RoundStats {
  return {
    rounds: 0,
    queryRuns: 0,
    queryRunsByPath: new Map(),
    staleResults: 0,
    unshownResults: 0,
    commitsDuringRuns: 0,
    mixedSnapshotTransitions: 0,
    maxInFlight: 0,
    runMs: 0,
    emitMs: 0,
    transitionsSent: 0,
  };
}

/** A new result is about to replace `sub`'s: counts the old one if no connection was ever sent it. */
export function countUnshown(stats: RoundStats, sub: Subscription<ConnectionQuery>): void {
  const shown = sub.result;
  if (shown === null || sub.watchers.size === 0) return;
  // Equal bodies: the client has it (an unchanged result is not sent again).
  for (const watcher of sub.watchers) if (watcher.sentResult !== null && sameEncodedResult(shown, watcher.sentResult)) return;
  stats.unshownResults += 1;
}
