import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { BATCH_SIZE } from "../../convex/lib/limits";
import { describeEach, type AppBackend } from "./harness";
import { signUp, signUpMany, type TestUser } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";
import { allItems } from "./support/pages";

const goPrivate = (user: TestUser, isPrivate: boolean) =>
  user.client.mutation(api.users.updateProfile, { fullname: "Test User", isPrivate });

const requestsOf = (user: TestUser) =>
  allItems((paginationOpts) => user.client.query(api.users.getFollowRequests, { paginationOpts }));

const counters = async (backend: AppBackend, user: TestUser) => {
  const profile = await backend.client(null).query(api.users.getUserProfile, { id: user.id });
  return { followers: profile.followers, following: profile.following };
};

/** What `viewer` (a client, or null for signed out) sees of `owner`'s post and lists. */
async function contentSeen(backend: AppBackend, viewer: TestUser | null, owner: TestUser, postId: Id<"posts">) {
  const client = viewer === null ? backend.client(null) : viewer.client;
  return {
    post: (await client.query(api.posts.getPost, { postId })) !== null,
    byUser: (await client.query(api.posts.getPostsByUser, { userId: owner.id })).length,
    inGlobalFeed: (await allItems((p) => client.query(api.posts.getGlobalFeed, { paginationOpts: p }))).some(
      (post) => post._id === postId,
    ),
    likers: (await allItems((p) => client.query(api.posts.getLikers, { postId, paginationOpts: p }))).length,
    comments: (await client.query(api.comments.getComments, { postId })).length,
    followers: (await allItems((p) => client.query(api.users.getFollowers, { userId: owner.id, paginationOpts: p })))
      .length,
  };
}

const everything = { post: true, byUser: 1, inGlobalFeed: true, likers: 1, comments: 1, followers: 1 };
const nothing = { post: false, byUser: 0, inGlobalFeed: false, likers: 0, comments: 0, followers: 0 };

