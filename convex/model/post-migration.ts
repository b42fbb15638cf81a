import { internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

/**
 * A post "processing" for longer than this is taken to be stuck (its action
 * failed or its engine stopped mid-way) and is processed again. Processing a
 * post twice is harmless: only the first result is recorded.
 */
const STUCK_AFTER_MS = 10 * 60 * 1000;

/** What one batch of `migrations.derivePostImages` did. */
export type PostBatch = {
  examined: number;
  urlsRemoved: number;
  processingScheduled: number;
  /** Where the next batch starts; null when every post was examined. */
  next: string | null;
};

/** One batch of the post migration, `size` posts in creation order from `cursor`. */
export async function migratePostBatch(
  ctx: MutationCtx,
  cursor: string | null,
  size: number,
): Promise<PostBatch> {
  const page = await ctx.db
    .query("posts")
    .withIndex("by_creation_time")
    .paginate({ numItems: size, cursor });
  let urlsRemoved = 0;
  let processingScheduled = 0;
  for (const post of page.page) {
    const process = needsProcessing(post);
    if (post.imageUrl !== undefined || (process && post.imageState === undefined)) {
      // An unprocessed photo may carry its location: like a new post's, it
      // is shown to its author only until processing has cleaned it.
      await ctx.db.patch("posts", post._id, {
        imageUrl: undefined,
        ...(process ? { imageState: "processing" as const } : {}),
      });
      if (post.imageUrl !== undefined) urlsRemoved += 1;
    }
    if (process) {
      await ctx.scheduler.runAfter(0, internal.imaging.processPostImage, { postId: post._id });
      processingScheduled += 1;
    }
  }
  return {
    examined: page.page.length,
    urlsRemoved,
    processingScheduled,
    next: page.isDone ? null : page.continueCursor,
  };
}

function needsProcessing(post: Doc<"posts">): boolean {
  if (post.imageState === "ready") return false;
  if (post.imageState === undefined) return true;
  return post._creationTime < Date.now() - STUCK_AFTER_MS;
}
