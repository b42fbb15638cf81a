import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import type { TextEntities } from "../lib/text-entities";
import { syncCaptionMentions } from "./mentions";
import { syncPostTags } from "./post-tags";

/**
 * Applies a caption's hashtags (tag pages) and mentions (notifications) to
 * post `postId`, after it was created or its caption edited, in the same
 * transaction, so tag pages and notifications never disagree with the
 * caption. `entities` come from `checkEntities`, checked before any write.
 */
export async function indexCaption(
  ctx: MutationCtx,
  author: Doc<"users">,
  postId: Id<"posts">,
  entities: TextEntities,
): Promise<void> {
  const post = await ctx.db.get("posts", postId);
  if (post === null) return;
  await syncPostTags(ctx, post, entities.hashtags);
  await syncCaptionMentions(ctx, author, post, entities.mentions);
}
