import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation } from "./_generated/server";
import { backfillStep, fanOutStep, pruneStep } from "./model/feed-items";

/**
 * Background batches that keep the following feed (`feedItems`) in step with
 * posts and follows. Each runs one bounded batch and reschedules itself while
 * work remains; see `model/feed-items.ts` for the invariants.
 */

/** Delivers a post to its author's followers, one batch at a time. */
export const fanOutPost = internalMutation({
  args: { postId: v.id("posts"), cursor: v.union(v.string(), v.null()) },
  returns: v.null(),
  handler: async (ctx, { postId, cursor }) => {
    const next = await fanOutStep(ctx, postId, cursor);
    if (next !== null) {
      await ctx.scheduler.runAfter(0, internal.feed.fanOutPost, { postId, cursor: next });
    }
    return null;
  },
});

/** Copies a newly followed author's posts into the follower's feed. */
export const backfillFollow = internalMutation({
  args: {
    ownerId: v.id("users"),
    authorId: v.id("users"),
    cursor: v.union(v.string(), v.null()),
  },
  returns: v.null(),
  handler: async (ctx, { ownerId, authorId, cursor }) => {
    const next = await backfillStep(ctx, ownerId, authorId, cursor);
    if (next !== null) {
      await ctx.scheduler.runAfter(0, internal.feed.backfillFollow, {
        ownerId,
        authorId,
        cursor: next,
      });
    }
    return null;
  },
});

/** Removes an unfollowed author's posts from the former follower's feed. */
export const pruneUnfollow = internalMutation({
  args: { ownerId: v.id("users"), authorId: v.id("users") },
  returns: v.null(),
  handler: async (ctx, args) => {
    if (await pruneStep(ctx, args.ownerId, args.authorId)) {
      await ctx.scheduler.runAfter(0, internal.feed.pruneUnfollow, args);
    }
    return null;
  },
});
