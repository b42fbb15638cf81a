import { v } from "convex/values";
import { internalMutation, internalQuery } from "./_generated/server";
import { applyProcessedImage, rejectPostImage } from "./model/post-images";

/**
 * The transactional side of photo processing: `imaging.processPostImage`
 * (Node.js) reads its job and records its outcome through these internal
 * functions; the rules are in `model/post-images.ts`.
 */

/** The file to process for `postId`, or null when the post is gone or already processed. */
export const imageJob = internalQuery({
  args: { postId: v.id("posts") },
  returns: v.union(v.object({ storageId: v.id("_storage") }), v.null()),
  handler: async (ctx, { postId }) => {
    const post = await ctx.db.get("posts", postId);
    if (post === null || post.imageState === "ready") return null;
    return { storageId: post.storageId };
  },
});

/** Records the processed files of a post's photo; false (and its files deleted) when stale. */
export const saveProcessedImage = internalMutation({
  args: {
    postId: v.id("posts"),
    sourceId: v.id("_storage"),
    original: v.id("_storage"),
    display: v.id("_storage"),
    thumbnail: v.id("_storage"),
    width: v.number(),
    height: v.number(),
    placeholder: v.string(),
  },
  returns: v.boolean(),
  handler: async (ctx, { postId, sourceId, ...image }) =>
    await applyProcessedImage(ctx, postId, sourceId, image),
});

/** Removes a post whose photo cannot be processed and tells its author why. */
export const rejectImage = internalMutation({
  args: { postId: v.id("posts"), sourceId: v.id("_storage"), message: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { postId, sourceId, message }) =>
    await rejectPostImage(ctx, postId, sourceId, message),
});
