import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { BATCH_SIZE } from "../lib/limits";
import { drain, runPhases, type Phase } from "./batch-phases";
import { bumpPost, bumpUser } from "./counters";
import { removePost } from "./post-lifecycle";

/** Posts cost more than one write each (file, scheduling), so fewer per batch. */
const POSTS_PER_BATCH = Math.max(1, Math.floor(BATCH_SIZE / 4));

const userPhases: Phase<Id<"users">>[] = [
  async (ctx, userId, n) => {
    const limit = Math.min(n, POSTS_PER_BATCH);
    return drain(
      await ctx.db.query("posts").withIndex("by_user", (q) => q.eq("userId", userId)).take(limit),
      limit,
      (post) => removePost(ctx, post, { cleanupInline: false }),
    );
  },
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("likes")
        .withIndex("by_user_and_post", (q) => q.eq("userId", userId))
        .take(n),
      n,
      async (like) => {
        await ctx.db.delete("likes", like._id);
        await bumpPost(ctx, like.postId, "likes", -1);
      },
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db.query("comments").withIndex("by_user", (q) => q.eq("userId", userId)).take(n),
      n,
      async (comment) => {
        await ctx.db.delete("comments", comment._id);
        await bumpPost(ctx, comment.postId, "comments", -1);
      },
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("follows")
        .withIndex("by_follower", (q) => q.eq("followerId", userId))
        .take(n),
      n,
      async (follow) => {
        await ctx.db.delete("follows", follow._id);
        await bumpUser(ctx, follow.followingId, "followers", -1);
      },
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("follows")
        .withIndex("by_following", (q) => q.eq("followingId", userId))
        .take(n),
      n,
      async (follow) => {
        await ctx.db.delete("follows", follow._id);
        await bumpUser(ctx, follow.followerId, "following", -1);
      },
    ),
  // Blocks and follow requests count nowhere; their notifications go with the next phases.
  async (ctx, userId, n) =>
    drain(
      await ctx.db.query("blocks").withIndex("by_blocker", (q) => q.eq("blockerId", userId)).take(n),
      n,
      (row) => ctx.db.delete("blocks", row._id),
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db.query("blocks").withIndex("by_blocked", (q) => q.eq("blockedId", userId)).take(n),
      n,
      (row) => ctx.db.delete("blocks", row._id),
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("followRequests")
        .withIndex("by_both", (q) => q.eq("requesterId", userId))
        .take(n),
      n,
      (row) => ctx.db.delete("followRequests", row._id),
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("followRequests")
        .withIndex("by_target", (q) => q.eq("targetId", userId))
        .take(n),
      n,
      (row) => ctx.db.delete("followRequests", row._id),
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("notifications")
        .withIndex("by_sender_and_target", (q) => q.eq("senderId", userId))
        .take(n),
      n,
      (row) => ctx.db.delete("notifications", row._id),
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("notifications")
        .withIndex("by_receiver", (q) => q.eq("receiverId", userId))
        .take(n),
      n,
      (row) => ctx.db.delete("notifications", row._id),
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db.query("bookmarks").withIndex("by_user", (q) => q.eq("userId", userId)).take(n),
      n,
      (row) => ctx.db.delete("bookmarks", row._id),
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("feedItems")
        .withIndex("by_owner_and_time", (q) => q.eq("ownerId", userId))
        .take(n),
      n,
      (row) => ctx.db.delete("feedItems", row._id),
    ),
  async (ctx, userId, n) =>
    drain(
      await ctx.db
        .query("uploadTickets")
        .withIndex("by_user", (q) => q.eq("userId", userId))
        .take(n),
      n,
      (row) => ctx.db.delete("uploadTickets", row._id),
    ),
];

/**
 * One batch of removing everything of deleted account `userId`, in an order
 * that keeps other users' data right: posts first (each starts its own
 * cascade), then the likes, comments and follows that other users' counters
 * count, then the rest.
 */
export async function userCascadeStep(ctx: MutationCtx, userId: Id<"users">): Promise<boolean> {
  return await runPhases(ctx, userId, userPhases);
}
