import type { ReadSet } from "../query/read-set.js";
import type { SnapshotQueryResult } from "../runtime/runtime.js";
import { encodeResult, type EncodedResult } from "./server-message.js";
import type { RecordedRun, Subscription } from "./subscription-registry.js";

const EMPTY_READ_SET: ReadSet = { intervals: [], ids: [] };

/**
 * A finished run as the registry keeps it: the result encoded once for every watcher,
 * and the journal the next run starts from. A failed run keeps the old end cursor, so a
 * retry after the error covers the same range. Runs on the sync server's thread.
 */
export function recordedRun(sub: Subscription, run: SnapshotQueryResult, validTo: bigint | null, logInternal: (e: unknown) => void): RecordedRun {
  const { outcome } = run;
  const journal = outcome.status === "success" ? run.journal : (run.journal ?? sub.journal);
  let result: EncodedResult;
  try {
    result = encodeResult(outcome, journal);
  } catch (e) {
    logInternal(e);
    result = serverError(sub.journal);
  }
  return { result, journal, readSet: run.readSet, ts: run.ts, validTo };
}

/**
 * A run the engine failed (not the function: `runTracked` reports those as outcomes).
 * The query fails for its subscribers until it is subscribed again or new code is loaded.
 */
export function failedRun(sub: Subscription, latestTs: bigint): RecordedRun {
  return { result: serverError(sub.journal), journal: sub.journal, readSet: EMPTY_READ_SET, ts: latestTs, validTo: null };
}

function serverError(journal: string | null): EncodedResult {
  return encodeResult({ status: "error", errorMessage: "Server error while running the query", logLines: [] }, journal);
}
