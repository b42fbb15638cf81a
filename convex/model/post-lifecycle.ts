import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import { bumpUser } from "./counters";
import { publishToFeeds } from "./feed-items";
import { postCascadeStep } from "./post-cleanup";
import { claimUpload } from "./upload-tickets";
import { docLoader, type DocLoader } from "./views";

/**
 * A post someone may interact with: it exists and so does its author (an
 * author being deleted still has posts until the clean-up reaches them;
 * those are hidden and refuse likes, comments and bookmarks).
 */
export async function livePost(
  ctx: QueryCtx,
  postId: Id<"posts">,
  load: DocLoader = docLoader(ctx),
): Promise<Doc<"posts"> | null> {
  const post = await load("posts", postId);
  if (post === null) return null;
  const author = await load("users", post.userId);
  return author === null ? null : post;
}

/** {@link livePost}, or NOT_FOUND. */
export async function requireLivePost(ctx: QueryCtx, postId: Id<"posts">): Promise<Doc<"posts">> {
  const post = await livePost(ctx, postId);
  if (post === null) throw appError("NOT_FOUND", "This post does not exist or was deleted.");
  return post;
}

/** Creates `user`'s post from an upload they made. */
export async function createPost(
  ctx: MutationCtx,
  user: Doc<"users">,
  storageId: Id<"_storage">,
  caption: string | undefined,
): Promise<Id<"posts">> {
  await claimUpload(ctx, user, storageId);
  const imageUrl = await ctx.storage.getUrl(storageId);
  if (imageUrl === null) {
    throw appError("NOT_FOUND", "This upload does not exist or has expired. Upload the image again.");
  }
  const postId = await ctx.db.insert("posts", {
    userId: user._id,
    imageUrl,
    storageId,
    caption,
    likes: 0,
    comments: 0,
  });
  await bumpUser(ctx, user, "posts", 1);
  const post = await ctx.db.get("posts", postId);
  if (post !== null) await publishToFeeds(ctx, post);
  return postId;
}

/**
 * Deletes a post at once, with its image and its author's count; its likes,
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
  if ((await ctx.db.system.get("_storage", post.storageId)) !== null) {
    await ctx.storage.delete(post.storageId);
  }
  await bumpUser(ctx, post.userId, "posts", -1);
  const more = options.cleanupInline ? await postCascadeStep(ctx, post._id) : true;
  if (more) await ctx.scheduler.runAfter(0, internal.cascades.deletePostBatch, { postId: post._id });
}
