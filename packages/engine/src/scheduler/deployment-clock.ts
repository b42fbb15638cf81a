/**
 * The deployment's clock: wall time plus an offset that can only grow. The
 * store stamps `_creationTime` and commit ts with it, the scheduler decides
 * what is due by it, and (once it is ahead of the wall clock) user functions
 * see it as `Date.now()`. An operator's drain moves it forward to run jobs
 * due in the future, as a test deployment's clock would have moved (the app
 * harness's `drainScheduled()` contract). It never goes backwards, so
 * creation times, commit ts and scheduled times keep one order.
 */
export interface DeploymentClock {
  /** Milliseconds since the epoch as the deployment sees them. */
  now(): number;
  /** How far the deployment is ahead of the wall clock, in milliseconds (>= 0). */
  offsetMs(): number;
  /**
   * Moves the clock forward so that `now() >= ms`; a no-op when it already
   * is. Returns the new offset.
   */
  advanceTo(ms: number): number;
  /** Restores a persisted offset at start; ignored unless it moves the clock forward. */
  restore(offsetMs: number): void;
  /** Called with the new offset whenever the clock is moved forward. */
  onAdvance(listener: (offsetMs: number) => void): void;
}

/** A deployment clock over `wall` (ms since the epoch; must not be the patched `Date.now`). */
export function createDeploymentClock(wall: () => number): DeploymentClock {
  let offset = 0;
  const listeners: ((offsetMs: number) => void)[] = [];
  const setOffset = (next: number) => {
    if (!(next > offset) || !Number.isFinite(next)) return;
    offset = next;
    for (const listener of listeners) listener(offset);
  };
  return {
    now: () => wall() + offset,
    offsetMs: () => offset,
    advanceTo(ms) {
      setOffset(ms - wall());
      return offset;
    },
    restore: (offsetMs) => setOffset(offsetMs),
    onAdvance: (listener) => void listeners.push(listener),
  };
}
