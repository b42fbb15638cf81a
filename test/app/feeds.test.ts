import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { describeEach } from "./harness";
import { signUpMany, type TestUser } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";
import { allItems } from "./support/pages";

describeEach(
  "feeds",
  (get) => {
    const followingFeed = async (user: TestUser, numItems = 7): Promise<Id<"posts">[]> =>
      (
        await allItems(
          (paginationOpts) => user.client.query(api.posts.getFollowingFeed, { paginationOpts }),
          numItems,
        )
      ).map((post) => post._id);

    it("the following feed holds your posts and those of people you follow, newest first", async () => {
      const [ada, bob, carl] = await signUpMany(get(), 3);
      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      const a1 = await postImage(get(), ada);
      const b1 = await postImage(get(), bob);
      await postImage(get(), carl);
      const a2 = await postImage(get(), ada);
      await get().drainScheduled();

      expect(await followingFeed(ada)).toEqual([a2, b1, a1]);
      expect(await followingFeed(bob)).toEqual([b1]);
      const [item] = await ada.client.query(api.posts.getFollowingFeed, {
        paginationOpts: { numItems: 1, cursor: null },
      }).then((r) => r.page);
      expect(item).toMatchObject({ _id: a2, author: { _id: ada.id }, isLiked: false, isBookmarked: false });
    });

    it("following someone brings their earlier posts in; unfollowing takes them out", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const older = [];
      for (let i = 0; i < 5; i += 1) older.push(await postImage(get(), bob));
      const own = await postImage(get(), ada);

      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      await get().drainScheduled();
      expect(await followingFeed(ada)).toEqual([own, ...older.reverse()]);

      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      await get().drainScheduled();
      expect(await followingFeed(ada)).toEqual([own]);
    });

    it("a quick unfollow and re-follow ends with the posts in the feed exactly once", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const posts = [await postImage(get(), bob), await postImage(get(), bob)];
      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      await get().drainScheduled();
      expect(await followingFeed(ada, 1)).toEqual(posts.reverse());
      expect(await get().documents("feedItems")).toHaveLength(4);
    });

    it("a post reaches every follower, beyond one batch of them", async () => {
      const [star, ...fans] = await signUpMany(get(), 140);
      for (const fan of fans) await fan.client.mutation(api.users.toggleFollow, { followingId: star.id });
      await get().drainScheduled();
      const postId = await postImage(get(), star);
      await get().drainScheduled();
      for (const fan of [fans[0], fans[70], fans[fans.length - 1]]) expect(await followingFeed(fan)).toEqual([postId]);
      expect(await get().documents("feedItems")).toHaveLength(fans.length + 1);
    });

    it("a deleted post leaves the following feed at once", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      const postId = await postImage(get(), bob);
      await get().drainScheduled();
      expect(await followingFeed(ada)).toEqual([postId]);
      await bob.client.mutation(api.posts.deletePost, { postId });
      expect(await followingFeed(ada)).toEqual([]);
    });

    it("the following feed needs a signed-in account", async () => {
      await expectAppError(
        get().client(null).query(api.posts.getFollowingFeed, { paginationOpts: { numItems: 5, cursor: null } }),
        "UNAUTHENTICATED",
      );
    });

    it("the global feed pages through every post, newest first", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const ids = [];
      for (let i = 0; i < 12; i += 1) ids.push(await postImage(get(), i % 2 === 0 ? ada : bob));
      const feed = await allItems(
        (paginationOpts) => get().client(null).query(api.posts.getGlobalFeed, { paginationOpts }),
        5,
      );
      expect(feed.map((p) => p._id)).toEqual(ids.reverse());
    });
  },
);
