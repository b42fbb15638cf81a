import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { describeEach, type AppBackend } from "./harness";
import { signUp, signUpMany, type TestUser } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";
import { allItems } from "./support/pages";

const blockedBy = (user: TestUser) =>
  allItems((paginationOpts) => user.client.query(api.users.getBlockedUsers, { paginationOpts }));

const counters = async (backend: AppBackend, user: TestUser) => {
  const [row] = (await backend.documents("users")).filter((u) => u._id === user.id);
  return { followers: row.followers, following: row.following };
};

describeEach("blocking", (get) => {
  it("a block ends follows both ways and pending requests, keeping every counter exact", async () => {
    const [ada, bob, carl] = await signUpMany(get(), 3);
    await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    await carl.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    const bobPost = await postImage(get(), bob);
    await get().drainScheduled();

    await ada.client.mutation(api.users.blockUser, { userId: bob.id });
    expect(await counters(get(), ada)).toEqual({ followers: 1, following: 0 });
    expect(await counters(get(), bob)).toEqual({ followers: 0, following: 0 });
    expect(await counters(get(), carl)).toEqual({ followers: 0, following: 1 });
    expect((await get().documents("notifications")).map((n) => [n.type, n.senderId])).toEqual([["follow", carl.id]]);
    await get().drainScheduled();
    const feed = await allItems((p) => ada.client.query(api.posts.getFollowingFeed, { paginationOpts: p }));
    expect(feed.map((post) => post._id)).not.toContain(bobPost);

    // A pending request to a private account goes too, with its notification.
    await carl.client.mutation(api.users.updateProfile, { fullname: "Carl", isPrivate: true });
    expect(await bob.client.mutation(api.users.toggleFollow, { followingId: carl.id })).toBe("requested");
    await carl.client.mutation(api.users.blockUser, { userId: bob.id });
    expect(await get().documents("followRequests")).toEqual([]);
    expect((await get().documents("notifications")).map((n) => n.type)).toEqual(["follow"]);
  });

  it("afterwards neither can follow, like, comment on or bookmark the other's posts; it is answered as if they were gone", async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    const adaPost = await postImage(get(), ada);
    const bobPost = await postImage(get(), bob);
    await ada.client.mutation(api.users.blockUser, { userId: bob.id });

    for (const [me, other, postId] of [
      [bob, ada, adaPost],
      [ada, bob, bobPost],
    ] as const) {
      await expectAppError(me.client.mutation(api.users.toggleFollow, { followingId: other.id }), "NOT_FOUND");
      await expectAppError(me.client.mutation(api.posts.toggleLike, { postId }), "NOT_FOUND");
      await expectAppError(me.client.mutation(api.comments.addComment, { postId, content: "hey" }), "NOT_FOUND");
      await expectAppError(me.client.mutation(api.bookmarks.toggleBookmark, { postId }), "NOT_FOUND");
      await expectAppError(me.client.query(api.users.getUserProfile, { id: other.id }), "NOT_FOUND");
      expect(await me.client.query(api.users.getUserByClerkId, { clerkId: other.clerkId })).toBeNull();
      expect(await me.client.query(api.posts.getPost, { postId })).toBeNull();
    }
    for (const table of ["follows", "likes", "comments", "bookmarks", "notifications"]) {
      expect(await get().documents(table), table).toEqual([]);
    }
    // Others still see both.
    const carl = await signUp(get());
    expect(await carl.client.query(api.posts.getPost, { postId: adaPost })).not.toBeNull();
    expect(await carl.client.query(api.posts.getPost, { postId: bobPost })).not.toBeNull();
  });

  it("the blocked user's likes, comments and notifications stay counted but are hidden until unblocked", async () => {
    const [ada, bob, carl] = await signUpMany(get(), 3);
    const postId = await postImage(get(), ada);
    await bob.client.mutation(api.posts.toggleLike, { postId });
    await bob.client.mutation(api.comments.addComment, { postId, content: "from bob" });
    await carl.client.mutation(api.comments.addComment, { postId, content: "from carl" });
    const likers = (viewer: TestUser) =>
      allItems((p) => viewer.client.query(api.posts.getLikers, { postId, paginationOpts: p }));
    const commentsSeen = async (viewer: TestUser) =>
      (await viewer.client.query(api.comments.getComments, { postId })).map((c) => c.content);

    await ada.client.mutation(api.users.blockUser, { userId: bob.id });
    expect(await likers(ada)).toEqual([]);
    expect(await commentsSeen(ada)).toEqual(["from carl"]);
    expect((await ada.client.query(api.notifications.getNotifications)).map((n) => n.sender._id)).toEqual([carl.id]);
    expect(await ada.client.query(api.notifications.getUnreadCount)).toBe(1);
    // Counters count rows, hidden or not; a third user sees everything.
    expect(await carl.client.query(api.posts.getPost, { postId })).toMatchObject({ likes: 1, comments: 2 });
    expect(await commentsSeen(carl)).toEqual(["from bob", "from carl"]);
    expect((await likers(carl)).map((u) => u._id)).toEqual([bob.id]);

    await ada.client.mutation(api.users.unblockUser, { userId: bob.id });
    expect((await likers(ada)).map((u) => u._id)).toEqual([bob.id]);
    expect(await commentsSeen(ada)).toEqual(["from bob", "from carl"]);
    expect(await ada.client.query(api.notifications.getNotifications)).toHaveLength(3);
    expect(await ada.client.query(api.notifications.getUnreadCount)).toBe(3);
  });

  it("getBlockedUsers lists whom you blocked, newest first; unblocking restores visibility but not follows", async () => {
    const [ada, bob, carl] = await signUpMany(get(), 3);
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    await ada.client.mutation(api.users.blockUser, { userId: bob.id });
    await ada.client.mutation(api.users.blockUser, { userId: carl.id });
    await ada.client.mutation(api.users.blockUser, { userId: bob.id }); // twice: no change
    expect((await blockedBy(ada)).map((u) => u._id)).toEqual([carl.id, bob.id]);
    expect(await blockedBy(bob)).toEqual([]);
    expect(await get().documents("blocks")).toHaveLength(2);

    await ada.client.mutation(api.users.unblockUser, { userId: bob.id });
    await ada.client.mutation(api.users.unblockUser, { userId: bob.id }); // not blocked: no change
    expect((await blockedBy(ada)).map((u) => u._id)).toEqual([carl.id]);
    expect(await bob.client.query(api.users.getUserProfile, { id: ada.id })).toMatchObject({ followers: 0 });
    expect(await bob.client.query(api.users.getFollowStatus, { userId: ada.id })).toBe("not_following");
    expect(await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id })).toBe("following");
  });

  it("blocks both ways need both unblocks; blocking yourself or a deleted account is refused", async () => {
    const [ada, bob, gone] = await signUpMany(get(), 3);
    await ada.client.mutation(api.users.blockUser, { userId: bob.id });
    await bob.client.mutation(api.users.blockUser, { userId: ada.id });
    await ada.client.mutation(api.users.unblockUser, { userId: bob.id });
    await expectAppError(ada.client.query(api.users.getUserProfile, { id: bob.id }), "NOT_FOUND");
    await bob.client.mutation(api.users.unblockUser, { userId: ada.id });
    expect(await ada.client.query(api.users.getUserProfile, { id: bob.id })).toMatchObject({ _id: bob.id });

    await expectAppError(ada.client.mutation(api.users.blockUser, { userId: ada.id }), "INVALID_ARGUMENT");
    await gone.client.mutation(api.users.deleteAccount);
    await expectAppError(ada.client.mutation(api.users.blockUser, { userId: gone.id }), "NOT_FOUND");
    await expect(ada.client.mutation(api.users.blockUser, { userId: "not-an-id" as never })).rejects.toThrow();
    expect(await get().documents("blocks")).toEqual([]);
  });

  it("deleting an account removes its blocks and follow requests, both ways", async () => {
    const [ada, bob, carl] = await signUpMany(get(), 3);
    await carl.client.mutation(api.users.updateProfile, { fullname: "Carl", isPrivate: true });
    await ada.client.mutation(api.users.blockUser, { userId: bob.id });
    await bob.client.mutation(api.users.blockUser, { userId: carl.id });
    await ada.client.mutation(api.users.toggleFollow, { followingId: carl.id });
    await bob.client.mutation(api.users.deleteAccount);
    await get().drainScheduled();
    expect(await get().documents("blocks")).toEqual([]);
    expect(await get().documents("followRequests")).toHaveLength(1);
    await carl.client.mutation(api.users.deleteAccount);
    await get().drainScheduled();
    expect(await get().documents("followRequests")).toEqual([]);
    expect(await get().documents("notifications")).toEqual([]);
  });
});
