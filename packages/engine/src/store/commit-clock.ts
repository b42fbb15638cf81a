import { EngineError } from "../errors";

/**
 * The two clocks of the store. Commit ts: nanoseconds, strictly increasing across commits
 * and restarts, kept below 2^63 because the client's u64 comparison misbehaves above it.
 * `_creationTime`: milliseconds as a double, strictly increasing across inserts, taking the
 * next representable double when the wall clock has not moved (as the backend does).
 */

/** The largest commit ts handed out (2^63 - 1). */
const MAX_COMMIT_TS = (1n << 63n) - 1n;

/** The next commit ts: `max(now in ns, last + 1)`. Throws fatally past `MAX_COMMIT_TS`. */
export function nextCommitTs(nowMs: number, last: bigint): bigint {
  // Microsecond rounding first: a double of ms cannot carry nanoseconds exactly anyway.
  const nowNs = BigInt(Math.round(nowMs * 1000)) * 1000n;
  const ts = nowNs > last ? nowNs : last + 1n;
  if (ts > MAX_COMMIT_TS) {
    throw new EngineError("ClockExhausted", "The commit clock reached 2^63 - 1 ns; no further commit is possible.", "fatal");
  }
  return ts;
}

/** The next `_creationTime`: `now` if it is later than `last`, else the double just above `last`. */
export function nextCreationTime(nowMs: number, last: number): number {
  return nowMs > last ? nowMs : nextUp(last);
}

/** Scratch space of `nextUp` (it runs for every insert within one millisecond of the last). */
const view = new DataView(new ArrayBuffer(8));

/** The smallest double greater than `x` (for finite non-negative `x`). */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  view.setFloat64(0, x);
  view.setBigUint64(0, view.getBigUint64(0) + 1n);
  return view.getFloat64(0);
}
