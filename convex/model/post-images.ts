import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { deleteFiles, removePost } from "./post-lifecycle";

/**
 * Recording the outcome of a post's photo processing (`imaging.ts`). The
 * action ran outside any transaction, so the post may have been deleted, or
 * processed by another run, meanwhile: a result counts only while the post
 * still shows the file that was processed (`sourceId`) and is not yet ready.
 */

/** The processed files and values of one photo. */
export type ProcessedImage = {
  original: Id<"_storage">;
  display: Id<"_storage">;
  thumbnail: Id<"_storage">;
  width: number;
  height: number;
  placeholder: string;
};

/** Whether `post` still waits for the processing of `sourceId`. */
function awaits(post: Doc<"posts"> | null, sourceId: Id<"_storage">): post is Doc<"posts"> {
  return post !== null && post.imageState !== "ready" && post.storageId === sourceId;
}

/**
 * Puts the processed files on the post and deletes the upload they were made
 * from (the only file that may carry metadata). A stale result deletes its
 * own files instead. True when recorded.
 */
export async function applyProcessedImage(
  ctx: MutationCtx,
  postId: Id<"posts">,
  sourceId: Id<"_storage">,
  image: ProcessedImage,
): Promise<boolean> {
  const post = await ctx.db.get("posts", postId);
  if (!awaits(post, sourceId)) {
    await deleteFiles(ctx, [image.original, image.display, image.thumbnail]);
    return false;
  }
  await ctx.db.patch("posts", postId, {
    storageId: image.original,
    displayId: image.display,
    thumbnailId: image.thumbnail,
    width: image.width,
    height: image.height,
    placeholder: image.placeholder,
    imageState: "ready",
  });
  await deleteFiles(ctx, [sourceId]);
  return true;
}

/**
 * A photo that cannot be processed: the post goes, with its files and
 * everything that pointed at it, and its author gets a `post_rejected`
 * notification that says why. True when the post was removed.
 */
export async function rejectPostImage(
  ctx: MutationCtx,
  postId: Id<"posts">,
  sourceId: Id<"_storage">,
  message: string,
): Promise<boolean> {
  const post = await ctx.db.get("posts", postId);
  if (!awaits(post, sourceId)) return false;
  await removePost(ctx, post, { cleanupInline: true });
  // The one notification a user sends themselves: it is the system speaking.
  await ctx.db.insert("notifications", {
    receiverId: post.userId,
    senderId: post.userId,
    type: "post_rejected",
    message,
    read: false,
  });
  return true;
}
