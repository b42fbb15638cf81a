import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

/**
 * Counters are changed only here, in the same transaction as the row they
 * count, so each always equals its rows. A missing document means its own
 * deletion is under way and its counters no longer matter. The floor at zero
 * is a last guard; with exact bookkeeping it never engages.
 *
 * Callers that already loaded the document in this transaction (and have not
 * changed it since) pass it, so the hot toggles read it once; the others pass
 * its id.
 */

type UserCounter = "followers" | "following" | "posts";
type PostCounter = "likes" | "comments";

/** Adds `delta` to one of a user's counters, if the user still exists. */
export async function bumpUser(
  ctx: MutationCtx,
  user: Doc<"users"> | Id<"users">,
  field: UserCounter,
  delta: number,
): Promise<void> {
  const doc = typeof user === "string" ? await ctx.db.get("users", user) : user;
  if (doc === null) return;
  await ctx.db.patch("users", doc._id, { [field]: Math.max(0, doc[field] + delta) });
}

/** Adds `delta` to one of a post's counters, if the post still exists. */
export async function bumpPost(
  ctx: MutationCtx,
  post: Doc<"posts"> | Id<"posts">,
  field: PostCounter,
  delta: number,
): Promise<void> {
  const doc = typeof post === "string" ? await ctx.db.get("posts", post) : post;
  if (doc === null) return;
  await ctx.db.patch("posts", doc._id, { [field]: Math.max(0, doc[field] + delta) });
}
