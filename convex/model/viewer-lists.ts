import type { Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { VIEWER_LIST_BOUND } from "../lib/limits";

/**
 * "Is this user / post in one of the viewer's lists?" (blocks the viewer made, blocks
 * against the viewer, the viewer's bookmarks), asked by a list query once per item on its
 * page. Such lists are usually short, so instead of one point read per item the query reads
 * the whole list once, as one bounded index range, and answers every later item from memory.
 *
 * Exactness: the range read stops after VIEWER_LIST_BOUND + 1 rows. When it returned at most
 * VIEWER_LIST_BOUND rows it saw the whole list (and its read set covers the whole range, so
 * a new row in the list re-runs a subscribed query, and rows of other users' lists do not);
 * when it returned more, the list is too long to hold and each item falls back to its own
 * point read. Either way the answer is the one the point read would give.
 *
 * Cost: the first item asked in a scope is answered by its point read (a query about one
 * post or one user costs what it did); the list is read once a second, different item is
 * asked. Answers live as long as the scope (a query's `DocLoader`), which only queries
 * share: a mutation that writes these lists must not reuse a scope across its writes.
 */

/** One list of one scope: how many items were asked, and the list once read. */
interface ListState {
  asked: number;
  members: Promise<ReadonlySet<string> | null> | null;
  /** What `members` settled to (null: too long to hold), so later items are answered at once; undefined until then. */
  held: ReadonlySet<string> | null | undefined;
}

/** Per scope, per viewer id, per kind of answer: the answers by key. */
const memos = new WeakMap<object, Map<string, Map<string, Map<string, unknown>>>>();

/**
 * The answers remembered under (`viewerId`, `kind`) for the lifetime of `scope` (a query's
 * `DocLoader`), by key. Nested maps rather than one joined key: a page asks this several
 * times per item, and the ids are the same string objects each time, hashed once.
 */
export function answersOf(scope: object, viewerId: string, kind: string): Map<string, unknown> {
  let viewers = memos.get(scope);
  if (viewers === undefined) memos.set(scope, (viewers = new Map()));
  let kinds = viewers.get(viewerId);
  if (kinds === undefined) viewers.set(viewerId, (kinds = new Map()));
  let answers = kinds.get(kind);
  if (answers === undefined) kinds.set(kind, (answers = new Map()));
  return answers;
}

/**
 * One kind of list: its name (the key its state is kept under) and how a query reads it.
 * Lists are module constants whose functions take the query's `ctx` and ids as arguments,
 * so asking about an item makes no closures (a page asks for every item).
 */
export interface ViewerList<C, V extends string, I extends string> {
  name: string;
  /** The first `limit` items of `viewerId`'s list, through an index range. */
  read(ctx: C, viewerId: V, limit: number): Promise<I[]>;
  /** Whether `item` is in `viewerId`'s list, by a point read. */
  lookup(ctx: C, viewerId: V, item: I): Promise<boolean>;
}

/**
 * Whether `item` is in `viewerId`'s `list`: the answer itself once the list is held, else
 * its promise. Not an async function: a page asks this for every item, and an async
 * function costs a promise, a frame and a turn of its own on top of the answer. The list's
 * `read` and `lookup` are async (they never throw here), and callers await the answer.
 */
export function inViewerList<C, V extends string, I extends string>(
  ctx: C,
  scope: object | undefined,
  viewerId: V,
  list: ViewerList<C, V, I>,
  item: I,
): boolean | Promise<boolean> {
  if (scope === undefined) return list.lookup(ctx, viewerId, item);
  const lists = answersOf(scope, viewerId, "lists");
  let state = lists.get(list.name) as ListState | undefined;
  if (state === undefined) lists.set(list.name, (state = { asked: 0, members: null, held: undefined }));
  state.asked += 1;
  if (state.asked === 1) return list.lookup(ctx, viewerId, item);
  // The same answers as waiting for `members`, with the same reads: a held list answers
  // from memory, one too long to hold by the item's point read.
  if (state.held !== undefined) return state.held === null ? list.lookup(ctx, viewerId, item) : state.held.has(item);
  const held = state;
  held.members ??= list.read(ctx, viewerId, VIEWER_LIST_BOUND + 1).then((items) =>
    (held.held = items.length > VIEWER_LIST_BOUND ? null : new Set<string>(items)),
  );
  return held.members.then((members) => (members === null ? list.lookup(ctx, viewerId, item) : members.has(item)));
}

/** The posts `viewerId` bookmarked. */
export const BOOKMARKS: ViewerList<QueryCtx, Id<"users">, Id<"posts">> = {
  name: "bookmarks",
  async read(ctx, viewerId, limit) {
    const rows = await ctx.db
      .query("bookmarks")
      .withIndex("by_user", (q) => q.eq("userId", viewerId))
      .take(limit);
    return rows.map((row) => row.postId);
  },
  async lookup(ctx, viewerId, postId) {
    const row = await ctx.db
      .query("bookmarks")
      .withIndex("by_user_and_post", (q) => q.eq("userId", viewerId).eq("postId", postId))
      .first();
    return row !== null;
  },
};
