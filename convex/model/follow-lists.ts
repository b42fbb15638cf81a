import type { PaginationOptions, PaginationResult } from "convex/server";
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { boundedPage, emptyPage, mapPage } from "../lib/pagination";
import type { FollowRequestView, UserSummary } from "../lib/validators";
import { docLoader, visibleSummaryOf } from "./views";
import { canSeeContentOf } from "./visibility";

/**
 * The paginated lists of the follow graph, newest first, as `viewer` may
 * see them (`visibility.ts`): a private account's lists only for its
 * approved followers and itself, and never an account blocked either way
 * with the viewer.
 */

/** Who follows `userId` ("followers") or whom `userId` follows ("following"). */
export async function followListPage(
  ctx: QueryCtx,
  viewer: Doc<"users"> | null,
  userId: Id<"users">,
  side: "followers" | "following",
  opts: PaginationOptions,
): Promise<PaginationResult<UserSummary>> {
  const load = docLoader(ctx);
  const user = await load("users", userId);
  if (user === null || !(await canSeeContentOf(ctx, viewer, user, load))) return emptyPage();
  const rows = await (side === "followers"
    ? ctx.db.query("follows").withIndex("by_following", (q) => q.eq("followingId", userId))
    : ctx.db.query("follows").withIndex("by_follower", (q) => q.eq("followerId", userId))
  )
    .order("desc")
    .paginate(boundedPage(opts));
  return await mapPage(rows, (row) =>
    visibleSummaryOf(ctx, viewer, side === "followers" ? row.followerId : row.followingId, load),
  );
}

/** The pending requests to follow `me`, each with who asked. */
export async function followRequestPage(
  ctx: QueryCtx,
  me: Doc<"users">,
  opts: PaginationOptions,
): Promise<PaginationResult<FollowRequestView>> {
  const load = docLoader(ctx);
  const rows = await ctx.db
    .query("followRequests")
    .withIndex("by_target", (q) => q.eq("targetId", me._id))
    .order("desc")
    .paginate(boundedPage(opts));
  return await mapPage(rows, async (row) => {
    const user = await visibleSummaryOf(ctx, me, row.requesterId, load);
    return user === null ? null : { _id: row._id, _creationTime: row._creationTime, user };
  });
}
