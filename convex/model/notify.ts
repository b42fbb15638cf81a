import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { MENTIONS_MAX } from "../lib/limits";

/**
 * Notification rules: never for your own actions, never to an account that
 * is gone, at most one per like (sender, post) and per follow (sender,
 * receiver), and removed when the like, follow or comment is undone.
 * Mentions keep their own rules (`model/mentions.ts`).
 */

type Target =
  | { type: "like"; postId: Id<"posts"> }
  | { type: "follow" }
  | { type: "comment"; postId: Id<"posts">; commentId: Id<"comments"> }
  | { type: "mention"; postId: Id<"posts">; commentId?: Id<"comments"> };

/**
 * Records that `senderId` did something `receiverId` should hear about. The
 * caller has just created the like, follow or comment (a like or follow only
 * when none existed, and its notification lives and dies with it, so there is
 * none to duplicate) and has loaded the receiver in this transaction (the
 * post's live author, the followed user), so nothing is read here.
 */
export async function notify(
  ctx: MutationCtx,
  senderId: Id<"users">,
  receiverId: Id<"users">,
  target: Target,
): Promise<void> {
  if (senderId === receiverId) return;
  await ctx.db.insert("notifications", { receiverId, senderId, ...target, read: false });
}

/** Removes the notification of a like or follow that was just undone. */
export async function retractLikeOrFollow(
  ctx: MutationCtx,
  senderId: Id<"users">,
  receiverId: Id<"users">,
  type: "like" | "follow",
  postId?: Id<"posts">,
): Promise<void> {
  const existing = await ctx.db
    .query("notifications")
    .withIndex("by_sender_and_target", (q) =>
      q.eq("senderId", senderId).eq("receiverId", receiverId).eq("type", type).eq("postId", postId),
    )
    .first();
  if (existing !== null) await ctx.db.delete("notifications", existing._id);
}

/** Removes the notifications of a deleted comment (its own and its mentions'). */
export async function retractComment(ctx: MutationCtx, commentId: Id<"comments">): Promise<void> {
  const rows = await ctx.db
    .query("notifications")
    .withIndex("by_comment", (q) => q.eq("commentId", commentId))
    .take(MENTIONS_MAX + 1);
  for (const row of rows) await ctx.db.delete("notifications", row._id);
}
