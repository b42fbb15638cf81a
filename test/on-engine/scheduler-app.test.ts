import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { drainScheduler } from "../../packages/engine/test/scheduler-support/scheduler-helpers";
import { filesIn, storageDirs } from "../../packages/engine/test/storage-support/storage-helpers";
import { pngBytes, startInstagram, type InstagramDeployment } from "./storage-support/instagram";

/**
 * The app's cascades through `ctx.scheduler` on the engine: deleting an
 * account with more posts than one batch handles runs as a chain of scheduled
 * batches, and when the chain is done every row of the user and every file
 * is gone while every other user's counters equal the rows they count.
 */
describe("account deletion through the scheduler", () => {
  let app: InstagramDeployment;
  beforeEach(async () => {
    app = await startInstagram();
  });
  afterEach(async () => {
    await app?.close();
  });

  test("a user with many posts is deleted in batches; files and rows go, other users' counters stay right", async () => {
    const [ada, bob, carl] = [await app.signUp("ada"), await app.signUp("bob"), await app.signUp("carl")];
    // More posts than one batch of the account clean-up takes (32).
    const POSTS = 40;
    const adaPosts: Id<"posts">[] = [];
    for (let i = 0; i < POSTS; i += 1) {
      const storageId = await app.upload(ada.client, pngBytes(200, 100 + i), "image/png");
      adaPosts.push(await ada.client.mutation(api.posts.createPost, { storageId }));
    }
    const bobsUpload = await app.upload(bob.client, pngBytes(200, 1), "image/png");
    const bobsPost = await bob.client.mutation(api.posts.createPost, { storageId: bobsUpload });
    // Photos are processed (each post then has three files) before others may react.
    await app.settle();
    const bobsFiles = await app.filesOfPost(bobsPost);
    // Reactions both ways, and follows both ways.
    for (const postId of adaPosts.slice(0, 5)) {
      await bob.client.mutation(api.posts.toggleLike, { postId });
      await carl.client.mutation(api.comments.addComment, { postId, content: "nice" });
    }
    await ada.client.mutation(api.posts.toggleLike, { postId: bobsPost });
    await ada.client.mutation(api.comments.addComment, { postId: bobsPost, content: "hi bob" });
    await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    await carl.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    await carl.client.mutation(api.users.toggleFollow, { followingId: bob.id });
    const blobs = storageDirs(app.running.dataDir).blobs;
    expect(filesIn(blobs)).toHaveLength(3 * (POSTS + 1));

    await ada.client.mutation(api.users.deleteAccount, {});
    await drainScheduler(app.running.engine);

    // Batches: more than one account batch ran, each as its own scheduled job, all successful.
    const jobs = await app.documents("_scheduled_functions");
    const userBatches = jobs.filter((j) => j.name === "cascades.js:deleteUserBatch");
    expect(userBatches.length).toBeGreaterThanOrEqual(1);
    expect(jobs.filter((j) => (j.state as { kind: string }).kind !== "success")).toEqual([]);

    // Everything of Ada is gone, files included.
    expect(new Set(filesIn(blobs))).toEqual(new Set(bobsFiles));
    expect(new Set((await app.documents("_storage")).map((f) => f._id))).toEqual(new Set(bobsFiles));
    for (const table of ["posts", "likes", "comments", "follows", "feedItems", "notifications", "bookmarks", "uploadTickets"]) {
      const rows = await app.documents(table);
      const mentions = rows.filter((r) => Object.values(r).includes(ada.id) || adaPosts.includes(r.postId as Id<"posts">));
      expect(mentions, table).toEqual([]);
    }
    expect((await app.documents("posts")).map((p) => p._id)).toEqual([bobsPost]);

    // Counters equal the rows they count.
    const users = await app.documents("users");
    const follows = await app.documents("follows");
    for (const user of users) {
      expect(user.followers, `${user.username} followers`).toBe(follows.filter((f) => f.followingId === user._id).length);
      expect(user.following, `${user.username} following`).toBe(follows.filter((f) => f.followerId === user._id).length);
    }
    expect(users.map((u) => [u.username, u.posts, u.followers, u.following])).toEqual([
      ["bob", 1, 1, 0],
      ["carl", 0, 0, 1],
    ]);
    const post = await bob.client.query(api.posts.getPost, { postId: bobsPost });
    expect([post?.likes, post?.comments]).toEqual([0, 0]);
    expect((await app.documents("likes")).length).toBe(0);
    expect((await app.documents("comments")).length).toBe(0);
  });
});
