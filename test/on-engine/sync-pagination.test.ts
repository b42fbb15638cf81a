import type { ConvexClient } from "convex/browser";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { startInstagramSync, type InstagramSync } from "./sync-support/instagram-engine";
import { liveQuery } from "../../packages/engine/test/sync-support/live-query";
import { openRawSync } from "../../packages/engine/test/sync-support/raw-sync-client";

/**
 * Reactive pagination over the socket (convex-interface.md §4.4): the
 * official client's paginated-query support (the logic `usePaginatedQuery`
 * uses) subscribes one query per page; each page's journal pins its end, so
 * while posts are added and deleted the pages grow and shrink, and the
 * concatenation never shows a gap, a duplicate or a loop — also across a
 * reconnect, where the client sends the journals back.
 */

type FeedPage = { results: { _id: string; _creationTime: number }[]; status: string; loadMore: (n: number) => boolean };

let cutNextFrame = false;
let app: InstagramSync;
let alice: Id<"users">;

beforeAll(async () => {
  app = await startInstagramSync({
    sync: {
      beforeSend(_frame, connection) {
        if (!cutNextFrame) return;
        cutNextFrame = false;
        connection.terminate();
      },
    },
  });
  alice = (await app.createUser("alice")) as Id<"users">;
  await app.createUser("bob");
});
afterAll(async () => {
  await app?.close();
});

/** Follows a paginated subscription and checks every delivered state for duplicates and order. */
function paginatedFeed(client: ConvexClient) {
  const states: FeedPage[] = [];
  const problems: string[] = [];
  let waiters: { test: (s: FeedPage) => boolean; resolve: (s: FeedPage) => void }[] = [];
  // The experimental API's types ask for the page arguments too; at run time it adds `paginationOpts` itself.
  const subscribe = client.onPaginatedUpdate_experimental as unknown as (
    query: typeof api.posts.getGlobalFeed,
    args: Record<string, never>,
    options: { initialNumItems: number },
    callback: (state: FeedPage) => void,
  ) => void;
  subscribe.call(client, api.posts.getGlobalFeed, {}, { initialNumItems: 3 }, (state: FeedPage) => {
    states.push(state);
    const ids = state.results.map((p) => p._id);
    if (new Set(ids).size !== ids.length) problems.push(`duplicates in ${ids.join(",")}`);
    for (let i = 1; i < state.results.length; i++) {
      if (state.results[i - 1]!._creationTime <= state.results[i]!._creationTime) problems.push(`out of order at ${i}`);
    }
    const ready = waiters.filter((w) => w.test(state));
    waiters = waiters.filter((w) => !w.test(state));
    for (const w of ready) w.resolve(state);
  });
  return {
    states,
    problems,
    latest: () => states[states.length - 1]!,
    until(test: (s: FeedPage) => boolean): Promise<FeedPage> {
      const last = states[states.length - 1];
      if (last !== undefined && test(last)) return Promise.resolve(last);
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
  };
}

const idsOf = (state: FeedPage) => state.results.map((p) => p._id);

describe("paginated feed over WebSocket", () => {
  test("pages grow and shrink without gaps, duplicates or loops while posts come and go", async () => {
    const posts: string[] = [];
    for (let i = 1; i <= 7; i++) posts.push(await app.seedPost(alice, `post ${i}`));
    const live = new Set(posts);
    const expected = () => [...posts].reverse().filter((id) => live.has(id));
    const sameAsLive = (s: FeedPage) => idsOf(s).join() === expected().join();

    const [aliceClient, bobClient] = await Promise.all([app.client("alice"), app.client("bob")]);
    const feed = paginatedFeed(bobClient);

    // Three pages of three: the last one is short and exhausts the range.
    let state = await feed.until((s) => s.status === "CanLoadMore");
    expect(idsOf(state)).toEqual(expected().slice(0, 3));
    state.loadMore(3);
    state = await feed.until((s) => s.results.length === 6 && s.status === "CanLoadMore");
    state.loadMore(3);
    state = await feed.until((s) => s.status === "Exhausted");
    expect(idsOf(state)).toEqual(expected());

    // A new post lands on the first page, which grows instead of pushing a post onto page two.
    posts.push(await app.seedPost(alice, "post 8"));
    live.add(posts[7]!);
    await feed.until(sameAsLive);

    // Deleting from the middle page, and the posts at two page boundaries, closes the gaps.
    for (const index of [3, 4, 1]) {
      await aliceClient.mutation(api.posts.deletePost, { postId: posts[index] as Id<"posts"> });
      live.delete(posts[index]!);
      await feed.until(sameAsLive);
    }

    // A burst of new posts, then a reconnect: the client re-sends each page with its journal.
    for (let i = 9; i <= 11; i++) {
      posts.push(await app.seedPost(alice, `post ${i}`));
      live.add(posts[posts.length - 1]!);
    }
    await feed.until(sameAsLive);
    cutNextFrame = true;
    posts.push(await app.seedPost(alice, "post 12"));
    live.add(posts[posts.length - 1]!);
    state = await feed.until(sameAsLive);
    expect(state.status).toBe("Exhausted");
    expect(feed.problems).toEqual([]);
  });

  test("a journal or cursor that is not the query's own fails with InvalidCursor, and a fresh first page works", async () => {
    const raw = await openRawSync(app.cloudUrl);
    try {
      raw.send({ type: "Connect", sessionId: crypto.randomUUID(), connectionCount: 0, lastCloseReason: "InitialConnect", clientTs: Date.now() });
      const paginationOpts = { numItems: 2, cursor: null, id: 1 };
      raw.send({
        type: "ModifyQuerySet",
        baseVersion: 0,
        newVersion: 1,
        modifications: [{ type: "Add", queryId: 0, udfPath: "posts:getGlobalFeed", args: [{ paginationOpts }], journal: "bogus" }],
      });
      const failed = await raw.next("Transition");
      expect((failed.modifications as Record<string, unknown>[])[0]).toMatchObject({ type: "QueryFailed", queryId: 0 });
      expect(String((failed.modifications as Record<string, unknown>[])[0]!.errorMessage)).toContain("InvalidCursor");
    } finally {
      raw.close();
    }

    // What `usePaginatedQuery` does on InvalidCursor: start over from the first page.
    const client = await app.client("bob");
    const stale = liveQuery(client, api.posts.getGlobalFeed, { paginationOpts: { numItems: 2, cursor: "bogus" } });
    expect((await stale.nextError(true)).message).toContain("InvalidCursor");
    const fresh = liveQuery(client, api.posts.getGlobalFeed, { paginationOpts: { numItems: 2, cursor: null } });
    expect((await fresh.until(() => true)).page).toHaveLength(2);
  });
});
