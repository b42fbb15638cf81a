import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { mutation, query } from "./_generated/server";
import { getViewer, requireOwner, requireUser } from "./lib/auth";
import { appError } from "./lib/errors";
import { normalizeCaption } from "./lib/input-rules";
import { FEED_LIMIT, USER_POSTS_LIMIT } from "./lib/limits";
import { takeRateLimit } from "./lib/rate-limits";
import { checkEntities, normalizeTag } from "./lib/text-entities";
import { boundedPage, emptyPage, mapPage } from "./lib/pagination";
import { feedPost, postView, userSummary, type UserSummary } from "./lib/validators";
import { indexCaption } from "./model/caption-index";
import { bumpPost } from "./model/counters";
import { notify, retractLikeOrFollow } from "./model/notify";
import {
  createPost as createPostModel,
  removePost,
  requireVisiblePost,
  visiblePost,
} from "./model/post-lifecycle";
import { issueTicket } from "./model/upload-tickets";
import { searchQuery } from "./model/user-search";
import { docLoader, feedPost as toFeedPost, feedPostById, visiblePostView, visibleSummaryOf } from "./model/views";

/**
 * A URL to upload one image to (POST the bytes with their Content-Type),
 * valid for an hour. Records an upload ticket for the caller, which
 * `createPost` requires; at most 10 open uploads per user, and the upload
 * rate limit (`lib/rate-limits.ts`), which also bounds posts (RATE_LIMITED).
 */
export const generateUploadUrl = mutation({
  args: {},
  returns: v.string(),
  handler: async (ctx) => {
    const me = await requireUser(ctx);
    await takeRateLimit(ctx, "upload", me);
    await issueTicket(ctx, me);
    return await ctx.storage.generateUploadUrl();
  },
});

/**
 * Publishes an image the caller uploaded (see `model/upload-tickets.ts` for
 * what is checked) with an optional caption of up to 2,200 characters. The
 * photo is processed in the background (display sizes, placeholder, metadata
 * removed; `imaging.ts`); the post is shown to others once that is done, and
 * a photo that cannot be decoded removes the post again and tells the author
 * (a `post_rejected` notification).
 */
export const createPost = mutation({
  args: { caption: v.optional(v.string()), storageId: v.id("_storage") },
  returns: v.id("posts"),
  handler: async (ctx, args) => {
    const me = await requireUser(ctx);
    const caption = normalizeCaption(args.caption);
    const entities = checkEntities("A caption", caption);
    const postId = await createPostModel(ctx, me, args.storageId, caption);
    await indexCaption(ctx, me, postId, entities);
    return postId;
  },
});

/**
 * The newest posts of everyone, newest first: the common front ends' home
 * feed. Bounded to the newest FEED_LIMIT (50); use `getGlobalFeed` or
 * `getFollowingFeed` to page further.
 */
export const getFeedPosts = query({
  args: {},
  returns: v.array(feedPost),
  handler: async (ctx) => {
    const viewer = await getViewer(ctx);
    const posts = await ctx.db
      .query("posts")
      .withIndex("by_creation_time")
      .order("desc")
      .take(FEED_LIMIT);
    const load = docLoader(ctx, viewer);
    const items = await Promise.all(posts.map((post) => toFeedPost(ctx, post, viewer, load)));
    return items.filter((item) => item !== null);
  },
});

/** Every post, newest first, paginated. */
export const getGlobalFeed = query({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(feedPost),
  handler: async (ctx, { paginationOpts }) => {
    const viewer = await getViewer(ctx);
    const rows = await ctx.db
      .query("posts")
      .withIndex("by_creation_time")
      .order("desc")
      .paginate(boundedPage(paginationOpts));
    const load = docLoader(ctx, viewer);
    return await mapPage(rows, (post) => toFeedPost(ctx, post, viewer, load));
  },
});

/**
 * Posts of the people the caller follows and the caller's own, newest first,
 * paginated. Built by background fan-out, so a new follow's older posts
 * appear within moments rather than instantly.
 */
export const getFollowingFeed = query({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(feedPost),
  handler: async (ctx, { paginationOpts }) => {
    const me = await requireUser(ctx);
    const rows = await ctx.db
      .query("feedItems")
      .withIndex("by_owner_and_time", (q) => q.eq("ownerId", me._id))
      .order("desc")
      .paginate(boundedPage(paginationOpts));
    const load = docLoader(ctx, me);
    return await mapPage(rows, (item) => feedPostById(ctx, item.postId, me, load));
  },
});

/** One post in feed form, or null if it does not exist (any more). */
export const getPost = query({
  args: { postId: v.id("posts") },
  returns: v.union(feedPost, v.null()),
  handler: async (ctx, { postId }) => await feedPostById(ctx, postId, await getViewer(ctx)),
});

/**
 * A user's posts (default: the caller's), newest first, at most
 * USER_POSTS_LIMIT (100). NOT_FOUND if the user does not exist.
 */
