import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { findFollow, findFollowRequest, removeFollow, withdrawFollowRequest } from "./follow-graph";
import { hasBlocked } from "./visibility";

/**
 * Blocking. What a block hides is decided in `visibility.ts`; here are the
 * writes: the block row, and the follows and pending requests between the
 * two that it ends (each with its counters, notification and feed items, as
 * an unfollow would). Likes and comments stay (post counters keep counting
 * them) but are hidden from the other user while the block lasts.
 */

/** `me` blocks `targetId`; blocking someone already blocked changes nothing. */
export async function blockUser(ctx: MutationCtx, me: Doc<"users">, targetId: Id<"users">): Promise<void> {
  if (targetId === me._id) throw appError("INVALID_ARGUMENT", "You cannot block yourself.");
  if ((await ctx.db.get("users", targetId)) === null) {
    throw appError("NOT_FOUND", "This user does not exist or was deleted.");
  }
  if (await hasBlocked(ctx, me._id, targetId)) return;
  await ctx.db.insert("blocks", { blockerId: me._id, blockedId: targetId });
  for (const [from, to] of [
    [me._id, targetId],
    [targetId, me._id],
  ] as const) {
    const follow = await findFollow(ctx, from, to);
    if (follow !== null) await removeFollow(ctx, follow);
    const request = await findFollowRequest(ctx, from, to);
    if (request !== null) await withdrawFollowRequest(ctx, request);
  }
}

/** `me` lifts their block of `targetId`, if any; follows ended by it stay ended. */
export async function unblockUser(ctx: MutationCtx, me: Doc<"users">, targetId: Id<"users">): Promise<void> {
  const row = await ctx.db
    .query("blocks")
    .withIndex("by_both", (q) => q.eq("blockerId", me._id).eq("blockedId", targetId))
    .first();
  if (row !== null) await ctx.db.delete("blocks", row._id);
}
