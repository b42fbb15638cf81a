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
 * Whether `item` is in `viewerId`'s list named `list` (say `by_blocker`): the answer
 * itself once the list is held, else its promise. `readList(limit)` returns the list's
 * first `limit` items through an index range; `lookup()` answers for `item` alone with a
 * point read. Not an async function: a page asks this for every item, and an async
 * function costs a promise, a frame and a turn of its own on top of the answer. `lookup`
 * and `readList` are async (they never throw here), and callers await the answer.
 */
export function inViewerList(
  scope: object | undefined,
  viewerId: string,
  list: string,
  item: string,
  readList: (limit: number) => Promise<string[]>,
  lookup: () => Promise<boolean>,
): boolean | Promise<boolean> {
  if (scope === undefined) return lookup();
  const lists = answersOf(scope, viewerId, "lists");
  let state = lists.get(list) as ListState | undefined;
  if (state === undefined) lists.set(list, (state = { asked: 0, members: null, held: undefined }));
  state.asked += 1;
  if (state.asked === 1) return lookup();
  // The same answers as waiting for `members`, with the same reads: a held list answers
  // from memory, one too long to hold by the item's point read.
  if (state.held !== undefined) return state.held === null ? lookup() : state.held.has(item);
  const held = state;
  held.members ??= readList(VIEWER_LIST_BOUND + 1).then((items) =>
    (held.held = items.length > VIEWER_LIST_BOUND ? null : new Set(items)),
  );
  return held.members.then((members) => (members === null ? lookup() : members.has(item)));
}
