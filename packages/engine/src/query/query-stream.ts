import type { IndexRow, Store } from "../store/store";
import { DEFAULT_FIRST_BATCH, MAX_BATCH, type IndexScanner } from "./index-scanner";
import { createOperatorPipeline, type OperatorPipeline } from "./operator-pipeline";
import { openPlanScanner } from "./plan-scanner";
import { planQuery, type QueryPlan } from "./query-plan";
import type { ReadSetRecorder } from "./read-set";
import type { SerializedQuery } from "./serialized-query";

/**
 * The stream behind `1.0/queryStream` / `queryStreamNext` / `queryCleanup`: documents in
 * index order after the operators, ending after a limit (the package does not enforce
 * `take(n)` itself). Documents come back as their stored text, untouched.
 */

/** An open query stream. */
export interface QueryStream {
  /** The next document's Convex JSON text, or null when the stream has ended. */
  next(): string | null;
  /** `next()`'s row itself (its text and the memo of its parse), or null when the stream has ended. */
  nextRow(): IndexRow | null;
  /** Ends the stream early; later `next()` calls return null. */
  close(): void;
  /**
   * Hands the row of every document left to `each`, in order, as that many `nextRow()`
   * calls would (the same reads, read set and order), then ends the stream, also when
   * `each` throws: for callers that close the stream anyway (`engine/queryTake`).
   */
  drain(each: (row: IndexRow) => void): void;
}

/**
 * Opens a stream. Planning errors (unknown index, bad range, malformed filter) are thrown
 * here; evaluation errors from `next()`. Reads are recorded into `recorder` as they happen.
 */
export function openQueryStream(store: Store, query: SerializedQuery, recorder: ReadSetRecorder): QueryStream {
  return new PlannedStream(store, planQuery(store, query), recorder);
}

/**
 * A stream of one plan. A class rather than an object literal of closures: one object per
 * stream instead of a context and four functions (a stream is opened for every `first()`).
 */
class PlannedStream implements QueryStream {
  // Made on the first `next()`: a one-batch `drain` needs neither it nor a scanner.
  private pipeline: OperatorPipeline | null = null;
  private scanner: IndexScanner | null = null;
  private ended = false;

  constructor(
    private readonly store: Store,
    private readonly plan: QueryPlan,
    private readonly recorder: ReadSetRecorder,
  ) {}

  next(): string | null {
    return this.nextRow()?.text ?? null;
  }

  nextRow(): IndexRow | null {
    if (this.ended) return null;
    const plan = this.plan;
    const pipeline = (this.pipeline ??= createOperatorPipeline(plan.operators));
    for (;;) {
      // Checked before reading, so `first()` never reads (or records) a second row.
      if (pipeline.closed()) break;
      this.scanner ??= openPlanScanner(this.store, plan, plan.range, this.recorder, plan.rowCap ?? DEFAULT_FIRST_BATCH);
      const row = this.scanner.next();
      if (row === null) break;
      if (pipeline.accept(row.text)) return row;
    }
    this.ended = true;
    return null;
  }

  close(): void {
    this.ended = true;
  }

  drain(each: (row: IndexRow) => void): void {
    if (!this.ended && this.scanner === null && readsOneBatch(this.plan)) {
      this.ended = true;
      drainOneBatch(this.store, this.plan, this.recorder, each);
      return;
    }
    try {
      for (let row = this.nextRow(); row !== null; row = this.nextRow()) each(row);
    } finally {
      this.ended = true;
    }
  }
}

/**
 * True when a fresh stream of `plan` reads all it will ever read with one index scan: no
 * filter, a leading limit that fits one batch (`take(n)`, so `first()` and `unique()`).
 * Its first `next()` would fetch exactly `rowCap` rows (`createIndexScanner`'s first batch)
 * and the limit would close it after them.
 */
function readsOneBatch(plan: QueryPlan): boolean {
  return plan.search === null && !plan.parsesDocuments && plan.rowCap !== null && plan.rowCap <= MAX_BATCH;
}

/**
 * What `next()` until null does for such a plan, without the scanner and pipeline that a
 * stream read one row at a time needs (this runs for every `first()` of a query run): the
 * scan is tracked before it reads, each row is tracked before `each` sees it, and a scan
 * that came back short reached the end of its range. A limit of 0 reads nothing.
 */
function drainOneBatch(store: Store, plan: QueryPlan, recorder: ReadSetRecorder, each: (row: IndexRow) => void): void {
  const cap = plan.rowCap!;
  if (cap === 0) return;
  const tracker = recorder.trackScan(plan.index.name, plan.range, plan.order);
  const rows = store.scan(plan.index.name, plan.range, plan.order, cap);
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i]!;
    tracker.advance(row);
    each(row);
  }
  if (rows.length < cap) tracker.finish();
}
