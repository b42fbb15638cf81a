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

/**
 * A worker's outcome as the runtime reports it. A success's value that came as UTF-8 bytes
 * stays bytes (`valueBytes`, a view into the answer's buffer: `packed-answer.ts`); its text
 * (`valueText`) is decoded and its value (`value`) parsed only if someone reads them (the
 * sync layer and HTTP responses never do).
 */
export function fromWire(wire: WireOutcome): CallOutcome {
  if (wire.status === "error") return wire;
  return lazyValue({ status: "success", valueText: wire.valueText, logLines: wire.logLines } as Success);
}

/** A success whose value arrived as UTF-8 bytes (a packed answer). */
export function postedSuccess(valueBytes: Buffer, logLines: string[]): CallOutcome {
  const outcome = { status: "success", valueBytes, logLines } as Success;
  return lazyValue(Object.defineProperty(outcome, "valueText", LAZY_TEXT));
}

type Success = CallOutcome & { status: "success" };

/** Shared accessors (no closure per outcome): each replaces itself with a plain property once used. */
const LAZY_TEXT: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Success) {
    return settle(this, "valueText", this.valueBytes!.toString("utf8"));
  },
  set(this: Success, text: string) {
    settle(this, "valueText", text);
  },
};
const LAZY_VALUE: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Success) {
    return settle(this, "value", JSON.parse(this.valueText!) as unknown);
  },
  set(this: Success, value: unknown) {
    settle(this, "value", value);
  },
};

function lazyValue(outcome: Success): Success {
  return Object.defineProperty(outcome, "value", LAZY_VALUE);
}

function settle<T>(outcome: Success, key: "value" | "valueText", value: T): T {
  Object.defineProperty(outcome, key, { value, writable: true, enumerable: true, configurable: true });
  return value;
}

/** Jobs a pool's workers answered, and their caches' whole drops summed over them. */
export class PoolCounters {
  jobs = 0;
  readonly cacheDrops: CacheDrops = { unannounced: 0, gap: 0 };

  /** A worker answered a job with its drops so far (`before`: its previous report); returns its report to keep. */
  answered(before: CacheDrops, now: CacheDrops | undefined): CacheDrops {
    return now === undefined ? this.answeredWith(before, before.unannounced, before.gap) : this.answeredWith(before, now.unannounced, now.gap);
  }

  /** `answered` with the drops as numbers (a packed answer): a new report object only when they changed. */
  answeredWith(before: CacheDrops, unannounced: number, gap: number): CacheDrops {
    this.jobs += 1;
    if (unannounced === before.unannounced && gap === before.gap) return before;
    this.cacheDrops.unannounced += unannounced - before.unannounced;
    this.cacheDrops.gap += gap - before.gap;
    return { unannounced, gap };
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