export const getPostsByUser = query({
  args: { userId: v.optional(v.id("users")) },
  returns: v.array(postView),
  handler: async (ctx, args) => {
    const viewer = args.userId === undefined ? await requireUser(ctx) : await getViewer(ctx);
    const user = args.userId === undefined ? viewer : await ctx.db.get("users", args.userId);
    if (user === null) throw appError("NOT_FOUND", "This user does not exist or was deleted.");
    const posts = await ctx.db
      .query("posts")
      .withIndex("by_user", (q) => q.eq("userId", user._id))
      .order("desc")
      .take(USER_POSTS_LIMIT);
    const load = docLoader(ctx, viewer, user);
    const views = await Promise.all(posts.map((post) => visiblePostView(ctx, post, viewer, load)));
    return views.filter((view) => view !== null);
  },
});

/** Likes or unlikes a post; returns whether the caller now likes it. */
export const toggleLike = mutation({
  args: { postId: v.id("posts") },
  returns: v.boolean(),
  handler: async (ctx, { postId }) => {
    const me = await requireUser(ctx);
    await takeRateLimit(ctx, "like", me);
    const post = await requireVisiblePost(ctx, me, postId);
    const existing = await ctx.db
      .query("likes")
      .withIndex("by_user_and_post", (q) => q.eq("userId", me._id).eq("postId", postId))
      .first();
    if (existing !== null) {
      await ctx.db.delete("likes", existing._id);
      await bumpPost(ctx, post, "likes", -1);
      await retractLikeOrFollow(ctx, me._id, post.userId, "like", postId);
      return false;
    }
    await ctx.db.insert("likes", { userId: me._id, postId });
    await bumpPost(ctx, post, "likes", 1);
    await notify(ctx, me._id, post.userId, { type: "like", postId });
    return true;
  },
});

/**
 * Who liked a post, most recent first (paginated). Empty for a post the
 * caller may not see; accounts blocked either way with the caller are left out.
 */
export const getLikers = query({
  args: { postId: v.id("posts"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(userSummary),
  handler: async (ctx, { postId, paginationOpts }) => {
    const viewer = await getViewer(ctx);
    const load = docLoader(ctx, viewer);
    if ((await visiblePost(ctx, viewer, postId, load)) === null) return emptyPage<UserSummary>();
    const rows = await ctx.db
      .query("likes")
      .withIndex("by_post", (q) => q.eq("postId", postId))
      .order("desc")
      .paginate(boundedPage(paginationOpts));
    return await mapPage(rows, (like) => visibleSummaryOf(ctx, viewer, like.userId, load));
  },
});

/**
 * Posts whose caption matches `query` (words; the last one also as a
 * prefix), best match first, paginated. Live: a new or edited caption that
 * matches joins the results. Convex reads at most 1,024 hits per search, so
 * pages stop there.
 */
export const searchPosts = query({
  args: { query: v.string(), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(feedPost),
  handler: async (ctx, args) => {
    const viewer = await getViewer(ctx);
    const text = searchQuery(args.query);
    const rows = await ctx.db
      .query("posts")
      .withSearchIndex("search_caption", (q) => q.search("caption", text))
      .paginate(boundedPage(args.paginationOpts));
    const load = docLoader(ctx, viewer);
    return await mapPage(rows, (post) => toFeedPost(ctx, post, viewer, load));
  },
});

/**
 * Posts whose caption carries `tag` ("#" optional, any case), newest post
 * first, paginated and live.
 */
export const getPostsByHashtag = query({
  args: { tag: v.string(), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(feedPost),
  handler: async (ctx, args) => {
    const viewer = await getViewer(ctx);
    const tag = normalizeTag(args.tag);
    const rows = await ctx.db
      .query("postTags")
      .withIndex("by_tag_and_time", (q) => q.eq("tag", tag))
      .order("desc")
      .paginate(boundedPage(args.paginationOpts));
    const load = docLoader(ctx, viewer);
    return await mapPage(rows, (row) => feedPostById(ctx, row.postId, viewer, load));
  },
});

/** Replaces the caption of the caller's post (blank removes it). */
export const updateCaption = mutation({
  args: { postId: v.id("posts"), caption: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const me = await requireUser(ctx);
    const caption = normalizeCaption(args.caption);
    const entities = checkEntities("A caption", caption);
    await requireOwner(ctx, me, "posts", args.postId, "userId", "post");
    await ctx.db.patch("posts", args.postId, { caption });
    await indexCaption(ctx, me, args.postId, entities);
    return null;
  },
});

/**
 * Deletes the caller's post and its image now; its likes, comments,
 * bookmarks and notifications are removed in background batches.
 */
export const deletePost = mutation({
  args: { postId: v.id("posts") },
  returns: v.null(),
  handler: async (ctx, { postId }) => {
    const me = await requireUser(ctx);
    const post = await requireOwner(ctx, me, "posts", postId, "userId", "post");
    await removePost(ctx, post, { cleanupInline: true });
    return null;
  },
});
