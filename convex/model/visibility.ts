import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { answersOf, inViewerList, type ViewerList } from "./viewer-lists";

/**
 * Who may see whom: the one place the app decides it. Every query that
 * returns posts or users, and every mutation that acts on another user or
 * their post, asks here, so one rule holds everywhere.
 *
 * The rules:
 * - Blocking (`blocks`) works both ways: when either user blocked the
 *   other, neither sees the other's profile, posts or entries in any list
 *   (followers, likers, comments, notifications, search results), and
 *   neither can follow, like, comment on or mention the other. Queries
 *   answer as if the other account did not exist, so the blocked user is
 *   not told.
 * - A private account (`users.isPrivate`) shows its posts, their likers
 *   and comments, and its follower and following lists only to itself and
 *   its approved followers (a `follows` row; a pending request is not
 *   enough). Its profile (name, picture, bio, counters) stays visible, so
 *   others can ask to follow.
 * - A post whose photo is still being processed is shown to its author
 *   only: until then its file is the upload as the phone made it, location
 *   and all (`imaging.ts` replaces it with a metadata-free copy).
 *
 * How to use it:
 * - One-off checks: `await canSeeUser(ctx, viewer, userId)` (may `userId`
 *   appear to `viewer` at all: search results, mention targets, list
 *   entries), `await canSeeContentOf(ctx, viewer, author)` (may `viewer` see
 *   `author`'s posts and lists), `await canSeePost(ctx, viewer, post,
 *   author)`, `await isBlockedBetween(ctx, a, b)` (for mutations: refuse
 *   with NOT_FOUND, as if the other did not exist).
 * - In a list query, pass the query's `DocLoader` (`model/views.ts`) as the
 *   last argument: answers are then remembered per viewer and user for that
 *   loader, so a page of 100 posts by 3 authors costs a handful of reads.
 *   Only queries share a loader; a mutation that writes blocks or follows
 *   must not reuse one across its writes (it would see stale answers).
 * - `viewer` is the caller's user document (`getViewer`/`requireUser`), or
 *   null for a signed-out caller, who sees public accounts only.
 *
 * Every read goes through an index. One-off checks make at most three point
 * reads per (viewer, user) pair (`blocks.by_both` both ways, then
 * `follows.by_both` for a private account). A list query reads the viewer's
 * two block lists once instead (`blocks.by_blocker`, `blocks.by_blocked`;
 * see `isBlockedWithViewer`). Follows stay point reads per private author:
 * a viewer's follow list is long as a rule (reading it would cost more than
 * the few private authors on a page, and would re-run the page on every
 * follow the viewer makes), and only private authors need the check.
 */

/*
 * `canSeePost`, `canSeeContentOf` and `isBlockedWithViewer` hand back the remembered
 * answer, or its promise while it is being worked out, instead of being `async` functions
 * that await it: a feed page asks them for every post, and each async function costs its
 * own promise, frame and turn (measured: the feed query's allocations per run, see the
 * commits). Nothing in them throws, and their callers await them, so callers see the same.
 * An answer is remembered as a value when it is known at once (the viewer's block lists
 * held already, `viewer-lists.ts`), else as its promise.
 */

/** What a memo is attached to: a query's `DocLoader`, or nothing. */
type MemoScope = object | undefined;

/** Whether `blockerId` blocked `blockedId` (one direction). */
export async function hasBlocked(
  ctx: QueryCtx,
  blockerId: Id<"users">,
  blockedId: Id<"users">,
): Promise<boolean> {
  const row = await ctx.db
    .query("blocks")
    .withIndex("by_both", (q) => q.eq("blockerId", blockerId).eq("blockedId", blockedId))
    .first();
  return row !== null;
}

/** Whether either of two users blocked the other (two point reads). */
export async function isBlockedBetween(ctx: QueryCtx, a: Id<"users">, b: Id<"users">): Promise<boolean> {
  if (a === b) return false;
  const [ab, ba] = await Promise.all([hasBlocked(ctx, a, b), hasBlocked(ctx, b, a)]);
  return ab || ba;
}

/**
 * {@link isBlockedBetween} for `viewerId` and each user a list query shows:
 * remembered per pair for `scope`, and answered from the viewer's own two
 * block lists (blocks they made, blocks against them) read once per scope
 * while each is at most VIEWER_LIST_BOUND long (`viewer-lists.ts`), so a page
 * by 50 authors costs two short range reads instead of 100 point reads, and
 * its read set covers exactly the blocks that decide it: a new block made by
 * or against the viewer re-runs the page, anyone else's does not.
 */
