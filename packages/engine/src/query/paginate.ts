import { EngineError } from "../errors";
import { compareKeys, keyAfter } from "../values/index-key-codec";
import type { IndexRow, KeyRange, Store } from "../store/store";
import { DEFAULT_FIRST_BATCH } from "./index-scanner";
import { createOperatorPipeline } from "./operator-pipeline";
import { decodeCursor, encodeCursor, queryFingerprint, type CursorPosition } from "./pagination-cursor";
import { openPlanScanner } from "./plan-scanner";
import { planQuery, type QueryPlan } from "./query-plan";
import type { ReadSetRecorder } from "./read-set";
import type { SerializedQuery } from "./serialized-query";

/**
 * `1.0/queryPage` with the backend's semantics (docs/convex-interface.md §4.4): pages start
 * strictly after the cursor; with an end cursor (given, or remembered from the previous
 * execution of the same subscription) a page covers everything up to and including it,
 * whatever the page size, so a re-run page grows or shrinks instead of shifting; `isDone`
 * only when the range is exhausted; `continueCursor` is never null.
 */

/** Above this many documents a page is marked `SplitRecommended` (75% of 8192). */
const SOFT_MAX_PAGE_LENGTH = 6144;

/** The pagination arguments of `1.0/queryPage`. */
export interface PaginateOptions {
  cursor: string | null;
  endCursor: string | null;
  /** The end cursor this subscription's previous execution returned; used when `endCursor` is null. */
  previousEndCursor?: string | null;
  pageSize: number;
  maximumRowsRead?: number | null;
  maximumBytesRead?: number | null;
}

/** The answer of `1.0/queryPage`; `page` holds the documents' stored text. */
export interface PageResult {
  page: string[];
  isDone: boolean;
  /** Also the end cursor to remember for the next execution of this subscription. */
  continueCursor: string;
  splitCursor: string | null;
  pageStatus: "SplitRecommended" | "SplitRequired" | null;
}

/** Reads one page of `query`, recording the keys it covered into `recorder`. */
export function paginateQuery(
  store: Store,
  query: SerializedQuery,
  options: PaginateOptions,
  recorder: ReadSetRecorder,
): PageResult {
  const { pageSize, maximumRowsRead = null, maximumBytesRead = null } = options;
  if (typeof pageSize !== "number" || !(pageSize > 0)) {
    throw new EngineError("NoDocumentsForPagination", "Must request at least 1 document while paginating");
  }
  if (!Number.isInteger(pageSize)) {
    throw new EngineError("InvalidPageSize", `The page size must be a whole number, not ${pageSize}`);
  }
  if (maximumRowsRead === 0 || maximumBytesRead === 0) {
    throw new EngineError("InvalidPaginationLimit", "maximumRowsRead and maximumBytesRead must be greater than 0");
  }
  const plan = planQuery(store, query);
  const fingerprint = queryFingerprint(plan);
  const start: CursorPosition = options.cursor === null ? { kind: "start" } : decodeCursor(fingerprint, options.cursor);
  const endCursor = options.endCursor ?? options.previousEndCursor ?? null;
  const end = endCursor === null ? null : decodeCursor(fingerprint, endCursor);
  const encode = (position: CursorPosition) => encodeCursor(fingerprint, position);

  if (start.kind === "end") {
    return { page: [], isDone: true, continueCursor: encode({ kind: "end" }), splitCursor: null, pageStatus: null };
  }
  const range = narrow(plan, start, end);
  const scanner = openPlanScanner(
    store,
    plan,
    range,
    recorder,
    // With filters or an end cursor the number of rows needed is unknown: start with at least a page.
    end !== null || plan.parsesDocuments ? Math.max(DEFAULT_FIRST_BATCH, pageSize) : Math.min(pageSize, plan.rowCap ?? pageSize),
  );
  const pipeline = createOperatorPipeline(plan.operators);
  const page: string[] = [];
  const pageRows: IndexRow[] = [];
  let rowsRead = 0;
  let bytesRead = 0;
  let lastRow: IndexRow | null = null;
  let exhausted = false;
  let pageStatus: PageResult["pageStatus"] = null;

  for (;;) {
    if ((end === null && page.length >= pageSize) || pipeline.closed()) break;
    if ((maximumRowsRead !== null && rowsRead >= maximumRowsRead) || (maximumBytesRead !== null && bytesRead >= maximumBytesRead)) {
      pageStatus = "SplitRequired";
      break;
    }
    const row = scanner.next();
    if (row === null) {
      exhausted = true;
      break;
    }
    rowsRead++;
    bytesRead += row.text.length;
    lastRow = row;
    if (pipeline.accept(row.text)) {
      page.push(row.text);
      pageRows.push(row);
    }
  }

  let continueCursor: string;
  if (end !== null) continueCursor = endCursor!;
  else if (exhausted) continueCursor = encode({ kind: "end" });
  else if (lastRow !== null) continueCursor = encode({ kind: "after", key: lastRow.key });
  else continueCursor = encode(start);

  if (pageStatus === null && page.length > SOFT_MAX_PAGE_LENGTH) pageStatus = "SplitRecommended";
  // A search is not split (the backend offers no split cursor for it: it would not be cheaper).
  const splitCursor =
    pageStatus !== null && page.length > 0 && plan.search === null
      ? encode({ kind: "after", key: pageRows[Math.floor((page.length - 1) / 2)].key })
      : null;
  const isDone = end !== null ? end.kind === "end" : exhausted;
  return { page, isDone, continueCursor, splitCursor, pageStatus };
}

/** The query's range cut to what lies strictly after `start` and up to `end` inclusive. */
function narrow(plan: QueryPlan, start: CursorPosition, end: CursorPosition | null): KeyRange {
  let { lo, hi } = plan.range;
  const raiseLo = (key: Uint8Array) => {
    if (compareKeys(key, lo) > 0) lo = key;
  };
  const lowerHi = (key: Uint8Array) => {
    if (hi === null || compareKeys(key, hi) < 0) hi = key;
  };
  // "After" means later in scan order: above the key ascending, below it descending.
  if (start.kind === "after") {
    if (plan.order === "asc") raiseLo(keyAfter(start.key));
    else lowerHi(start.key);
  }
  if (end !== null && end.kind === "after") {
    if (plan.order === "asc") lowerHi(keyAfter(end.key));
    else raiseLo(end.key);
  }
  return { lo, hi };
}
