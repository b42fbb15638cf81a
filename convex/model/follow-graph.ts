import type { Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { BATCH_SIZE } from "../lib/limits";
import type { followStatus } from "../lib/validators";
import { bumpUser } from "./counters";
import { startBackfill, startPrune } from "./feed-items";
import { notify, retractLikeOrFollow } from "./notify";
import { isBlockedBetween } from "./visibility";

/**
 * Follows and follow requests. A public account is followed at once; a
 * private one (`users.isPrivate`) gets a request, which its owner accepts
 * or declines, and which turns into a follow when the account goes public.
 * Counters count follows only, and change in the same transaction as the
 * follow rows.
 */

/** Where the caller stands with an account after `toggleFollow`. */
export type FollowStatus = Infer<typeof followStatus>;

/** Follow requests accepted per batch when an account goes public (each may schedule a backfill). */
const REQUESTS_PER_BATCH = Math.max(1, Math.floor(BATCH_SIZE / 4));

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

/** The pending request from `requesterId` to follow `targetId`, if any. */
export async function findFollowRequest(
  ctx: QueryCtx,
  requesterId: Id<"users">,
  targetId: Id<"users">,
): Promise<Doc<"followRequests"> | null> {
  return await ctx.db
    .query("followRequests")
    .withIndex("by_both", (q) => q.eq("requesterId", requesterId).eq("targetId", targetId))
    .first();
}

/**
 * For `me` and `targetId`: unfollows if following, withdraws a pending
 * request if any, else follows a public account or asks to follow a private
 * one (a `follow_request` notification). An account that blocked `me`, or
 * that `me` blocked, is answered like one that does not exist.
 */
export async function toggleFollow(
  ctx: MutationCtx,
  me: Doc<"users">,
  targetId: Id<"users">,
): Promise<FollowStatus> {
  if (targetId === me._id) throw appError("INVALID_ARGUMENT", "You cannot follow yourself.");
  const target = await ctx.db.get("users", targetId);
  if (target === null || (await isBlockedBetween(ctx, me._id, targetId))) {
    throw appError("NOT_FOUND", "This user does not exist or was deleted.");
  }

  const existing = await findFollow(ctx, me._id, targetId);
  if (existing !== null) {
    await removeFollow(ctx, existing);
    return "not_following";
  }
  const request = await findFollowRequest(ctx, me._id, targetId);
  if (request !== null) {
    // A request left over from before the account went public is honoured.
    if (target.isPrivate !== true) return await acceptFollowRequest(ctx, request, { backfill: "inline" });
    await withdrawFollowRequest(ctx, request);
    return "not_following";
  }
  if (target.isPrivate === true) {
    await ctx.db.insert("followRequests", { requesterId: me._id, targetId });
    await notify(ctx, me._id, targetId, { type: "follow_request" });
    return "requested";
  }
  await addFollow(ctx, me._id, targetId, { backfill: "inline" });
  await notify(ctx, me._id, targetId, { type: "follow" });
  return "following";
}

/**
 * Inserts the follow row with both counters and starts the feed backfill
 * (its first batch now, or all of it scheduled when many follows are made
 * in one transaction). The caller checked that none exists.
 */
async function addFollow(
  ctx: MutationCtx,
  followerId: Id<"users">,
  followingId: Id<"users">,
  options: { backfill: "inline" | "scheduled" },
): Promise<void> {
  await ctx.db.insert("follows", { followerId, followingId });
  // By id: a batch bumps the same account many times in one transaction.
  await bumpUser(ctx, followerId, "following", 1);
  await bumpUser(ctx, followingId, "followers", 1);
  if (options.backfill === "inline") await startBackfill(ctx, followerId, followingId);
  else await ctx.scheduler.runAfter(0, internal.feed.backfillFollow, { ownerId: followerId, authorId: followingId, cursor: null });
}

/** Deletes a follow with its counters, its notification and its feed items. */
export async function removeFollow(ctx: MutationCtx, follow: Doc<"follows">): Promise<void> {
  await ctx.db.delete("follows", follow._id);
  await bumpUser(ctx, follow.followerId, "following", -1);
  await bumpUser(ctx, follow.followingId, "followers", -1);
  await retractLikeOrFollow(ctx, follow.followerId, follow.followingId, "follow");
  await startPrune(ctx, follow.followerId, follow.followingId);
}

/** Deletes a pending request and its notification (withdrawn, declined or blocked). */
export async function withdrawFollowRequest(ctx: MutationCtx, request: Doc<"followRequests">): Promise<void> {
  await ctx.db.delete("followRequests", request._id);
  await retractLikeOrFollow(ctx, request.requesterId, request.targetId, "follow_request");
}

/**
 * Turns a request into a follow: the row, the counters, the feed, and its
 * `follow_request` notification becomes the `follow` one ("started
 * following you"), keeping its read state. A requester whose account is
 * gone only loses the request.
 */
export async function acceptFollowRequest(
  ctx: MutationCtx,
  request: Doc<"followRequests">,
  options: { backfill: "inline" | "scheduled" },
): Promise<FollowStatus> {
  const { requesterId, targetId } = request;
  await ctx.db.delete("followRequests", request._id);
  const notice = await ctx.db
    .query("notifications")
    .withIndex("by_sender_and_target", (q) =>
      q.eq("senderId", requesterId).eq("receiverId", targetId).eq("type", "follow_request").eq("postId", undefined),
    )
    .first();
  const requesterGone = (await ctx.db.get("users", requesterId)) === null;
  if (requesterGone || (await findFollow(ctx, requesterId, targetId)) !== null) {
    if (notice !== null) await ctx.db.delete("notifications", notice._id);
    return requesterGone ? "not_following" : "following";
  }
  await addFollow(ctx, requesterId, targetId, options);
  if (notice !== null) await ctx.db.patch("notifications", notice._id, { type: "follow" });
  else await notify(ctx, requesterId, targetId, { type: "follow" });
  return "following";
}

/**
 * One batch of accepting every pending request of `userId`, who went
 * public; true while requests remain. Stops (leaving the rest pending, as
 * they should be) if the account went private again meanwhile.
 */
export async function acceptPendingRequestsStep(ctx: MutationCtx, userId: Id<"users">): Promise<boolean> {
  const user = await ctx.db.get("users", userId);
  if (user === null || user.isPrivate === true) return false;
  const requests = await ctx.db
    .query("followRequests")
    .withIndex("by_target", (q) => q.eq("targetId", userId))
    .take(REQUESTS_PER_BATCH);
  for (const request of requests) await acceptFollowRequest(ctx, request, { backfill: "scheduled" });
  return requests.length === REQUESTS_PER_BATCH;
}

/** Where `me` stands with `userId`: following, requested, or neither. */
export async function followStatusOf(ctx: QueryCtx, me: Id<"users">, userId: Id<"users">): Promise<FollowStatus> {
  if ((await findFollow(ctx, me, userId)) !== null) return "following";
  return (await findFollowRequest(ctx, me, userId)) !== null ? "requested" : "not_following";
}

/** Accepts the pending requests of `userId`, who went public: a batch now, the rest scheduled. */
export async function acceptPendingRequests(ctx: MutationCtx, userId: Id<"users">): Promise<void> {
  if (await acceptPendingRequestsStep(ctx, userId)) {
    await ctx.scheduler.runAfter(0, internal.users.acceptFollowRequestsBatch, { userId });
  }
}

/**
 * `me` accepts or declines request `requestId`. NOT_FOUND if it is gone,
 * FORBIDDEN if it asks to follow someone else.
 */
export async function respondToFollowRequest(
  ctx: MutationCtx,
  me: Doc<"users">,
  requestId: Id<"followRequests">,
  accept: boolean,
): Promise<void> {
  const request = await ctx.db.get("followRequests", requestId);
  if (request === null) throw appError("NOT_FOUND", "This follow request was withdrawn or already answered.");
  if (request.targetId !== me._id) {
    throw appError("FORBIDDEN", "Only the account asked to be followed can answer this request.");
  }
  if (accept) await acceptFollowRequest(ctx, request, { backfill: "inline" });
  else await withdrawFollowRequest(ctx, request);
}
