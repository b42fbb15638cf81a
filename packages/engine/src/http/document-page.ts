import type { IndexRow, Store } from "../store/store.js";
import { keyAfter, MIN_KEY } from "../values/index-key-codec.js";

/** Which page of a table to read: after `cursor` (the last key seen, base64url), in `order`. */
export interface PageRequest {
  cursor: string | null;
  order: "asc" | "desc";
  limit: number;
}

/** A page of index rows and the cursor of the next page (null on the last one). */
export interface RowPage {
  rows: IndexRow[];
  nextCursor: string | null;
}

/** Reads `?cursor=&order=asc|desc&limit=` with the limit clamped to 1..1000. */
export function pageRequestFrom(url: URL, defaultLimit: number, defaultOrder: "asc" | "desc" = "asc"): PageRequest {
  const order = url.searchParams.get("order");
  const limit = Number(url.searchParams.get("limit") ?? defaultLimit) || defaultLimit;
  return {
    cursor: url.searchParams.get("cursor") || null,
    order: order === "asc" || order === "desc" ? order : defaultOrder,
    limit: Math.min(Math.max(Math.trunc(limit), 1), 1000),
  };
}

/**
 * A page of `table` in creation order. The cursor is an index key, not an
 * offset, so a page stays gapless while documents are inserted or deleted
 * elsewhere in the table. The caller holds the runtime lock.
 */
export function readDocumentPage(store: Store, table: string, page: PageRequest): RowPage {
  let lo: Uint8Array = MIN_KEY;
  let hi: Uint8Array | null = null;
  if (page.cursor !== null) {
    const key = Buffer.from(page.cursor, "base64url");
    if (page.order === "asc") lo = keyAfter(key);
    else hi = key;
  }
  const rows = store.scan(`${table}.by_creation_time`, { lo, hi }, page.order, page.limit);
  const last = rows.at(-1);
  return { rows, nextCursor: rows.length === page.limit && last ? last.key.toString("base64url") : null };
}
