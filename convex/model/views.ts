import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import type {
  CommentWithUser,
  FeedPost,
  NotificationWithDetails,
  PublicUser,
  UserSummary,
} from "../lib/validators";

/**
 * The shapes clients see. Every join lives here, and every join returns null
 * when its counterpart is gone (an account or post whose clean-up is still
 * running in the background), so callers drop the row instead of showing a
 * dangling one.
 */

/** Reads a document by id; see {@link docLoader}. */
export type DocLoader = <T extends TableNames>(table: T, id: Id<T>) => Promise<Doc<T> | null>;

/**
 * `ctx.db.get` that reads each document at most once. A list query makes one
 * and hands it to every join, because one page often names the same author,
 * post or comment many times (a feed of few authors, a thread, many
 * notifications about one post).
 */
export function docLoader(ctx: QueryCtx): DocLoader {
  const loaded = new Map<string, Promise<unknown>>();
  return <T extends TableNames>(table: T, id: Id<T>) => {
    let doc = loaded.get(id);
    if (doc === undefined) {
      doc = ctx.db.get(table, id);
      loaded.set(id, doc);
    }
    return doc as Promise<Doc<T> | null>;
  };
}

/** A user's public profile: everything except email and clerkId. */
export function publicProfile(user: Doc<"users">): PublicUser {
  return {
    _id: user._id,
    _creationTime: user._creationTime,
    username: user.username,
    fullname: user.fullname,
    bio: user.bio,
    image: user.image,
    followers: user.followers,
    following: user.following,
    posts: user.posts,
  };
}

/** A user as lists show them. */
export function summary(user: Doc<"users">): UserSummary {
  return { _id: user._id, username: user.username, fullname: user.fullname, image: user.image };
}

/** The summary of the user `id`, or null if that account is gone. */
export async function summaryOf(ctx: QueryCtx, id: Id<"users">): Promise<UserSummary | null> {
  const user = await ctx.db.get("users", id);
  return user === null ? null : summary(user);
}

/** A post with its author and the viewer's like/bookmark state. */
export async function feedPost(
  ctx: QueryCtx,
  post: Doc<"posts">,
  viewer: Doc<"users"> | null,
  load: DocLoader = docLoader(ctx),
): Promise<FeedPost | null> {
  const author = await load("users", post.userId);
  if (author === null) return null;
  let isLiked = false;
  let isBookmarked = false;
  if (viewer !== null) {
    const [like, bookmark] = await Promise.all([
      ctx.db
        .query("likes")
        .withIndex("by_user_and_post", (q) => q.eq("userId", viewer._id).eq("postId", post._id))
        .first(),
      ctx.db
        .query("bookmarks")
        .withIndex("by_user_and_post", (q) => q.eq("userId", viewer._id).eq("postId", post._id))
        .first(),
    ]);
    isLiked = like !== null;
    isBookmarked = bookmark !== null;
  }
  return {
    ...post,
    author: { _id: author._id, username: author.username, image: author.image },
    isLiked,
    isBookmarked,
  };
}

/** The feed form of post `postId`, or null if it (or its author) is gone. */
export async function feedPostById(
  ctx: QueryCtx,
  postId: Id<"posts">,
  viewer: Doc<"users"> | null,
  load: DocLoader = docLoader(ctx),
): Promise<FeedPost | null> {
  const post = await load("posts", postId);
  return post === null ? null : await feedPost(ctx, post, viewer, load);
}

/** A comment with its author's name and picture. */
export async function commentWithUser(
  ctx: QueryCtx,
  comment: Doc<"comments">,
  load: DocLoader = docLoader(ctx),
): Promise<CommentWithUser | null> {
  const user = await load("users", comment.userId);
  if (user === null) return null;
  return {
    ...comment,
    user: { _id: user._id, fullname: user.fullname, username: user.username, image: user.image },
  };
}

/**
 * A notification with its sender, its post (null for follows) and, for
 * comments and mentions in comments, the comment's text. Null when any of
 * those is gone.
 */
export async function notificationDetails(
  ctx: QueryCtx,
  notification: Doc<"notifications">,
  load: DocLoader = docLoader(ctx),
): Promise<NotificationWithDetails | null> {
  const sender = await load("users", notification.senderId);
  if (sender === null) return null;
  let post: Doc<"posts"> | null = null;
  if (notification.postId !== undefined) {
    post = await load("posts", notification.postId);
    if (post === null) return null;
  }
  let comment: string | undefined;
  if (notification.type === "comment" && notification.commentId === undefined) return null;
  // Comment notifications and mentions in comments show the comment's text.
  if (notification.commentId !== undefined) {
    const row = await load("comments", notification.commentId);
    if (row === null) return null;
    comment = row.content;
  }
  return {
    ...notification,
    sender: { _id: sender._id, username: sender.username, image: sender.image },
    post,
    comment,
  };
}
