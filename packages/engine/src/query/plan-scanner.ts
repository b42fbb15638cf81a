import type { KeyRange, Store } from "../store/store";
import { createIndexScanner, type IndexScanner } from "./index-scanner";
import type { QueryPlan } from "./query-plan";
import type { ReadSetRecorder } from "./read-set";
import { createTextSearchScanner } from "./text-search";

/**
 * The rows of a plan within `range`, in plan order: an index scan, or the results of a text
 * search. Each records what it reads into `recorder`. `firstBatch` sizes an index scan's
 * first fetch (a search fetches its candidates at once).
 */
export function openPlanScanner(store: Store, plan: QueryPlan, range: KeyRange, recorder: ReadSetRecorder, firstBatch: number): IndexScanner {
  if (plan.search !== null) return createTextSearchScanner(store, plan.search, range, recorder);
  return createIndexScanner(store, plan.index.name, range, plan.order, recorder.trackScan(plan.index.name, range, plan.order), firstBatch);
}
