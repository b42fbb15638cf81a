import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
import { requireOwner, requireUser } from "./lib/auth";
import { checkComment } from "./lib/input-rules";
import { COMMENTS_LIMIT } from "./lib/limits";
import { takeRateLimit } from "./lib/rate-limits";
import { checkEntities } from "./lib/text-entities";
import { commentWithUser } from "./lib/validators";
import { bumpPost } from "./model/counters";
import { notifyCommentMentions } from "./model/mentions";
import { notify, retractComment } from "./model/notify";
import { livePost, requireLivePost } from "./model/post-lifecycle";
import { commentWithUser as withUser, docLoader } from "./model/views";

/**
 * Comments on a post; returns the new comment's id. 1–2,200 characters, at
 * most 30 hashtags and 20 mentions; each mentioned account hears of it.
 */
export const addComment = mutation({
  args: { content: v.string(), postId: v.id("posts") },
  returns: v.id("comments"),
  handler: async (ctx, args) => {
    const me = await requireUser(ctx);
    await takeRateLimit(ctx, "comment", me);
    const content = checkComment(args.content);
    const entities = checkEntities("A comment", content);
    const post = await requireLivePost(ctx, args.postId);
    const commentId = await ctx.db.insert("comments", {
      userId: me._id,
      postId: post._id,
      content,
    });
    await bumpPost(ctx, post, "comments", 1);
    await notify(ctx, me._id, post.userId, { type: "comment", postId: post._id, commentId });
    await notifyCommentMentions(ctx, me, post, commentId, entities.mentions);
    return commentId;
  },
});

/**
 * A post's comments, oldest first, each with its author. Bounded to the
 * newest COMMENTS_LIMIT (100), still listed oldest first, so a busy post
 * shows its latest conversation.
 */
export const getComments = query({
  args: { postId: v.id("posts") },
  returns: v.array(commentWithUser),
  handler: async (ctx, { postId }) => {
    const load = docLoader(ctx);
    if ((await livePost(ctx, postId, load)) === null) return [];
    const newest = await ctx.db
      .query("comments")
      .withIndex("by_post", (q) => q.eq("postId", postId))
      .order("desc")
      .take(COMMENTS_LIMIT);
    const joined = await Promise.all(newest.reverse().map((comment) => withUser(ctx, comment, load)));
    return joined.filter((comment) => comment !== null);
  },
});

/** Deletes one of the caller's comments (and its notifications, mentions too). */
export const deleteComment = mutation({
  args: { commentId: v.id("comments") },
  returns: v.null(),
  handler: async (ctx, { commentId }) => {
    const me = await requireUser(ctx);
    const comment = await requireOwner(ctx, me, "comments", commentId, "userId", "comment");
    await ctx.db.delete("comments", commentId);
    await bumpPost(ctx, comment.postId, "comments", -1);
    await retractComment(ctx, commentId);
    return null;
  },
});
