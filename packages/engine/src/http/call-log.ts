import type { CallRecord } from "../runtime/runtime.js";

/** A finished call as the admin API lists it: the record and its place in the log. */
export type LoggedCall = CallRecord & { seq: number };

/** The engine's recent function calls, for the dashboard's Logs. */
export interface CallLog {
  add(record: CallRecord): void;
  /** Calls after `seq` (all kept ones for 0), oldest first. */
  since(seq: number): LoggedCall[];
  /** The seq of the newest call (0 when none yet). */
  readonly latestSeq: number;
  /** Called after every added call; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/**
 * A ring buffer of the last `capacity` calls, each numbered, so a dashboard
 * fetches only what it has not seen (`since`) instead of the whole log on
 * every change. Runs on the engine's main thread, where calls are recorded.
 */
export function createCallLog(capacity: number): CallLog {
  // Records as they were added (call `seq` sits at `seq % capacity`); the numbered copies are
  // made when read. Every subscription re-run adds one on the main thread, a thousand per
  // commit in a fan-out, and each stays until a thousand later ones: a copy per call was an
  // object more for that thread's collections to promote.
  const ring: (CallRecord | undefined)[] = new Array(capacity);
  let latest = 0;
  const listeners = new Set<() => void>();
  return {
    add(record) {
      latest += 1;
      ring[latest % capacity] = record;
      for (const listener of listeners) listener();
    },
    since(seq) {
      const from = Math.max(seq + 1, latest - capacity + 1, 1);
      const out: LoggedCall[] = [];
      for (let s = from; s <= latest; s++) out.push({ ...ring[s % capacity]!, seq: s });
      return out;
    },
    get latestSeq() {
      return latest;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
