import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { bumpUser } from "./counters";
import { notify, retractLikeOrFollow } from "./notify";

/** The follow row from `followerId` to `followingId`, if any. */
export async function findFollow(
  ctx: QueryCtx,
  followerId: Id<"users">,
  followingId: Id<"users">,
): Promise<Doc<"follows"> | null> {
  return await ctx.db
    .query("follows")
    .withIndex("by_both", (q) => q.eq("followerId", followerId).eq("followingId", followingId))
    .first();
}

/**
 * Follows or unfollows `targetId` for `me`. Counters, the follow
 * notification and the feed change with the row; the feed's bulk work is
 * scheduled (see `model/feed-items.ts`).
 */
export async function toggleFollow(
  ctx: MutationCtx,
  me: Doc<"users">,
  targetId: Id<"users">,
): Promise<boolean> {
  if (targetId === me._id) throw appError("INVALID_ARGUMENT", "You cannot follow yourself.");
  const target = await ctx.db.get("users", targetId);
  if (target === null) throw appError("NOT_FOUND", "This user does not exist or was deleted.");

  const existing = await findFollow(ctx, me._id, targetId);
  if (existing !== null) {
    await ctx.db.delete("follows", existing._id);
    await bumpUser(ctx, me._id, "following", -1);
    await bumpUser(ctx, targetId, "followers", -1);
    await retractLikeOrFollow(ctx, me._id, targetId, "follow");
    await ctx.scheduler.runAfter(0, internal.feed.pruneUnfollow, {
      ownerId: me._id,
      authorId: targetId,
    });
    return false;
  }
  await ctx.db.insert("follows", { followerId: me._id, followingId: targetId });
  await bumpUser(ctx, me._id, "following", 1);
  await bumpUser(ctx, targetId, "followers", 1);
  await notify(ctx, me._id, targetId, { type: "follow" });
  await ctx.scheduler.runAfter(0, internal.feed.backfillFollow, {
    ownerId: me._id,
    authorId: targetId,
    cursor: null,
  });
  return true;
}
