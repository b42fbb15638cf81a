import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { MENTIONS_MAX } from "../lib/limits";
import { notify } from "./notify";

/**
 * Mention notifications: one per mentioned existing account and caption or
 * comment, never for yourself. A caption's mentions are diffed on every edit
 * (a name still mentioned keeps its notification, a removed one loses it, a
 * new one gets one); a comment cannot be edited, and its mentions go with it
 * (`retractComment`). Deleting the post removes them all with its other
 * notifications (`model/post-cleanup.ts`).
 */

/**
 * Whether `sender` may mention `receiver`. The one place the app's
 * visibility rule (blocking) applies to mentions.
 */
async function mayMention(_ctx: QueryCtx, _sender: Doc<"users">, _receiver: Doc<"users">): Promise<boolean> {
  return true;
}

/**
 * The accounts `mentions` (from `checkEntities`) name, each once, that
 * `sender` may mention; at most MENTIONS_MAX lookups of two index reads.
 */
async function mentionedUsers(
  ctx: QueryCtx,
  sender: Doc<"users">,
  mentions: string[][],
): Promise<Doc<"users">[]> {
  const found = new Map<Id<"users">, Doc<"users">>();
  for (const options of mentions.slice(0, MENTIONS_MAX)) {
    for (const username of options) {
      const user = await ctx.db
        .query("users")
        .withIndex("by_username", (q) => q.eq("username", username))
        .unique();
      if (user === null) continue;
      if (await mayMention(ctx, sender, user)) found.set(user._id, user);
      break;
    }
  }
  return [...found.values()];
}

/** Brings the mention notifications of `post`'s caption in line with `mentions`. */
export async function syncCaptionMentions(
  ctx: MutationCtx,
  author: Doc<"users">,
  post: Doc<"posts">,
  mentions: string[][],
): Promise<void> {
  const wanted = new Set((await mentionedUsers(ctx, author, mentions)).map((user) => user._id));
  const existing = await ctx.db
    .query("notifications")
    .withIndex("by_post_type_and_comment", (q) =>
      q.eq("postId", post._id).eq("type", "mention").eq("commentId", undefined),
    )
    .take(MENTIONS_MAX + 1);
  const kept = new Set<Id<"users">>();
  for (const row of existing) {
    if (wanted.has(row.receiverId) && !kept.has(row.receiverId)) kept.add(row.receiverId);
    else await ctx.db.delete("notifications", row._id);
  }
  for (const receiverId of wanted) {
    if (!kept.has(receiverId)) await notify(ctx, author._id, receiverId, { type: "mention", postId: post._id });
  }
}

/**
 * Notifies the accounts a new comment mentions. The post's author is left
 * out: the comment notification already tells them.
 */
export async function notifyCommentMentions(
  ctx: MutationCtx,
  commenter: Doc<"users">,
  post: Doc<"posts">,
  commentId: Id<"comments">,
  mentions: string[][],
): Promise<void> {
  for (const user of await mentionedUsers(ctx, commenter, mentions)) {
    if (user._id === post.userId) continue;
    await notify(ctx, commenter._id, user._id, { type: "mention", postId: post._id, commentId });
  }
}
