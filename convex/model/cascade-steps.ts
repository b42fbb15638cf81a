import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { BATCH_SIZE } from "../lib/limits";
import { bumpPost, bumpUser } from "./counters";
import { removePost } from "./post-lifecycle";

/**
 * Large deletions run as chains of bounded batches. A deleted post or account
 * disappears at once (its document goes first, and every reader skips rows
 * that point at a missing post or user); the rows that pointed at it are then
 * removed BATCH_SIZE at a time. Each row removal adjusts the counters it was
 * counted in within the same transaction, so counters equal their rows at
 * every moment, including mid-cascade.
 */

/** How a phase spent its share of a batch. */
type PhaseResult = { used: number; done: boolean };
type Phase<T> = (ctx: MutationCtx, id: T, budget: number) => Promise<PhaseResult>;

/** Runs `phases` in order within one budget; true while work remains. */
async function runPhases<T>(ctx: MutationCtx, id: T, phases: Phase<T>[]): Promise<boolean> {
  let budget = BATCH_SIZE;
  for (const phase of phases) {
    const { used, done } = await phase(ctx, id, budget);
    budget -= used;
    if (!done) return true;
    if (budget <= 0) return true;
  }
  return false;
}

/** Deletes rows one by one with `each`; a phase is done when fewer than asked came back. */
async function drain<R>(rows: R[], limit: number, each: (row: R) => Promise<void>): Promise<PhaseResult> {
  for (const row of rows) await each(row);
  return { used: rows.length, done: rows.length < limit };
}

const postPhases: Phase<Id<"posts">>[] = [
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("likes").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("likes", row._id),
    ),
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("comments").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("comments", row._id),
    ),
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("bookmarks").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("bookmarks", row._id),
    ),
  // Covers like and comment notifications: both carry the post id.
  async (ctx, postId, n) =>
    drain(
      await ctx.db
        .query("notifications")
        .withIndex("by_post", (q) => q.eq("postId", postId))
        .take(n),
      n,
      (row) => ctx.db.delete("notifications", row._id),
    ),
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("feedItems").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("feedItems", row._id),
    ),
];

/** One batch of removing what pointed at deleted post `postId`. */
export async function postCascadeStep(ctx: MutationCtx, postId: Id<"posts">): Promise<boolean> {
  return await runPhases(ctx, postId, postPhases);
}

/** Posts cost more than one write each (file, scheduling), so fewer per batch. */
const POSTS_PER_BATCH = Math.max(1, Math.floor(BATCH_SIZE / 4));

const userPhases: Phase<Id<"users">>[] = [
  async (ctx, userId, n) => {
    const limit = Math.min(n, POSTS_PER_BATCH);
    return drain(
      await ctx.db.query("posts").withIndex("by_user", (q) => q.eq("userId", userId)).take(limit),
      limit,
      (post) => removePost(ctx, post),
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
