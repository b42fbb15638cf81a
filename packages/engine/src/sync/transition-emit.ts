import type { RoundStats } from "./round-stats.js";
import type { RoundTarget } from "./round-target.js";
import type { TransitionEncoder } from "./transition-frames.js";

/**
 * Builds and sends a connection's Transition if it may have one now: at the
 * latest ts inside the validity of every one of its results
 * (`ConnectionView.transitionTs`), when the connection takes one
 * (`RoundTarget.readyFor`), and when the client would learn something (or a
 * mutation waits for it). Returns false when no Transition was due (some
 * result missing, no common ts, or the connection not ready); true once it
 * was decided, whether or not one went out. Runs on the sync server's thread.
 */
export function emitTransition(target: RoundTarget, latestTs: bigint, encoder: TransitionEncoder, stats: RoundStats): boolean {
  const view = target.view;
  const ts = view.transitionTs(latestTs);
  if (ts === null || !target.readyFor(ts)) return false;
  const owed = target.owedTs;
  const plan = view.planTransition(ts, owed !== null && owed <= ts);
  if (plan !== null) {
    target.deliverTransition(encoder.encode(plan), ts);
    view.markSent(plan);
    stats.transitionsSent += 1;
    if (view.mixesSnapshots()) stats.mixedSnapshotTransitions += 1;
  }
  return true;
}
