import { expect, it } from "vitest";
import { api, internal } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { describeEach, type AppBackend, type AppClient } from "./harness";
import { signUp, type TestUser } from "./support/accounts";
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
    ["users.getFollowStatus", (c) => c.query(api.users.getFollowStatus, { userId: ada.id })],
    ["users.getFollowRequests", (c) => c.query(api.users.getFollowRequests, { paginationOpts: page })],
    ["users.blockUser", (c) => c.mutation(api.users.blockUser, { userId: ada.id })],
    ["users.unblockUser", (c) => c.mutation(api.users.unblockUser, { userId: ada.id })],
    ["users.getBlockedUsers", (c) => c.query(api.users.getBlockedUsers, { paginationOpts: page })],
  ];
}

/**
 * A world with two protected accounts. Ada will block Bob; until then they
 * follow, like, comment on and bookmark each other, and both are active on
 * Cy's public post. Pia will go private; until then Nik (never a follower)
 * likes, comments on and bookmarks her post, and Fan (her approved
 * follower) appears only through her content.
 */
async function protectedWorld(backend: AppBackend) {
  const [ada, bob, pia, fan, nik, cy] = await Promise.all(
    ["ada", "bob", "pia", "fan", "nik", "cy"].map((username) => signUp(backend, { username, clerkId: `user_w_${username}` })),
  );
  const posts = {
    ada: await postImage(backend, ada, "ada #ada"),
    bob: await postImage(backend, bob, "bob #bob"),
    pia: await postImage(backend, pia, "pia #pia"),
    cy: await postImage(backend, cy, "cy #cy"),
  };
  const interact = async (who: TestUser, postId: Id<"posts">, bookmark: boolean) => {
    await who.client.mutation(api.posts.toggleLike, { postId });
    await who.client.mutation(api.comments.addComment, { postId, content: `by ${who.username}` });
    if (bookmark) await who.client.mutation(api.bookmarks.toggleBookmark, { postId });
  };
  for (const [a, b] of [[ada, bob], [bob, ada], [ada, cy], [bob, cy], [fan, pia]] as const) {
    await a.client.mutation(api.users.toggleFollow, { followingId: b.id });
  }
  await interact(bob, posts.ada, true);
  await interact(ada, posts.bob, true);
  await interact(ada, posts.cy, false);
  await interact(bob, posts.cy, false);
  await interact(fan, posts.pia, false);
  await interact(nik, posts.pia, true);
  await backend.drainScheduled();
  return { ada, bob, pia, fan, nik, cy, posts };
}

/**
 * The authorization table: every query that returns posts or users, as
 * `viewer` (null: signed out) asks it about every account and post of the
 * world. A rejection is recorded as its code.
 */
async function everythingSeen(
  backend: AppBackend,
  w: Awaited<ReturnType<typeof protectedWorld>>,
  viewer: TestUser | null,
): Promise<string> {
  const c = viewer === null ? backend.client(null) : viewer.client;
  const people = [w.ada, w.bob, w.pia, w.cy];
  const postIds = Object.values(w.posts);
  const each = <T>(items: T[], read: (item: T) => Promise<unknown>) => Promise.all(items.map(read));
  const table: [string, () => Promise<unknown>][] = [
    ["users.getUserByClerkId", () => each(people, (u) => c.query(api.users.getUserByClerkId, { clerkId: u.clerkId }))],
    ["users.getUserProfile", () => each(people, (u) => c.query(api.users.getUserProfile, { id: u.id }).catch(code))],
    ["users.searchUsers", () => each(people, (u) => c.query(api.users.searchUsers, { query: u.username }))],
    ["users.getFollowers", () => each(people, (u) => allItems((p) => c.query(api.users.getFollowers, { userId: u.id, paginationOpts: p })))],
    ["users.getFollowing", () => each(people, (u) => allItems((p) => c.query(api.users.getFollowing, { userId: u.id, paginationOpts: p })))],
    ["users.getFollowRequests", () => allItems((p) => c.query(api.users.getFollowRequests, { paginationOpts: p })).catch(code)],
    ["posts.getFeedPosts", () => c.query(api.posts.getFeedPosts)],
    ["posts.getGlobalFeed", () => allItems((p) => c.query(api.posts.getGlobalFeed, { paginationOpts: p }))],
    ["posts.getFollowingFeed", () => allItems((p) => c.query(api.posts.getFollowingFeed, { paginationOpts: p })).catch(code)],
    ["posts.getPost", () => each(postIds, (postId) => c.query(api.posts.getPost, { postId }))],
    ["posts.searchPosts", () => each(people, (u) => allItems((p) => c.query(api.posts.searchPosts, { query: u.username, paginationOpts: p })))],
    ["posts.getPostsByHashtag", () => each(people, (u) => allItems((p) => c.query(api.posts.getPostsByHashtag, { tag: u.username, paginationOpts: p })))],
    ["posts.getPostsByUser", () => each(people, (u) => c.query(api.posts.getPostsByUser, { userId: u.id }))],
    ["posts.getLikers", () => each(postIds, (postId) => allItems((p) => c.query(api.posts.getLikers, { postId, paginationOpts: p })))],
    ["comments.getComments", () => each(postIds, (postId) => c.query(api.comments.getComments, { postId }))],
    ["notifications.getNotifications", () => c.query(api.notifications.getNotifications).catch(code)],
    ["bookmarks.getBookmarkedPosts", () => c.query(api.bookmarks.getBookmarkedPosts).catch(code)],
  ];
  const rows: Record<string, unknown> = {};
  for (const [name, read] of table) rows[name] = await read();
  return JSON.stringify(rows);
}

