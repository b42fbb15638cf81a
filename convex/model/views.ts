import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import type {
  CommentWithUser,
  FeedPost,
  NotificationWithDetails,
  PostView,
  PublicUser,
  UserSummary,
} from "../lib/validators";
import { BOOKMARKS, inViewerList } from "./viewer-lists";
import { canSeePost, canSeeUser } from "./visibility";

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
 * notifications about one post). `known` documents count as loaded. The
 * loader is also the scope of the query's visibility answers
 * (`visibility.ts`) and viewer lists (`viewer-lists.ts`).
 */
export function docLoader(ctx: QueryCtx, ...known: (Doc<TableNames> | null)[]): DocLoader {
  const loaded = new Map<string, Promise<unknown>>();
  // Documents the query read already (the viewer, found through an index)
  // are not read again when the page names them (the viewer's own posts).
  for (const doc of known) if (doc !== null) loaded.set(doc._id, Promise.resolve(doc));
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
    isPrivate: user.isPrivate === true,
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

/**
 * The summary of user `id` for `viewer`'s lists, or null if that account is
 * gone or either blocked the other (`visibility.ts`).
 */
export async function visibleSummaryOf(
  ctx: QueryCtx,
  viewer: Doc<"users"> | null,
  id: Id<"users">,
  load: DocLoader = docLoader(ctx),
): Promise<UserSummary | null> {
  const user = await load("users", id);
  if (user === null || !(await canSeeUser(ctx, viewer, id, load))) return null;
  return summary(user);
}

/**
 * A post as clients see it. File URLs are made now from the storage ids, so
 * they always name the deployment that serves the request, also after the
 * data moved (an exported and imported snapshot, a move to Convex's cloud).
 * Null when the photo's file is gone (its post is being deleted).
 *
 * Not an async function, and one `then` rather than a `Promise.all` when the
 * post has no display or thumbnail file (not processed yet): a feed asks this
 * for every post, and each async function or `Promise.all` costs promises and
 * turns of its own. `getUrl` never throws (it rejects), so callers see the same.
 */
export function postView(ctx: QueryCtx, post: Doc<"posts">): Promise<PostView | null> {
  const image = ctx.storage.getUrl(post.storageId);
  if (post.displayId === undefined && post.thumbnailId === undefined) {
    return image.then((imageUrl) => (imageUrl === null ? null : viewOf(post, imageUrl, null, null)));
  }
  const urlOf = (id: Id<"_storage"> | undefined) => (id === undefined ? null : ctx.storage.getUrl(id));
  return Promise.all([image, urlOf(post.displayId), urlOf(post.thumbnailId)]).then((urls) =>
    // Indexed rather than destructured: destructuring walks the array with an iterator.
    urls[0] === null ? null : viewOf(post, urls[0], urls[1], urls[2]),
  );
}

/*
 * The shapes a feed makes for every post list their keys in the order Convex writes them
 * (`convexToJson` sorts an object's keys by UTF-16 code unit): the result text is the same
 * in any order, but the self-hosted engine then takes each object as its own JSON instead of
 * copying it into that order (`values/result-encoder.ts`).
 */

function viewOf(post: Doc<"posts">, imageUrl: string, displayUrl: string | null, thumbnailUrl: string | null): PostView {
  return {
    _creationTime: post._creationTime,
    _id: post._id,
    caption: post.caption,
    comments: post.comments,
    displayUrl,
    height: post.height ?? null,
    imageUrl,
    likes: post.likes,
    placeholder: post.placeholder ?? null,
    storageId: post.storageId,
    thumbnailUrl,
    userId: post.userId,
    width: post.width ?? null,
  };
}

/**
 * {@link postView} of a post `viewer` may see (see `visibility.ts`), or null
 * when its author is gone or the viewer may not see it.
 */
export async function visiblePostView(
  ctx: QueryCtx,
  post: Doc<"posts">,
  viewer: Doc<"users"> | null,
  load: DocLoader = docLoader(ctx),
): Promise<PostView | null> {
  // A photo still being processed is its author's alone: no need to read
  // the author (or anything else) to hide it from others.
  if (post.imageState === "processing" && viewer?._id !== post.userId) return null;
  const author = await load("users", post.userId);
  if (author === null || !(await canSeePost(ctx, viewer, post, author, load))) return null;
  return await postView(ctx, post);
}

/**
 * A post with its author and the viewer's like/bookmark state. The steps of
 * {@link visiblePostView} are written out here rather than awaited through it
 * (one async function per post instead of three, and the author in hand
 * instead of asked of the loader again): a feed makes this for every post.
 * Same reads in the same order: the author and visibility, the file URLs,
 * then the like and the bookmark.
 */
export async function feedPost(
  ctx: QueryCtx,
  post: Doc<"posts">,
  viewer: Doc<"users"> | null,
  load: DocLoader = docLoader(ctx),
): Promise<FeedPost | null> {
  if (post.imageState === "processing" && viewer?._id !== post.userId) return null;
  const author = await load("users", post.userId);
  if (author === null || !(await canSeePost(ctx, viewer, post, author, load))) return null;
  const view = await postView(ctx, post);
  if (view === null) return null;
  let isLiked = false;
  let isBookmarked = false;
  if (viewer !== null) {
    // Likes stay one point read per post: they are the most frequent
    // action, so a viewer's list of likes is long as a rule. A post whose
    // counter is 0 has no likes (counters always equal their rows,
    // `counters.ts`), so a fresh post costs no read. Bookmarks are few: a
    // page answers them from the viewer's list (`viewer-lists.ts`). The like
    // is awaited as the row itself (null: none). Both are asked before either
    // is awaited. Once the viewer's bookmarks are held that answer is a value
    // and no `Promise.all` is made; else one takes both, failures and all.
    const like =
      post.likes === 0
        ? null
        : ctx.db
            .query("likes")
            .withIndex("by_user_and_post", (q) => q.eq("userId", viewer._id).eq("postId", post._id))
            .first();
    const bookmarked = inViewerList(ctx, load, viewer._id, BOOKMARKS, post._id);
    if (typeof bookmarked === "boolean") {
      isLiked = like !== null && (await like) !== null;
      isBookmarked = bookmarked;
    } else {
      const answers = await Promise.all([like, bookmarked]);
      isLiked = answers[0] !== null;
      isBookmarked = answers[1];
    }
  }
  // One literal with every key in Convex's order (see `viewOf`), rather than `view`
  // completed in place: adding keys to it would grow its storage and put them out of order.
  return {
    _creationTime: view._creationTime,
    _id: view._id,
    author: { _id: author._id, image: author.image, username: author.username },
    caption: view.caption,
    comments: view.comments,
    displayUrl: view.displayUrl,
    height: view.height,
    imageUrl: view.imageUrl,
    isBookmarked,
    isLiked,
    likes: view.likes,
    placeholder: view.placeholder,
    storageId: view.storageId,
    thumbnailUrl: view.thumbnailUrl,
    userId: view.userId,
    width: view.width,
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

/**
 * A comment with its author's name and picture; null when the author is
 * gone or blocked either way with `viewer`.
 */
export async function commentWithUser(
  ctx: QueryCtx,
  comment: Doc<"comments">,
  viewer: Doc<"users"> | null,
  load: DocLoader = docLoader(ctx),
): Promise<CommentWithUser | null> {
  const user = await load("users", comment.userId);
  if (user === null || !(await canSeeUser(ctx, viewer, user._id, load))) return null;
  return withFields(comment, {
    user: { _id: user._id, fullname: user.fullname, username: user.username, image: user.image },
  });
}

/**
 * A notification for `receiver` with its sender, its post (null for follows)
 * and, for comments and mentions in comments, the comment's text. Null when
 * any of those is gone, when either blocked the other, or when the receiver
 * may no longer see the post (its author went private or blocked them).
 */
export async function notificationDetails(
  ctx: QueryCtx,
  receiver: Doc<"users">,
  notification: Doc<"notifications">,
  load: DocLoader = docLoader(ctx),
): Promise<NotificationWithDetails | null> {
  const sender = await load("users", notification.senderId);
  if (sender === null || !(await canSeeUser(ctx, receiver, sender._id, load))) return null;
  let post: PostView | null = null;
  if (notification.postId !== undefined) {
    const row = await load("posts", notification.postId);
    post = row === null ? null : await visiblePostView(ctx, row, receiver, load);
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
  return withFields(notification, {
    sender: { _id: sender._id, username: sender.username, image: sender.image },
    post,
    comment,
  });
}

/**
 * `{ ...row, ...fields }`: a new object, `row`'s own fields and then `fields`. Written
 * with `Object.assign` because the V8 of Node 20 (the self-hosted engine's) adds each
 * property that follows a spread in an object literal through a slow path, ~1 µs each
 * and a new hidden class every time; in a feed of 50 posts that was a tenth of the
 * query's CPU. Same result on every runtime, Convex's cloud included.
 */
function withFields<T extends object, F extends object>(row: T, fields: F): T & F {
  return Object.assign({}, row, fields);
}
