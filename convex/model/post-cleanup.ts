import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { drain, runPhases, type Phase } from "./batch-phases";

const postPhases: Phase<Id<"posts">>[] = [
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("likes").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("likes", row._id),
    ),
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("comments").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("comments", row._id),
    ),
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("bookmarks").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("bookmarks", row._id),
    ),
  // Covers like, comment and mention notifications: all carry the post id.
  async (ctx, postId, n) =>
    drain(
      await ctx.db
        .query("notifications")
        .withIndex("by_post", (q) => q.eq("postId", postId))
        .take(n),
      n,
      (row) => ctx.db.delete("notifications", row._id),
    ),
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("postTags").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("postTags", row._id),
    ),
  async (ctx, postId, n) =>
    drain(
      await ctx.db.query("feedItems").withIndex("by_post", (q) => q.eq("postId", postId)).take(n),
      n,
      (row) => ctx.db.delete("feedItems", row._id),
    ),
];

/**
 * One batch of removing what pointed at deleted post `postId` (no counters
 * change: the post that counted them is gone). True while rows remain.
 */
export async function postCascadeStep(ctx: MutationCtx, postId: Id<"posts">): Promise<boolean> {
  return await runPhases(ctx, postId, postPhases);
}

