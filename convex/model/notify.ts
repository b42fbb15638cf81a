import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

/**
 * Notification rules: never for your own actions, never to an account that
 * is gone, at most one per like (sender, post) and per follow (sender,
 * receiver), and removed when the like, follow or comment is undone.
 */

type Target =
  | { type: "like"; postId: Id<"posts"> }
  | { type: "follow" }
  | { type: "comment"; postId: Id<"posts">; commentId: Id<"comments"> };

/** Records that `senderId` did something `receiverId` should hear about. */
export async function notify(
  ctx: MutationCtx,
  senderId: Id<"users">,
  receiverId: Id<"users">,
  target: Target,
): Promise<void> {
  if (senderId === receiverId) return;
  if ((await ctx.db.get("users", receiverId)) === null) return;
  const postId = target.type === "follow" ? undefined : target.postId;
  if (target.type !== "comment") {
    const existing = await findLikeOrFollow(ctx, senderId, receiverId, target.type, postId);
    if (existing !== null) return;
  }
  await ctx.db.insert("notifications", {
    receiverId,
    senderId,
    type: target.type,
    postId,
    commentId: target.type === "comment" ? target.commentId : undefined,
    read: false,
  });
}

/** Removes the notification of a like or follow that was just undone. */
export async function retractLikeOrFollow(
  ctx: MutationCtx,
  senderId: Id<"users">,
  receiverId: Id<"users">,
  type: "like" | "follow",
  postId?: Id<"posts">,
): Promise<void> {
  const existing = await findLikeOrFollow(ctx, senderId, receiverId, type, postId);
  if (existing !== null) await ctx.db.delete("notifications", existing);
}

/** Removes the notification of a deleted comment. */
export async function retractComment(ctx: MutationCtx, commentId: Id<"comments">): Promise<void> {
  const rows = await ctx.db
    .query("notifications")
    .withIndex("by_comment", (q) => q.eq("commentId", commentId))
    .take(10);
  for (const row of rows) await ctx.db.delete("notifications", row._id);
}

async function findLikeOrFollow(
  ctx: MutationCtx,
  senderId: Id<"users">,
  receiverId: Id<"users">,
  type: "like" | "follow",
  postId: Id<"posts"> | undefined,
): Promise<Id<"notifications"> | null> {
  const row = await ctx.db
    .query("notifications")
    .withIndex("by_sender_and_target", (q) =>
      q.eq("senderId", senderId).eq("receiverId", receiverId).eq("type", type).eq("postId", postId),
    )
    .first();
  return row?._id ?? null;
}
