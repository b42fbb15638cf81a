import { v } from "convex/values";
import { internalMutation } from "../../../../convex/_generated/server";

/**
 * Creates a post without an upload, for sync tests that need posts but not
 * images. Internal (admin key only): the app itself only creates posts from
 * uploads, through `posts.createPost`.
 */
export const seedPost = internalMutation({
  args: { userId: v.id("users"), storageId: v.id("_storage"), caption: v.optional(v.string()) },
  returns: v.id("posts"),
  handler: async (ctx, { userId, storageId, caption }) =>
    await ctx.db.insert("posts", {
      userId,
      imageUrl: "https://images.invalid/seeded.jpg",
      storageId,
      caption,
      likes: 0,
      comments: 0,
    }),
});
