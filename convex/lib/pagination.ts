import type { PaginationOptions, PaginationResult } from "convex/server";
import { MAX_PAGE_SIZE } from "./limits";

/**
 * Bounds a client's page request: at least one item (the backend rejects 0)
 * and at most MAX_PAGE_SIZE, so no request can read without limit. The
 * cursors pass through untouched, which keeps `usePaginatedQuery` working.
 */
export function boundedPage(opts: PaginationOptions): PaginationOptions {
  const requested = Number.isFinite(opts.numItems) ? Math.floor(opts.numItems) : MAX_PAGE_SIZE;
  return { ...opts, numItems: Math.min(Math.max(requested, 1), MAX_PAGE_SIZE) };
}

/**
 * Replaces a page's rows with their joined form, dropping rows whose
 * counterpart is gone (a deleted post or author whose clean-up is still
 * running), so lists never show dangling entries. Cursors are kept, so the
 * next page continues where the raw page ended.
 */
export async function mapPage<T, U>(
  result: PaginationResult<T>,
  join: (row: T) => Promise<U | null>,
): Promise<PaginationResult<U>> {
  const joined: (U | null)[] = await Promise.all(result.page.map(join));
  return {
    page: joined.filter((item): item is U => item !== null),
    isDone: result.isDone,
    continueCursor: result.continueCursor,
    splitCursor: result.splitCursor ?? null,
    pageStatus: result.pageStatus ?? null,
  };
}

/**
 * A finished, empty page: what a list the caller may not see (a private
 * account's followers, say) answers, indistinguishable from an empty list.
 */
export function emptyPage<U>(): PaginationResult<U> {
  return { page: [], isDone: true, continueCursor: "", splitCursor: null, pageStatus: null };
}