describeEach("private accounts", (get) => {
  it("following a private account asks first: a request, a follow_request notification, no follow until accepted", async () => {
    const ada = await signUp(get(), { username: "ada" });
    const bob = await signUp(get(), { username: "bob" });
    await goPrivate(ada, true);
    expect((await get().client(null).query(api.users.getUserProfile, { id: ada.id })).isPrivate).toBe(true);

    expect(await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id })).toBe("requested");
    expect(await bob.client.query(api.users.getFollowStatus, { userId: ada.id })).toBe("requested");
    expect(await bob.client.query(api.users.isFollowing, { followingId: ada.id })).toBe(false);
    expect(await counters(get(), ada)).toEqual({ followers: 0, following: 0 });
    const [notice] = await ada.client.query(api.notifications.getNotifications);
    expect(notice).toMatchObject({ type: "follow_request", sender: { _id: bob.id }, post: null, read: false });
    const [request] = await requestsOf(ada);
    expect(request).toMatchObject({ user: { _id: bob.id, username: "bob" } });

    // Asking again withdraws the request and its notification.
    expect(await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id })).toBe("not_following");
    expect(await requestsOf(ada)).toEqual([]);
    expect(await ada.client.query(api.notifications.getNotifications)).toEqual([]);
    expect(await bob.client.query(api.users.getFollowStatus, { userId: ada.id })).toBe("not_following");
  });

  it("accepting a request makes a follow with exact counters; its notification becomes the follow's", async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    await goPrivate(ada, true);
    const postId = await postImage(get(), ada, "private sunset");
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    expect(await bob.client.query(api.posts.getPost, { postId })).toBeNull();

    const [request] = await requestsOf(ada);
    await ada.client.mutation(api.users.respondToFollowRequest, { requestId: request._id, accept: true });
    expect(await bob.client.query(api.users.getFollowStatus, { userId: ada.id })).toBe("following");
    expect(await counters(get(), ada)).toEqual({ followers: 1, following: 0 });
    expect(await counters(get(), bob)).toEqual({ followers: 0, following: 1 });
    expect((await ada.client.query(api.notifications.getNotifications)).map((n) => n.type)).toEqual(["follow"]);
    expect(await requestsOf(ada)).toEqual([]);

    // The approved follower sees the posts, in the following feed too.
    expect(await bob.client.query(api.posts.getPost, { postId })).toMatchObject({ caption: "private sunset" });
    await get().drainScheduled();
    const feed = await allItems((p) => bob.client.query(api.posts.getFollowingFeed, { paginationOpts: p }));
    expect(feed.map((post) => post._id)).toEqual([postId]);

    // Unfollowing a private account takes it all away again.
    expect(await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id })).toBe("not_following");
    expect(await bob.client.query(api.posts.getPost, { postId })).toBeNull();
    expect(await counters(get(), ada)).toEqual({ followers: 0, following: 0 });
  });

  it("declining removes the request without a trace; only the requested account may answer", async () => {
    const [ada, bob, eve] = await signUpMany(get(), 3);
    await goPrivate(ada, true);
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    const [request] = await requestsOf(ada);
    await expectAppError(
      eve.client.mutation(api.users.respondToFollowRequest, { requestId: request._id, accept: true }),
      "FORBIDDEN",
    );
    await expectAppError(
      bob.client.mutation(api.users.respondToFollowRequest, { requestId: request._id, accept: true }),
      "FORBIDDEN",
    );
    expect(await get().documents("follows")).toEqual([]);

    await ada.client.mutation(api.users.respondToFollowRequest, { requestId: request._id, accept: false });
    expect(await get().documents("followRequests")).toEqual([]);
    expect(await get().documents("notifications")).toEqual([]);
    expect(await bob.client.query(api.users.getFollowStatus, { userId: ada.id })).toBe("not_following");
    await expectAppError(
      ada.client.mutation(api.users.respondToFollowRequest, { requestId: request._id, accept: true }),
      "NOT_FOUND",
    );
    expect(await counters(get(), ada)).toEqual({ followers: 0, following: 0 });
  });

  it("a private account's posts, likers, comments and followers are shown to its followers and itself only", async () => {
    const [ada, fan, stranger] = await signUpMany(get(), 3);
    const postId = await postImage(get(), ada);
    await fan.client.mutation(api.users.toggleFollow, { followingId: ada.id });
    await fan.client.mutation(api.posts.toggleLike, { postId });
    await fan.client.mutation(api.comments.addComment, { postId, content: "lovely" });
    await stranger.client.mutation(api.bookmarks.toggleBookmark, { postId });
    expect(await contentSeen(get(), stranger, ada, postId)).toEqual(everything);
    expect(await contentSeen(get(), null, ada, postId)).toEqual(everything);

    // Going private keeps existing followers approved.
    await goPrivate(ada, true);
    for (const viewer of [stranger, null]) expect(await contentSeen(get(), viewer, ada, postId)).toEqual(nothing);
    expect(await stranger.client.query(api.bookmarks.getBookmarkedPosts)).toEqual([]);
    for (const viewer of [fan, ada]) expect(await contentSeen(get(), viewer, ada, postId)).toEqual(everything);
    // Nor can outsiders act on what they cannot see.
    await expectAppError(stranger.client.mutation(api.posts.toggleLike, { postId }), "NOT_FOUND");
    await expectAppError(stranger.client.mutation(api.comments.addComment, { postId, content: "hi" }), "NOT_FOUND");
    await expectAppError(stranger.client.mutation(api.bookmarks.toggleBookmark, { postId }), "NOT_FOUND");
    // The profile itself stays visible, so others can ask to follow.
    expect(await stranger.client.query(api.users.getUserProfile, { id: ada.id })).toMatchObject({
      followers: 1,
      posts: 1,
      isPrivate: true,
    });

    await goPrivate(ada, false);
    expect(await contentSeen(get(), stranger, ada, postId)).toEqual(everything);
    expect(await stranger.client.query(api.bookmarks.getBookmarkedPosts)).toHaveLength(1);
  });

  it("going public accepts every pending request, beyond one batch, with exact counters", async () => {
    const ada = await signUp(get());
    await goPrivate(ada, true);
    // More requests than one acceptance batch holds (a quarter of BATCH_SIZE).
    const fans = await signUpMany(get(), BATCH_SIZE / 4 + 3);
    for (const fan of fans) {
      expect(await fan.client.mutation(api.users.toggleFollow, { followingId: ada.id })).toBe("requested");
    }
    const postId = await postImage(get(), ada);
    await goPrivate(ada, false);
    await get().drainScheduled();

    expect(await get().documents("followRequests")).toEqual([]);
    expect(await get().documents("follows")).toHaveLength(fans.length);
    expect(await counters(get(), ada)).toEqual({ followers: fans.length, following: 0 });
    const notifications = await get().documents("notifications");
    expect(notifications.map((n) => n.type)).toEqual(fans.map(() => "follow"));
    for (const fan of [fans[0], fans.at(-1)!]) {
      expect(await counters(get(), fan)).toEqual({ followers: 0, following: 1 });
      const feed = await allItems((p) => fan.client.query(api.posts.getFollowingFeed, { paginationOpts: p }));
      expect(feed.map((post) => post._id)).toEqual([postId]);
    }
  });

  it("updateProfile's isPrivate is a boolean; other values are refused and change nothing", async () => {
    const ada = await signUp(get());
    await expect(
      ada.client.mutation(api.users.updateProfile, { fullname: "Ada", isPrivate: "yes" as never }),
    ).rejects.toThrow();
    expect((await ada.client.query(api.users.getCurrentUser))?.isPrivate).toBeUndefined();
    await expectAppError(get().client(null).query(api.users.getFollowRequests, { paginationOpts: { numItems: 5, cursor: null } }), "UNAUTHENTICATED");
  });
});
