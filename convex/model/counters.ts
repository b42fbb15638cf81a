import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

/**
 * Counters are changed only here, in the same transaction as the row they
 * count, so each always equals its rows. A missing document means its own
 * deletion is under way and its counters no longer matter. The floor at zero
 * is a last guard; with exact bookkeeping it never engages.
 */

type UserCounter = "followers" | "following" | "posts";
type PostCounter = "likes" | "comments";

/** Adds `delta` to one of user `id`'s counters, if the user still exists. */
export async function bumpUser(
  ctx: MutationCtx,
  id: Id<"users">,
  field: UserCounter,
  delta: number,
): Promise<void> {
  const user = await ctx.db.get("users", id);
  if (user === null) return;
  await ctx.db.patch("users", id, { [field]: Math.max(0, user[field] + delta) });
}

/** Adds `delta` to one of post `id`'s counters, if the post still exists. */
export async function bumpPost(
  ctx: MutationCtx,
  id: Id<"posts">,
  field: PostCounter,
  delta: number,
): Promise<void> {
  const post = await ctx.db.get("posts", id);
  if (post === null) return;
  await ctx.db.patch("posts", id, { [field]: Math.max(0, post[field] + delta) });
}
