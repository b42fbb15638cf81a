import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { startInstagramSync, type InstagramSync } from "./sync-support/instagram-engine";
import { liveQuery } from "../../packages/engine/test/sync-support/live-query";
import { settledRuns } from "../../packages/engine/test/sync-support/settled-runs";

/**
 * The Instagram app's live views over the WebSocket protocol, driven by the
 * official `ConvexClient` (one per signed-in user) against a started engine:
 * what one user does shows up in another user's open subscriptions.
 */

let app: InstagramSync;
let alice: Id<"users">;
let bob: Id<"users">;

beforeAll(async () => {
  app = await startInstagramSync();
  alice = (await app.createUser("alice")) as Id<"users">;
  bob = (await app.createUser("bob")) as Id<"users">;
});
afterAll(async () => {
  await app?.close();
});

describe("live Instagram views", () => {
  test("a like by one user updates the feed and the post's counter in another user's subscriptions", async () => {
    const postId = (await app.seedPost(alice, "sunset")) as Id<"posts">;
    const [aliceClient, bobClient] = await Promise.all([app.client("alice"), app.client("bob")]);
    const aliceFeed = liveQuery(aliceClient, api.posts.getFeedPosts, {});
    const alicePost = liveQuery(aliceClient, api.posts.getPost, { postId });
    const bobFeed = liveQuery(bobClient, api.posts.getFeedPosts, {});
    await aliceFeed.until((feed) => feed.some((p) => p._id === postId));
    await alicePost.until((p) => p !== null && p.likes === 0);
    await bobFeed.until((feed) => feed.some((p) => p._id === postId));

    // Bob likes Alice's post. His own feed already shows it when the mutation resolves:
    // the Transition that completes a mutation carries its writes (§5.5).
    expect(await bobClient.mutation(api.posts.toggleLike, { postId })).toBe(true);
    const bobView = bobFeed.latest().find((p) => p._id === postId)!;
    expect(bobView).toMatchObject({ likes: 1, isLiked: true });

    // Alice sees the new count without having done anything; for her it is not "liked".
    const aliceView = (await aliceFeed.until((feed) => feed.find((p) => p._id === postId)?.likes === 1)).find((p) => p._id === postId)!;
    expect(aliceView.isLiked).toBe(false);
    expect(await alicePost.until((p) => p?.likes === 1)).toMatchObject({ likes: 1, isLiked: false });

    // And back.
    expect(await bobClient.mutation(api.posts.toggleLike, { postId })).toBe(false);
    await aliceFeed.until((feed) => feed.find((p) => p._id === postId)?.likes === 0);
    expect(bobFeed.latest().find((p) => p._id === postId)).toMatchObject({ likes: 0, isLiked: false });
  });

  test("a comment appears in another user's open comment list", async () => {
    const postId = (await app.seedPost(alice, "comment me")) as Id<"posts">;
    const [aliceClient, bobClient] = await Promise.all([app.client("alice"), app.client("bob")]);
    const comments = liveQuery(aliceClient, api.comments.getComments, { postId });
    const post = liveQuery(aliceClient, api.posts.getPost, { postId });
    expect(await comments.until(() => true)).toEqual([]);

    const commentId = await bobClient.mutation(api.comments.addComment, { postId, content: "Lovely light" });
    const seen = await comments.until((list) => list.length === 1);
    expect(seen[0]).toMatchObject({ _id: commentId, content: "Lovely light", user: { username: "bob" } });
    await post.until((p) => p?.comments === 1);
  });

  test("a query re-run by a commit sends nothing when its result did not change", async () => {
    const postId = (await app.seedPost(alice, "quiet comments")) as Id<"posts">;
    const [aliceClient, bobClient] = await Promise.all([app.client("alice"), app.client("bob")]);
    const comments = liveQuery(aliceClient, api.comments.getComments, { postId });
    await comments.until(() => true);
    const runsBefore = await settledRuns(app.running.engine, "comments:getComments");

    // getComments read the post document (is it live?), so a like re-runs it, but the comments are the same.
    await bobClient.mutation(api.posts.toggleLike, { postId });
    expect(await settledRuns(app.running.engine, "comments:getComments")).toBe(runsBefore + 1);
    expect(comments.values).toHaveLength(1);
  });

  test("a block re-runs a feed only when it involves the feed's viewer, and hides the blocker's posts live", async () => {
    const [dave, erin, frank] = await Promise.all(["dave", "erin", "frank"].map((name) => app.createUser(name)));
    const erinPost = (await app.seedPost(erin!, "erin's")) as Id<"posts">;
    await app.seedPost(alice, "alice's");
    const daveFeed = liveQuery(await app.client("dave"), api.posts.getFeedPosts, {});
    // Two authors on the page: the feed answers blocks from dave's own block lists.
    await daveFeed.until((feed) => feed.some((p) => p._id === erinPost) && feed.some((p) => p.userId === alice));
    const [erinClient, frankClient] = await Promise.all([app.client("erin"), app.client("frank")]);

    // Blocks between others (one of them an author on dave's page) change nothing dave read.
    const runsBefore = await settledRuns(app.running.engine, "posts:getFeedPosts");
    await frankClient.mutation(api.users.blockUser, { userId: erin as Id<"users"> });
    await erinClient.mutation(api.users.blockUser, { userId: frank as Id<"users"> });
    expect(await settledRuns(app.running.engine, "posts:getFeedPosts")).toBe(runsBefore);

    // A block against dave re-runs his feed, without erin's post.
    await erinClient.mutation(api.users.blockUser, { userId: dave as Id<"users"> });
    const after = await daveFeed.until((feed) => !feed.some((p) => p._id === erinPost));
    expect(after.some((p) => p.userId === alice)).toBe(true);
    await erinClient.mutation(api.users.unblockUser, { userId: dave as Id<"users"> });
    await daveFeed.until((feed) => feed.some((p) => p._id === erinPost));
  });

  test("a follow updates both users' counters in everyone's subscriptions", async () => {
    const carol = (await app.createUser("carol")) as Id<"users">;
    const [aliceClient, carolClient] = await Promise.all([app.client("alice"), app.client("carol")]);
    // Alice watches both profiles; Carol watches her own.
    const carolSeenByAlice = liveQuery(aliceClient, api.users.getUserProfile, { id: carol });
    const aliceSeenByAlice = liveQuery(aliceClient, api.users.getUserProfile, { id: alice });
    const carolSeenByCarol = liveQuery(carolClient, api.users.getUserProfile, { id: carol });
    const before = (await aliceSeenByAlice.until(() => true)).followers;
    await carolSeenByAlice.until((u) => u.following === 0);

    await carolClient.mutation(api.users.toggleFollow, { followingId: alice });
    // Carol's own view is current when her mutation resolves; Alice's follows.
    expect(carolSeenByCarol.latest().following).toBe(1);
    await carolSeenByAlice.until((u) => u.following === 1);
    await aliceSeenByAlice.until((u) => u.followers === before + 1);
  });
});
