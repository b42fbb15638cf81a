import type { PaginationResult } from "convex/server";

/** Pagination options as `usePaginatedQuery` sends them. */
export type PageOpts = { numItems: number; cursor: string | null };

/**
 * Follows a paginated query from the first page until `isDone`, as
 * `usePaginatedQuery` does, and returns every page. Backends differ in when
 * they report `isDone` (one may need a last, empty page), so only the loop
 * is portable. Stops with an error after `maxPages` to catch endless cursors.
 */
export async function allPages<T>(
  fetchPage: (opts: PageOpts) => Promise<PaginationResult<T>>,
  numItems: number,
  maxPages = 1_000,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | null = null;
  for (let i = 0; i < maxPages; i += 1) {
    const result: PaginationResult<T> = await fetchPage({ numItems, cursor });
    pages.push(result.page);
    if (result.isDone) return pages;
    cursor = result.continueCursor;
  }
  throw new Error(`pagination did not finish within ${maxPages} pages`);
}

/** Every item of a paginated query, in order. */
export async function allItems<T>(
  fetchPage: (opts: PageOpts) => Promise<PaginationResult<T>>,
  numItems = 10,
): Promise<T[]> {
  return (await allPages(fetchPage, numItems)).flat();
}
