import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { HASHTAGS_MAX } from "../lib/limits";

/**
 * Makes `post`'s rows in `postTags` equal `tags` (its caption's hashtags):
 * a tag kept by an edit keeps its row, so nothing moves on its page. A post
 * holds at most HASHTAGS_MAX tags (the caption check refuses more), so one
 * bounded read sees them all. Deletion removes the rows with the post's
 * other rows (`model/post-cleanup.ts`).
 */
export async function syncPostTags(ctx: MutationCtx, post: Doc<"posts">, tags: string[]): Promise<void> {
  const existing = await ctx.db
    .query("postTags")
    .withIndex("by_post", (q) => q.eq("postId", post._id))
    .take(HASHTAGS_MAX + 1);
  const wanted = new Set(tags);
  const kept = new Set<string>();
  for (const row of existing) {
    if (wanted.has(row.tag) && !kept.has(row.tag)) kept.add(row.tag);
    else await ctx.db.delete("postTags", row._id);
  }
  for (const tag of tags) {
    if (!kept.has(tag)) await ctx.db.insert("postTags", { tag, postId: post._id, postedAt: post._creationTime });
  }
}
