import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { describeEach, type AppBackend } from "./harness";
import { signUp, signUpMany } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";

const USER_TABLES = ["posts", "likes", "comments", "follows", "notifications", "bookmarks", "feedItems", "uploadTickets"];

/** Every row of the deployment that mentions `id` in any user-id field. */
async function rowsMentioning(get: () => AppBackend, id: string): Promise<string[]> {
  const fields = ["userId", "followerId", "followingId", "receiverId", "senderId", "ownerId", "authorId"];
  const found: string[] = [];
  for (const table of USER_TABLES) {
    for (const row of await get().documents(table)) {
      if (fields.some((field) => row[field] === id)) found.push(`${table}:${String(row._id)}`);
    }
  }
  return found;
}

describeEach(
  "account deletion",
  (get) => {
    it("removes everything of the user and keeps every other user's counters right", async () => {
      const [ada, bob, carl] = await signUpMany(get(), 3);
      // Ada's own content, with other people's reactions to it.
      const adasPost = await postImage(get(), ada);
      await bob.client.mutation(api.posts.toggleLike, { postId: adasPost });
      await bob.client.mutation(api.comments.addComment, { postId: adasPost, content: "hi ada" });
      await bob.client.mutation(api.bookmarks.toggleBookmark, { postId: adasPost });
      // Ada's reactions to Bob's content.
      const bobsPost = await postImage(get(), bob);
      await ada.client.mutation(api.posts.toggleLike, { postId: bobsPost });
      await carl.client.mutation(api.posts.toggleLike, { postId: bobsPost });
      await ada.client.mutation(api.comments.addComment, { postId: bobsPost, content: "nice" });
      await carl.client.mutation(api.comments.addComment, { postId: bobsPost, content: "cool" });
      await ada.client.mutation(api.bookmarks.toggleBookmark, { postId: bobsPost });
      // Follows both ways.
      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      await ada.client.mutation(api.users.toggleFollow, { followingId: carl.id });
      await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      await carl.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      // An upload never posted.
      await get().upload(ada.clerkId, new Uint8Array([1, 2, 3]), "image/png");
      await get().drainScheduled();
      const bobsFile = (await bob.client.query(api.posts.getPost, { postId: bobsPost }))!.storageId;

      await ada.client.mutation(api.users.deleteAccount);

      // Gone at once from every view.
      expect(await ada.client.query(api.users.getCurrentUser)).toBeNull();
      await expectAppError(ada.client.mutation(api.posts.generateUploadUrl), "ACCOUNT_NOT_FOUND");
      await expectAppError(bob.client.query(api.users.getUserProfile, { id: ada.id }), "NOT_FOUND");
      expect((await bob.client.query(api.posts.getFeedPosts)).map((p) => p._id)).toEqual([bobsPost]);
      expect(await bob.client.query(api.posts.getPost, { postId: adasPost })).toBeNull();
      expect(await bob.client.query(api.bookmarks.getBookmarkedPosts)).toEqual([]);
      expect((await bob.client.query(api.comments.getComments, { postId: bobsPost })).map((c) => c.content)).toEqual([
        "cool",
      ]);
      // Ada's like, comment and follow notifications vanish; Carl's stay.
      const bobsNotifications = await bob.client.query(api.notifications.getNotifications);
      expect(bobsNotifications.map((n) => [n.type, n.senderId])).toEqual([
        ["follow", carl.id],
        ["comment", carl.id],
        ["like", carl.id],
      ]);
      expect(await bob.client.query(api.users.searchUsers, { query: ada.username })).toEqual([]);

      await get().drainScheduled();
      expect(await rowsMentioning(get, ada.id)).toEqual([]);
      const files = (await get().documents("_storage")).map((f) => f._id);
      expect(files).toEqual([bobsFile]);

      const bobNow = await carl.client.query(api.users.getUserProfile, { id: bob.id });
      expect(bobNow).toMatchObject({ followers: 1, following: 0, posts: 1 });
      const carlNow = await bob.client.query(api.users.getUserProfile, { id: carl.id });
      expect(carlNow).toMatchObject({ followers: 0, following: 1 });
      const post = await carl.client.query(api.posts.getPost, { postId: bobsPost });
      expect(post).toMatchObject({ likes: 1, comments: 1 });
      expect(await bob.client.query(api.notifications.getNotifications)).toEqual(bobsNotifications);
    });

    it("a large account is removed over several transactions, not one", async () => {
      // More posts than one batch removes (32), plus follows both ways.
      const [ada, ...others] = await signUpMany(get(), 13);
      for (let i = 0; i < 35; i += 1) await postImage(get(), ada);
      for (const other of others) {
        await ada.client.mutation(api.users.toggleFollow, { followingId: other.id });
        await other.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      }
      await get().drainScheduled();
      expect((await ada.client.query(api.users.getCurrentUser))?.followers).toBe(12);

      await ada.client.mutation(api.users.deleteAccount);
      await get().drainScheduled();
      expect(await rowsMentioning(get, ada.id)).toEqual([]);
      for (const other of others.slice(0, 3)) {
        expect(await other.client.query(api.users.getCurrentUser)).toMatchObject({ followers: 0, following: 0 });
      }
      const batches = (await get().documents("_scheduled_functions")).filter((job) =>
        /^cascades(\.js)?:deleteUserBatch$/.test(String(job.name)),
      );
      // One batch runs inside deleteAccount; the rest had to be scheduled.
      expect(batches.length).toBeGreaterThanOrEqual(1);
    });

    it("a deleted user's clerk id can sign up again as a new, empty account", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      await ada.client.mutation(api.users.deleteAccount);
      const again = await signUp(get(), { clerkId: ada.clerkId });
      expect(again.id).not.toBe(ada.id);
      await get().drainScheduled();
      expect(await again.client.query(api.users.getCurrentUser)).toMatchObject({ followers: 0, following: 0, posts: 0 });
      expect(await bob.client.query(api.users.getCurrentUser)).toMatchObject({ following: 0 });
    });

    it("anonymous callers cannot delete an account", async () => {
      await expectAppError(get().client(null).mutation(api.users.deleteAccount), "UNAUTHENTICATED");
    });
  },
);
