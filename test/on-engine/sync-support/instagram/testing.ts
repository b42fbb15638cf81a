import { makeFunctionReference } from "convex/server";
import { v } from "convex/values";
import type { Id } from "../../../../convex/_generated/dataModel";
import { internalAction, internalMutation } from "../../../../convex/_generated/server";

/** A 2×2 PNG: each seeded post gets a real file of its own, so its URLs resolve. */
const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4zwAE/xkgFAAb8gP91pbyKwAAAABJRU5ErkJggg==";

const insertPostRef = makeFunctionReference<
  "mutation",
  { userId: Id<"users">; storageId: Id<"_storage">; caption?: string },
  Id<"posts">
>("testing:insertPost");

/**
 * Creates a post without an upload ticket or photo processing, for sync tests
 * that need posts but not the upload flow. Internal (admin key only): the app
 * itself only creates posts from uploads, through `posts.createPost`.
 */
export const seedPost = internalAction({
  args: { userId: v.id("users"), caption: v.optional(v.string()) },
  returns: v.id("posts"),
  handler: async (ctx, { userId, caption }): Promise<Id<"posts">> => {
    const storageId = await ctx.storage.store(new Blob([Buffer.from(PNG, "base64")], { type: "image/png" }));
    return await ctx.runMutation(insertPostRef, { userId, storageId, caption });
  },
});

/** The write half of {@link seedPost}. */
export const insertPost = internalMutation({
  args: { userId: v.id("users"), storageId: v.id("_storage"), caption: v.optional(v.string()) },
  returns: v.id("posts"),
  handler: async (ctx, { userId, storageId, caption }) =>
    await ctx.db.insert("posts", { userId, storageId, caption, likes: 0, comments: 0 }),
});
