import { describe, expect, test } from "vitest";
import { RecentCommits } from "../src/runtime/recent-commits";
import type { DocumentWrite } from "../src/store/write-set";
import { encodeDocumentId } from "../src/values/document-id";

// The log behind `/api/query_at_ts` for snapshots nobody holds: a result read at a later
// snapshot stands in for an older one only when no commit between them wrote into what it read.

const LIKES = 10_001;
const POSTS = 10_002;
const likeId = (n: number) => encodeDocumentId(LIKES, new Uint8Array(16).fill(n));
const postId = (n: number) => encodeDocumentId(POSTS, new Uint8Array(16).fill(n));

/** An insert of `id` into `table` (no index keys: the read sets below fetch by id). */
const insert = (table: string, id: string): DocumentWrite => ({ id, table, oldText: null, newText: "{}", keys: [] });
const fetched = (...ids: string[]) => ({ intervals: [], ids });

describe("recent commits", () => {
  test("a write elsewhere in a table does not change a read of one document of it", () => {
    const log = new RecentCommits(() => 0);
    log.add({ ts: 10n, previousTs: 9n, writes: [insert("likes", likeId(1))] });
    log.add({ ts: 11n, previousTs: 10n, writes: [insert("likes", likeId(2))] });
    expect(log.changedSince(10n, 11n, fetched(likeId(3)))).toBe(false);
    expect(log.changedSince(10n, 11n, fetched(likeId(2)))).toBe(true);
    // Before the first logged commit the log cannot tell.
    expect(log.changedSince(8n, 11n, fetched(likeId(3)))).toBe(null);
  });

  test("past its bound of per-document writes, the oldest commits are kept per table and the newest in detail", () => {
    const log = new RecentCommits(() => 0, undefined, 4);
    log.add({ ts: 10n, previousTs: 9n, writes: [insert("likes", likeId(1))] });
    // A bulk commit of three likes and two posts: with the first, five writes, one past the bound.
    log.add({ ts: 11n, previousTs: 10n, writes: [1, 2, 3].map((n) => insert("likes", likeId(10 + n))).concat([insert("posts", postId(1)), insert("posts", postId(2))]) });
    // The first commit is now kept per table: any read of a like counts as changed by it.
    expect(log.changedSince(9n, 10n, fetched(likeId(5)))).toBe(true);
    // ... but not a read of another table, and it still covers its ts.
    expect(log.changedSince(9n, 10n, fetched(postId(7)))).toBe(false);
    // The bulk commit alone is over the bound too: also per table now.
    expect(log.changedSince(10n, 11n, fetched(postId(7)))).toBe(true);
    // A small commit after them keeps its detail.
    log.add({ ts: 12n, previousTs: 11n, writes: [insert("posts", postId(3))] });
    expect(log.changedSince(11n, 12n, fetched(postId(7)))).toBe(false);
    expect(log.changedSince(11n, 12n, fetched(postId(3)))).toBe(true);
  });

  test("commits under the bound all keep their detail", () => {
    const log = new RecentCommits(() => 0, undefined, 4);
    for (let n = 1; n <= 4; n++) log.add({ ts: BigInt(10 + n), previousTs: BigInt(9 + n), writes: [insert("likes", likeId(n))] });
    expect(log.changedSince(10n, 14n, fetched(likeId(9)))).toBe(false);
    // The fifth write puts the oldest commit per table, and only it.
    log.add({ ts: 15n, previousTs: 14n, writes: [insert("likes", likeId(5))] });
    expect(log.changedSince(10n, 11n, fetched(likeId(9)))).toBe(true);
    expect(log.changedSince(11n, 15n, fetched(likeId(9)))).toBe(false);
  });
});