const code = (error: unknown) => ({ rejected: (error as { data?: { code?: string } }).data?.code ?? "error" });

/** The queries of `seen` (its JSON) that mention `id`. */
function mentioning(seen: string, id: string): string[] {
  return Object.entries(JSON.parse(seen) as Record<string, unknown>)
    .filter(([, value]) => JSON.stringify(value).includes(id))
    .map(([name]) => name);
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

    it("authorization table: a blocked user sees nothing of the blocker, nor the blocker of them, in any query", async () => {
      const w = await protectedWorld(get());
      const { ada, bob, posts } = w;
      // Before the block each sees the other in many places, so the table can fail.
      expect(mentioning(await everythingSeen(get(), w, bob), posts.ada).length).toBeGreaterThan(5);
      expect(mentioning(await everythingSeen(get(), w, ada), bob.id).length).toBeGreaterThan(5);

      await ada.client.mutation(api.users.blockUser, { userId: bob.id });
      await get().drainScheduled();
      for (const [viewer, other, otherPost] of [
        [bob, ada, posts.ada],
        [ada, bob, posts.bob],
      ] as const) {
        const seen = await everythingSeen(get(), w, viewer);
        expect(mentioning(seen, other.id), `${viewer.username} sees ${other.username} in`).toEqual([]);
        expect(mentioning(seen, otherPost), `${viewer.username} sees ${other.username}'s post in`).toEqual([]);
        await expectAppError(viewer.client.query(api.users.getUserProfile, { id: other.id }), "NOT_FOUND");
      }
      // Everyone else still sees both.
      const cySees = await everythingSeen(get(), w, w.cy);
      expect(mentioning(cySees, ada.id).length).toBeGreaterThan(5);
      expect(mentioning(cySees, bob.id).length).toBeGreaterThan(5);
    });

    it("authorization table: a non-follower of a private account, signed in or not, sees none of its posts, likers, comments or followers", async () => {
      const w = await protectedWorld(get());
      const { pia, fan, nik, posts } = w;
      for (const viewer of [nik, null]) {
        const seen = await everythingSeen(get(), w, viewer);
        expect(mentioning(seen, posts.pia).length).toBeGreaterThan(3);
        expect(mentioning(seen, fan.id).length).toBeGreaterThan(2);
      }

      await pia.client.mutation(api.users.updateProfile, { fullname: "Pia", isPrivate: true });
      for (const viewer of [nik, null]) {
        const seen = await everythingSeen(get(), w, viewer);
        expect(mentioning(seen, posts.pia), "the private post in").toEqual([]);
        // Fan appears only as Pia's follower and on her post.
        expect(mentioning(seen, fan.id), "her follower in").toEqual([]);
      }
      // Her approved follower and she herself still see it all.
      for (const viewer of [fan, pia]) {
        expect(mentioning(await everythingSeen(get(), w, viewer), posts.pia).length).toBeGreaterThan(3);
      }
    });
  },
);
