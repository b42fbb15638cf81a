import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
import { requireUser } from "./lib/auth";
import { BOOKMARKS_LIMIT } from "./lib/limits";
import { postView } from "./lib/validators";
import { requireVisiblePost } from "./model/post-lifecycle";
import { docLoader, visiblePostView } from "./model/views";

/** Bookmarks or un-bookmarks a post; returns whether it is now bookmarked. */
export const toggleBookmark = mutation({
  args: { postId: v.id("posts") },
  returns: v.boolean(),
  handler: async (ctx, { postId }) => {
    const me = await requireUser(ctx);
    await requireVisiblePost(ctx, me, postId);
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
  returns: v.array(postView),
  handler: async (ctx) => {
    const me = await requireUser(ctx);
    const bookmarks = await ctx.db
      .query("bookmarks")
      .withIndex("by_user", (q) => q.eq("userId", me._id))
      .order("desc")
      .take(BOOKMARKS_LIMIT);
    const load = docLoader(ctx);
    const posts = await Promise.all(
      bookmarks.map(async (bookmark) => {
        const post = await load("posts", bookmark.postId);
        return post === null ? null : await visiblePostView(ctx, post, me, load);
      }),
    );
    return posts.filter((post) => post !== null);
  },
});
