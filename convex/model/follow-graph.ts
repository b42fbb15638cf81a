import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { bumpUser } from "./counters";
import { startBackfill, startPrune } from "./feed-items";
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
 * notification and the feed change with the row; feed work beyond one
 * batch is scheduled (see `model/feed-items.ts`).
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
    await bumpUser(ctx, me, "following", -1);
    await bumpUser(ctx, target, "followers", -1);
    await retractLikeOrFollow(ctx, me._id, targetId, "follow");
    await startPrune(ctx, me._id, targetId);
    return false;
  }
  await ctx.db.insert("follows", { followerId: me._id, followingId: targetId });
  await bumpUser(ctx, me, "following", 1);
  await bumpUser(ctx, target, "followers", 1);
  await notify(ctx, me._id, targetId, { type: "follow" });
  await startBackfill(ctx, me._id, targetId);
  return true;
}
