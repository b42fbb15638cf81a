import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import type { DocLoader } from "./views";

/**
 * Who may see a post. Every query that returns posts, and every mutation
 * that acts on one, asks here, so one rule holds everywhere.
 *
 * A post whose photo is still being processed is shown to its author only:
 * until then its file is the upload as the phone made it, location and all
 * (`imaging.ts` replaces it with a metadata-free copy).
 */
export async function canSeePost(
  _ctx: QueryCtx,
  viewer: Doc<"users"> | null,
  post: Doc<"posts">,
  author: Doc<"users">,
  _load: DocLoader,
): Promise<boolean> {
  if (viewer !== null && viewer._id === author._id) return true;
  return post.imageState !== "processing";
}
