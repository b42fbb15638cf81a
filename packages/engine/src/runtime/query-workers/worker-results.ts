import { EngineError } from "../../errors.js";
import type { ReadSet } from "../../query/read-set.js";
import type { CallOutcome } from "../function-outcome.js";
import { UNPINNED_TS, type CacheDrops, type WireOutcome } from "./worker-protocol.js";

// What the query pool answers a job with (runs on the main thread): a worker's result, or the
// pool's own failure when no worker could run it.

/** A query's result from a worker: its outcome, the snapshot it read and what it read. */
export interface WorkerQueryResult {
  outcome: CallOutcome;
  /** Commit ts of the snapshot the query read. */
  ts: bigint;
  journal: string | null;
  /** Null unless the job asked for it. */
  readSet: ReadSet | null;
}

/** A worker's outcome as the runtime reports it; the value is parsed only if someone reads it. */
export function fromWire(wire: WireOutcome): CallOutcome {
  if (wire.status === "error") return wire;
  const text = wire.valueText;
  const outcome = { status: "success", valueText: text, logLines: wire.logLines } as CallOutcome & { status: "success" };
  Object.defineProperty(outcome, "value", {
    configurable: true,
    enumerable: true,
    get() {
      const value: unknown = JSON.parse(text);
      Object.defineProperty(outcome, "value", { value, writable: true, enumerable: true, configurable: true });
      return value;
    },
    set(value: unknown) {
      Object.defineProperty(outcome, "value", { value, writable: true, enumerable: true, configurable: true });
    },
  });
  return outcome;
}


/** Jobs a pool's workers answered, and their caches' whole drops summed over them. */
export class PoolCounters {
  jobs = 0;
  readonly cacheDrops: CacheDrops = { unannounced: 0, gap: 0 };

  /** A worker answered a job with its drops so far (`before`: its previous report); returns its report to keep. */
  answered(before: CacheDrops, now: CacheDrops | undefined): CacheDrops {
    this.jobs += 1;
    if (now === undefined) return before;
    this.cacheDrops.unannounced += now.unannounced - before.unannounced;
    this.cacheDrops.gap += now.gap - before.gap;
    return now;
  }
}

/** The answer for a job whose pinned snapshot went with its worker. */
export function unpinnedResult(): WorkerQueryResult {
  return { outcome: { status: "error", errorMessage: "snapshot not pinned", logLines: [] }, ts: UNPINNED_TS, journal: null, readSet: null };
}

export function failure(message: string, logLines: string[], code = "QueryExecutorUnavailable"): WorkerQueryResult {
  const error = new EngineError(code, message, "transient");
  return { outcome: { status: "error", errorMessage: error.message, logLines }, ts: 0n, journal: null, readSet: null };
}
