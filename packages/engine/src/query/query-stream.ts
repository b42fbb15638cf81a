import type { Store } from "../store/store";
import { DEFAULT_FIRST_BATCH, type IndexScanner } from "./index-scanner";
import { createOperatorPipeline } from "./operator-pipeline";
import { openPlanScanner } from "./plan-scanner";
import { planQuery } from "./query-plan";
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
  /** Ends the stream early; later `next()` calls return null. */
  close(): void;
}

/**
 * Opens a stream. Planning errors (unknown index, bad range, malformed filter) are thrown
 * here; evaluation errors from `next()`. Reads are recorded into `recorder` as they happen.
 */
export function openQueryStream(store: Store, query: SerializedQuery, recorder: ReadSetRecorder): QueryStream {
  const plan = planQuery(store, query);
  const pipeline = createOperatorPipeline(plan.operators);
  let scanner: IndexScanner | null = null;
  let ended = false;

  return {
    next() {
      if (ended) return null;
      for (;;) {
        // Checked before reading, so `first()` never reads (or records) a second row.
        if (pipeline.closed()) break;
        scanner ??= openPlanScanner(store, plan, plan.range, recorder, plan.rowCap ?? DEFAULT_FIRST_BATCH);
        const row = scanner.next();
        if (row === null) break;
        if (pipeline.accept(row.text)) return row.text;
      }
      ended = true;
      return null;
    },
    close() {
      ended = true;
    },
  };
}
