import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
import { requireUser } from "./lib/auth";
import { BOOKMARKS_LIMIT } from "./lib/limits";
import { postDoc } from "./lib/validators";
import { livePost, requireLivePost } from "./model/post-lifecycle";
import { docLoader } from "./model/views";

/** Bookmarks or un-bookmarks a post; returns whether it is now bookmarked. */
export const toggleBookmark = mutation({
  args: { postId: v.id("posts") },
  returns: v.boolean(),
  handler: async (ctx, { postId }) => {
    const me = await requireUser(ctx);
    await requireLivePost(ctx, postId);
    const existing = await ctx.db
      .query("bookmarks")
      .withIndex("by_user_and_post", (q) => q.eq("userId", me._id).eq("postId", postId))
      .first();
    if (existing !== null) {
      await ctx.db.delete("bookmarks", existing._id);
      return false;
    }
    await ctx.db.insert("bookmarks", { userId: me._id, postId });
    return true;
  },
});

/**
 * The caller's bookmarked posts, most recently bookmarked first, bounded to
 * the newest BOOKMARKS_LIMIT (50) bookmarks. Posts deleted meanwhile are
 * left out, never returned as nulls.
 */
export const getBookmarkedPosts = query({
  args: {},
  returns: v.array(postDoc),
  handler: async (ctx) => {
    const me = await requireUser(ctx);
    const bookmarks = await ctx.db
      .query("bookmarks")
      .withIndex("by_user", (q) => q.eq("userId", me._id))
      .order("desc")
      .take(BOOKMARKS_LIMIT);
    const load = docLoader(ctx);
    const posts = await Promise.all(bookmarks.map((bookmark) => livePost(ctx, bookmark.postId, load)));
    return posts.filter((post) => post !== null);
  },
});
