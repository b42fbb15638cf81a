import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation } from "./_generated/server";
import { userCascadeStep } from "./model/account-cleanup";
import { postCascadeStep } from "./model/post-cleanup";

/** Scheduled batches of large deletions; see `model/batch-phases.ts`. */

/** Removes what pointed at a deleted post, one batch at a time. */
export const deletePostBatch = internalMutation({
  args: { postId: v.id("posts") },
  returns: v.null(),
  handler: async (ctx, args) => {
    if (await postCascadeStep(ctx, args.postId)) {
      await ctx.scheduler.runAfter(0, internal.cascades.deletePostBatch, args);
    }
    return null;
  },
});

/** Removes everything of a deleted account, one batch at a time. */
export const deleteUserBatch = internalMutation({
  args: { userId: v.id("users") },
  returns: v.null(),
  handler: async (ctx, args) => {
    if (await userCascadeStep(ctx, args.userId)) {
      await ctx.scheduler.runAfter(0, internal.cascades.deleteUserBatch, args);
    }
    return null;
  },
});
