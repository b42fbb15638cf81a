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
}

/** Per scope, per viewer id, per kind of answer: the answers by key. */
const memos = new WeakMap<object, Map<string, Map<string, Map<string, unknown>>>>();

/**
 * `compute()`, remembered under (`viewerId`, `kind`, `key`) for the lifetime
 * of `scope` (a query's `DocLoader`), or computed afresh without a scope.
 * Nested maps rather than one joined key: a page asks this several times per
 * item, and the ids are the same string objects each time, hashed once.
 */
export function remembered<T>(
  scope: object | undefined,
  viewerId: string,
  kind: string,
  key: string,
  compute: () => T,
): T {
  if (scope === undefined) return compute();
  let viewers = memos.get(scope);
  if (viewers === undefined) memos.set(scope, (viewers = new Map()));
  let kinds = viewers.get(viewerId);
  if (kinds === undefined) viewers.set(viewerId, (kinds = new Map()));
  let answers = kinds.get(kind);
  if (answers === undefined) kinds.set(kind, (answers = new Map()));
  if (!answers.has(key)) answers.set(key, compute());
  return answers.get(key) as T;
}

/**
 * Whether `item` is in `viewerId`'s list named `list` (say `by_blocker`).
 * `readList(limit)` returns the list's first `limit` items through an index range;
 * `lookup()` answers for `item` alone with a point read.
 */
export function inViewerList(
  scope: object | undefined,
  viewerId: string,
  list: string,
  item: string,
  readList: (limit: number) => Promise<string[]>,
  lookup: () => Promise<boolean>,
): Promise<boolean> {
  // Not an async function: a page asks this for every item, and an async function costs a
  // promise, a frame and a turn of its own on top of the promise it hands back. `lookup`
  // and `readList` are async (they never throw here), so callers see the same.
  if (scope === undefined) return lookup();
  const state = remembered<ListState>(scope, viewerId, "lists", list, () => ({ asked: 0, members: null }));
  state.asked += 1;
  if (state.asked === 1) return lookup();
  state.members ??= readList(VIEWER_LIST_BOUND + 1).then((items) =>
    items.length > VIEWER_LIST_BOUND ? null : new Set(items),
  );
  return state.members.then((members) => (members === null ? lookup() : members.has(item)));
}