function isBlockedWithViewer(
  ctx: QueryCtx,
  viewerId: Id<"users">,
  userId: Id<"users">,
  scope: MemoScope,
): boolean | Promise<boolean> {
  if (viewerId === userId) return false;
  const answers = scope === undefined ? undefined : answersOf(scope, viewerId, "blocked");
  let answer = answers?.get(userId) as boolean | Promise<boolean> | undefined;
  if (answer === undefined) {
    const byViewer = inBlockList(ctx, scope, "by_blocker", viewerId, userId);
    const against = inBlockList(ctx, scope, "by_blocked", viewerId, userId);
    answer =
      typeof byViewer === "boolean" && typeof against === "boolean"
        ? byViewer || against
        : // Indexed rather than destructured: destructuring walks the array with an iterator.
          Promise.all([byViewer, against]).then((both) => both[0] || both[1]);
    answers?.set(userId, answer);
  }
  return answer;
}

/**
 * Whether `userId` is in one of `viewerId`'s block lists: the users the
 * viewer blocked (`by_blocker`) or the users who blocked the viewer
 * (`by_blocked`).
 */
function inBlockList(
  ctx: QueryCtx,
  scope: MemoScope,
  index: "by_blocker" | "by_blocked",
  viewerId: Id<"users">,
  userId: Id<"users">,
): boolean | Promise<boolean> {
  return inViewerList(ctx, scope, viewerId, index === "by_blocker" ? BLOCKED_BY_VIEWER : BLOCKING_VIEWER, userId);
}

/** The users `viewerId` blocked. */
const BLOCKED_BY_VIEWER: ViewerList<QueryCtx, Id<"users">, Id<"users">> = {
  name: "by_blocker",
  async read(ctx, viewerId, limit) {
    const rows = await ctx.db
      .query("blocks")
      .withIndex("by_blocker", (q) => q.eq("blockerId", viewerId))
      .take(limit);
    return rows.map((row) => row.blockedId);
  },
  lookup: (ctx, viewerId, userId) => hasBlocked(ctx, viewerId, userId),
};

/** The users who blocked `viewerId`. */
const BLOCKING_VIEWER: ViewerList<QueryCtx, Id<"users">, Id<"users">> = {
  name: "by_blocked",
  async read(ctx, viewerId, limit) {
    const rows = await ctx.db
      .query("blocks")
      .withIndex("by_blocked", (q) => q.eq("blockedId", viewerId))
      .take(limit);
    return rows.map((row) => row.blockerId);
  },
  lookup: (ctx, viewerId, userId) => hasBlocked(ctx, userId, viewerId),
};

/** Whether `followerId` is an approved follower of `userId`. */
export async function isApprovedFollower(
  ctx: QueryCtx,
  followerId: Id<"users">,
  userId: Id<"users">,
): Promise<boolean> {
  const row = await ctx.db
    .query("follows")
    .withIndex("by_both", (q) => q.eq("followerId", followerId).eq("followingId", userId))
    .first();
  return row !== null;
}

/**
 * Whether user `userId` may appear to `viewer` at all (profile, list
 * entries, search results, mentions): false when either blocked the other.
 * Privacy does not hide a user, only their content.
 */
export async function canSeeUser(
  ctx: QueryCtx,
  viewer: Doc<"users"> | null,
  userId: Id<"users">,
  scope?: MemoScope,
): Promise<boolean> {
  if (viewer === null || viewer._id === userId) return true;
  return !(await isBlockedWithViewer(ctx, viewer._id, userId, scope));
}

/**
 * Whether `viewer` may see `author`'s content: posts, the likers and
 * comments of those posts, and the author's follower and following lists.
 */
export function canSeeContentOf(
  ctx: QueryCtx,
  viewer: Doc<"users"> | null,
  author: Doc<"users">,
  scope?: MemoScope,
): boolean | Promise<boolean> {
  if (viewer === null) return author.isPrivate !== true;
  if (viewer._id === author._id) return true;
  const isPrivate = author.isPrivate === true;
  const answers = scope === undefined ? undefined : answersOf(scope, viewer._id, isPrivate ? "content (private)" : "content (public)");
  let answer = answers?.get(author._id) as boolean | Promise<boolean> | undefined;
  if (answer === undefined) {
    // Follows are read only once the blocks said no, as ever.
    const visibleUnblocked = (blocked: boolean) =>
      blocked ? false : !isPrivate || isApprovedFollower(ctx, viewer._id, author._id);
    const blocked = isBlockedWithViewer(ctx, viewer._id, author._id, scope);
    answer = typeof blocked === "boolean" ? visibleUnblocked(blocked) : blocked.then(visibleUnblocked);
    answers?.set(author._id, answer);
  }
  return answer;
}

/** Whether `viewer` may see `post` by `author` (its author document). */
export function canSeePost(
  ctx: QueryCtx,
  viewer: Doc<"users"> | null,
  post: Doc<"posts">,
  author: Doc<"users">,
  scope?: MemoScope,
): boolean | Promise<boolean> {
  if (viewer !== null && viewer._id === author._id) return true;
  if (post.imageState === "processing") return false;
  return canSeeContentOf(ctx, viewer, author, scope);
}
