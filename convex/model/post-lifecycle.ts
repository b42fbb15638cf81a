import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { bumpUser } from "./counters";
import { publishToFeeds } from "./feed-items";
import { postCascadeStep } from "./post-cleanup";
import { claimUpload } from "./upload-tickets";
import { docLoader, type DocLoader } from "./views";
import { canSeePost } from "./visibility";

/**
 * A post `viewer` may see and interact with: it exists, so does its author
 * (an author being deleted still has posts until the clean-up reaches them;
 * those are hidden and refuse likes, comments and bookmarks), and the
 * visibility rules (`visibility.ts`) show it to the viewer.
 */
export async function visiblePost(
  ctx: QueryCtx,
  viewer: Doc<"users"> | null,
  postId: Id<"posts">,
  load: DocLoader = docLoader(ctx),
): Promise<Doc<"posts"> | null> {
  const post = await load("posts", postId);
  if (post === null) return null;
  const author = await load("users", post.userId);
  if (author === null || !(await canSeePost(ctx, viewer, post, author, load))) return null;
  return post;
}

/**
 * {@link visiblePost}, or NOT_FOUND: a post the caller may not see is
 * answered exactly like one that does not exist.
 */
export async function requireVisiblePost(
  ctx: QueryCtx,
  viewer: Doc<"users">,
  postId: Id<"posts">,
): Promise<Doc<"posts">> {
  const post = await visiblePost(ctx, viewer, postId);
  if (post === null) throw appError("NOT_FOUND", "This post does not exist or was deleted.");
  return post;
}

/**
 * Creates `user`'s post from an upload they made. The post stores the file's
 * id, never its URL (URLs are made at read time). Its photo is processed in
 * the background (`imaging.processPostImage`); until then only its author
 * sees the post.
 */
export async function createPost(
  ctx: MutationCtx,
  user: Doc<"users">,
  storageId: Id<"_storage">,
  caption: string | undefined,
): Promise<Id<"posts">> {
  await claimUpload(ctx, user, storageId);
  const postId = await ctx.db.insert("posts", {
    userId: user._id,
    storageId,
    caption,
    likes: 0,
    comments: 0,
    imageState: "processing",
  });
  await bumpUser(ctx, user, "posts", 1);
  const post = await ctx.db.get("posts", postId);
  if (post !== null) await publishToFeeds(ctx, post);
  await ctx.scheduler.runAfter(0, internal.imaging.processPostImage, { postId });
  return postId;
}

/** Every file of a post: the photo and, once processed, its variants. */
export function postFiles(post: Doc<"posts">): Id<"_storage">[] {
  return [post.storageId, post.displayId, post.thumbnailId].filter((id) => id !== undefined);
}

/** Deletes the files among `ids` that still exist. */
export async function deleteFiles(ctx: MutationCtx, ids: Id<"_storage">[]): Promise<void> {
  for (const id of ids) {
    if ((await ctx.db.system.get("_storage", id)) !== null) await ctx.storage.delete(id);
  }
}

/**
 * Deletes a post at once, with its photo, the photo's variants and its
 * author's count; its likes,
 * comments, bookmarks, notifications and feed entries follow in batches
 * (readers already skip rows whose post is gone). With `cleanupInline` the
 * first batch runs in this transaction, so a typical post is fully gone when
 * the mutation returns; an account deletion removing many posts per batch
 * passes false and leaves every post's clean-up to the scheduler.
 */
export async function removePost(
  ctx: MutationCtx,
  post: Doc<"posts">,
  options: { cleanupInline: boolean },
): Promise<void> {
  await ctx.db.delete("posts", post._id);
  await deleteFiles(ctx, postFiles(post));
  await bumpUser(ctx, post.userId, "posts", -1);
  const more = options.cleanupInline ? await postCascadeStep(ctx, post._id) : true;
  if (more) await ctx.scheduler.runAfter(0, internal.cascades.deletePostBatch, { postId: post._id });
}
