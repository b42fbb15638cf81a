import { expect, it } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import { describeEach, type AppBackend, type AppClient } from "./harness";
import { signUp } from "./support/accounts";
import { postImage, uploadImage } from "./support/content";
import { expectAppError, expectRejection } from "./support/errors";
import { allItems } from "./support/pages";

const page = { numItems: 10, cursor: null };

/** A small world: Ada (with secrets to keep) and Bob, who interact. */
async function world(backend: AppBackend) {
  const ada = await signUp(backend, { clerkId: "user_ada_secret", email: "ada-secret@example.com", username: "ada" });
  const bob = await signUp(backend, { username: "bob" });
  const postId = await postImage(backend, ada, "ada's post");
  const commentId = await ada.client.mutation(api.comments.addComment, { postId, content: "by ada" });
  await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
  await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
  await ada.client.mutation(api.posts.toggleLike, { postId });
  await bob.client.mutation(api.posts.toggleLike, { postId });
  await ada.client.mutation(api.bookmarks.toggleBookmark, { postId });
  const [notification] = await bob.client.query(api.notifications.getNotifications);
  return { ada, bob, postId, commentId, notificationId: notification._id };
}

/** Every call that needs a signed-in account, with valid arguments. */
function accountCalls(w: Awaited<ReturnType<typeof world>>): [string, (c: AppClient) => Promise<unknown>][] {
  const { ada, postId, commentId, notificationId } = w;
  return [
    ["users.updateProfile", (c) => c.mutation(api.users.updateProfile, { fullname: "X" })],
    ["users.toggleFollow", (c) => c.mutation(api.users.toggleFollow, { followingId: ada.id })],
    ["users.isFollowing", (c) => c.query(api.users.isFollowing, { followingId: ada.id })],
    ["users.deleteAccount", (c) => c.mutation(api.users.deleteAccount)],
    ["posts.generateUploadUrl", (c) => c.mutation(api.posts.generateUploadUrl)],
    ["posts.toggleLike", (c) => c.mutation(api.posts.toggleLike, { postId })],
    ["posts.deletePost", (c) => c.mutation(api.posts.deletePost, { postId })],
    ["posts.updateCaption", (c) => c.mutation(api.posts.updateCaption, { postId, caption: "x" })],
    ["posts.getPostsByUser (own)", (c) => c.query(api.posts.getPostsByUser, {})],
    ["posts.getFollowingFeed", (c) => c.query(api.posts.getFollowingFeed, { paginationOpts: page })],
    ["comments.addComment", (c) => c.mutation(api.comments.addComment, { postId, content: "x" })],
    ["comments.deleteComment", (c) => c.mutation(api.comments.deleteComment, { commentId })],
    ["notifications.getNotifications", (c) => c.query(api.notifications.getNotifications)],
    ["notifications.getUnreadCount", (c) => c.query(api.notifications.getUnreadCount)],
    ["notifications.markAllRead", (c) => c.mutation(api.notifications.markAllRead)],
    ["notifications.markRead", (c) => c.mutation(api.notifications.markRead, { notificationId })],
    ["bookmarks.toggleBookmark", (c) => c.mutation(api.bookmarks.toggleBookmark, { postId })],
    ["bookmarks.getBookmarkedPosts", (c) => c.query(api.bookmarks.getBookmarkedPosts)],
  ];
}

