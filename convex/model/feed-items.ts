import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { BATCH_SIZE } from "../lib/limits";
import { isApprovedFollower } from "./visibility";

/**
 * The following feed is fanned out on write: each user owns one `feedItems`
 * row per post of theirs and of everyone they follow, sorted by the post's
 * creation time, so reading it is one indexed, paginated range. Writes that
 * could be large (a post by someone with many followers, following someone
 * with many posts, unfollowing) run as scheduled batches; every batch
 * re-checks the follow it works for, so overlapping follow/unfollow jobs
 * converge on "items exist exactly for current follows". Until a batch has
 * run the feed lags behind, never ahead: readers also skip items whose post
 * is gone.
 */

/** Puts `post` into `ownerId`'s feed unless it is already there. */
async function addToFeed(ctx: MutationCtx, ownerId: Id<"users">, post: Doc<"posts">): Promise<void> {
  const existing = await ctx.db
    .query("feedItems")
    .withIndex("by_owner_and_post", (q) => q.eq("ownerId", ownerId).eq("postId", post._id))
    .first();
  if (existing === null) await insertItem(ctx, ownerId, post);
}

async function insertItem(ctx: MutationCtx, ownerId: Id<"users">, post: Doc<"posts">): Promise<void> {
  await ctx.db.insert("feedItems", {
    ownerId,
    postId: post._id,
    authorId: post.userId,
    postedAt: post._creationTime,
  });
}

/**
 * A new post: into its author's feed and the first batch of followers' feeds
 * now, into the remaining followers' feeds in scheduled batches.
 */
export async function publishToFeeds(ctx: MutationCtx, post: Doc<"posts">): Promise<void> {
  // The post was made in this transaction, so no feed holds it yet: its
  // first items go in without looking for existing ones.
  const insert = (ownerId: Id<"users">) => insertItem(ctx, ownerId, post);
  await insert(post.userId);
  const next = await fanOutBatch(ctx, post, null, insert);
  if (next !== null) {
    await ctx.scheduler.runAfter(0, internal.feed.fanOutPost, { postId: post._id, cursor: next });
  }
}

/** A new follow: the author's newest posts join the feed now, older ones in batches. */
export async function startBackfill(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  authorId: Id<"users">,
): Promise<void> {
  const next = await backfillStep(ctx, ownerId, authorId, null);
  if (next !== null) {
    await ctx.scheduler.runAfter(0, internal.feed.backfillFollow, { ownerId, authorId, cursor: next });
  }
}

/** An unfollow: the author's posts leave the feed, a batch now, the rest scheduled. */
export async function startPrune(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  authorId: Id<"users">,
): Promise<void> {
  if (await pruneStep(ctx, ownerId, authorId)) {
    await ctx.scheduler.runAfter(0, internal.feed.pruneUnfollow, { ownerId, authorId });
  }
}

/** One scheduled batch of a fan-out: the next followers of the author get the post. */
export async function fanOutStep(
  ctx: MutationCtx,
  postId: Id<"posts">,
  cursor: string | null,
): Promise<string | null> {
  const post = await ctx.db.get("posts", postId);
  if (post === null) return null;
  // A follower who followed since the post was made got it by backfill.
  return await fanOutBatch(ctx, post, cursor, (ownerId) => addToFeed(ctx, ownerId, post));
}

async function fanOutBatch(
  ctx: MutationCtx,
  post: Doc<"posts">,
  cursor: string | null,
  add: (ownerId: Id<"users">) => Promise<void>,
): Promise<string | null> {
  const page = await ctx.db
    .query("follows")
    .withIndex("by_following", (q) => q.eq("followingId", post.userId))
    .paginate({ numItems: BATCH_SIZE, cursor });
  for (const follow of page.page) await add(follow.followerId);
  return page.isDone ? null : page.continueCursor;
}

/** One batch of a backfill: the next (older) posts of a newly followed author. */
export async function backfillStep(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  authorId: Id<"users">,
  cursor: string | null,
): Promise<string | null> {
  if (!(await isApprovedFollower(ctx, ownerId, authorId))) return null;
  const page = await ctx.db
    .query("posts")
    .withIndex("by_user", (q) => q.eq("userId", authorId))
    .order("desc")
    .paginate({ numItems: BATCH_SIZE, cursor });
  for (const post of page.page) await addToFeed(ctx, ownerId, post);
  return page.isDone ? null : page.continueCursor;
}

/** One batch of a prune: removes an unfollowed author's posts from a feed. */
export async function pruneStep(
  ctx: MutationCtx,
  ownerId: Id<"users">,
  authorId: Id<"users">,
): Promise<boolean> {
  // Followed again before this ran: the items are wanted after all.
  if (await isApprovedFollower(ctx, ownerId, authorId)) return false;
  const items = await ctx.db
    .query("feedItems")
    .withIndex("by_owner_and_author", (q) => q.eq("ownerId", ownerId).eq("authorId", authorId))
    .take(BATCH_SIZE);
  for (const item of items) await ctx.db.delete("feedItems", item._id);
  return items.length === BATCH_SIZE;
}