describeEach(
  "authorization",
  (get) => {
    it("anonymous callers get UNAUTHENTICATED from everything that needs an account", async () => {
      const w = await world(get());
      for (const [name, call] of accountCalls(w)) {
        const message = await expectAppError(call(get().client(null)), "UNAUTHENTICATED");
        expect(message, name).toMatch(/sign/i);
      }
      const storageId = await uploadImage(get(), w.ada);
      await expectAppError(get().client(null).mutation(api.posts.createPost, { storageId }), "UNAUTHENTICATED");
    });

    it("signed-in callers without an account get ACCOUNT_NOT_FOUND", async () => {
      const w = await world(get());
      const stranger = get().client("user_never_signed_up");
      for (const [, call] of accountCalls(w)) await expectAppError(call(stranger), "ACCOUNT_NOT_FOUND");
    });

    it("nobody can change or delete another user's post, comment or notification", async () => {
      const { ada, bob, postId, commentId, notificationId } = await world(get());
      await expectAppError(bob.client.mutation(api.posts.deletePost, { postId }), "FORBIDDEN");
      await expectAppError(bob.client.mutation(api.posts.updateCaption, { postId, caption: "pwned" }), "FORBIDDEN");
      await expectAppError(bob.client.mutation(api.comments.deleteComment, { commentId }), "FORBIDDEN");
      await expectAppError(ada.client.mutation(api.notifications.markRead, { notificationId }), "FORBIDDEN");
      const post = await bob.client.query(api.posts.getPost, { postId });
      expect(post).toMatchObject({ caption: "ada's post", comments: 1 });
    });

    it("no function lets a caller act as someone else: identity comes from the token only", async () => {
      const { ada, bob, postId } = await world(get());
      const impersonations: Promise<unknown>[] = [
        bob.client.mutation(api.posts.toggleLike, { postId, userId: ada.id } as never),
        bob.client.mutation(api.users.toggleFollow, { followingId: bob.id, followerId: ada.id } as never),
        bob.client.mutation(api.comments.addComment, { postId, content: "x", userId: ada.id } as never),
        bob.client.mutation(api.users.updateProfile, { fullname: "X", userId: ada.id } as never),
      ];
      for (const attempt of impersonations) await expectRejection(attempt);
      expect((await ada.client.query(api.users.getCurrentUser))?.fullname).toBe("Test User");
    });

    it("clients cannot call internal functions, such as creating users or running clean-ups", async () => {
      const { ada, postId } = await world(get());
      const client = ada.client;
      await expectRejection(client.mutation(internal.users.createUser, { clerkId: "user_fake" }));
      await expectRejection(
        client.mutation(internal.clerk.processEvent, { svixId: "x", type: "user.deleted", clerkId: ada.clerkId }),
      );
      await expectRejection(client.mutation(internal.cascades.deleteUserBatch, { userId: ada.id }));
      await expectRejection(client.mutation(internal.cascades.deletePostBatch, { postId }));
      await expectRejection(client.mutation(internal.uploads.sweepOrphans, {}));
      expect(await client.query(api.users.getCurrentUser)).not.toBeNull();
      expect(await get().documents("users")).toHaveLength(2);
    });

    it("other users never see an email address or a Clerk id", async () => {
      const { ada, bob, postId } = await world(get());
      const views: unknown[] = [];
      for (const viewer of [bob.client, get().client(null)]) {
        views.push(
          await viewer.query(api.users.getUserProfile, { id: ada.id }),
          await viewer.query(api.users.getUserByClerkId, { clerkId: ada.clerkId }),
          await viewer.query(api.users.searchUsers, { query: "ad" }),
          await allItems((p) => viewer.query(api.users.getFollowers, { userId: bob.id, paginationOpts: p })),
          await allItems((p) => viewer.query(api.users.getFollowing, { userId: bob.id, paginationOpts: p })),
          await viewer.query(api.posts.getFeedPosts),
          await viewer.query(api.posts.getPost, { postId }),
          await viewer.query(api.posts.getPostsByUser, { userId: ada.id }),
          await allItems((p) => viewer.query(api.posts.getGlobalFeed, { paginationOpts: p })),
          await allItems((p) => viewer.query(api.posts.getLikers, { postId, paginationOpts: p })),
          await viewer.query(api.comments.getComments, { postId }),
        );
      }
      views.push(
        await bob.client.query(api.notifications.getNotifications),
        await bob.client.query(api.bookmarks.getBookmarkedPosts),
        await allItems((p) => bob.client.query(api.posts.getFollowingFeed, { paginationOpts: p })),
      );
      const seen = JSON.stringify(views);
      expect(seen).toContain(ada.id);
      expect(seen).not.toContain("ada-secret@example.com");
      // getUserByClerkId was asked by clerk id; the answer must not echo it back.
      expect(seen).not.toContain(ada.clerkId);
    });
  },
);
