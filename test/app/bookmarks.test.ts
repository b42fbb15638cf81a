import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { BOOKMARKS_LIMIT } from "../../convex/lib/limits";
import { describeEach } from "./harness";
import { signUpMany } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";

describeEach(
  "bookmarks",
  (get) => {
    it("toggleBookmark saves and unsaves, returning the new state", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const postId = await postImage(get(), ada);
      expect(await bob.client.mutation(api.bookmarks.toggleBookmark, { postId })).toBe(true);
      expect((await bob.client.query(api.posts.getPost, { postId }))?.isBookmarked).toBe(true);
      expect((await ada.client.query(api.posts.getPost, { postId }))?.isBookmarked).toBe(false);
      expect(await bob.client.mutation(api.bookmarks.toggleBookmark, { postId })).toBe(false);
      expect(await get().documents("bookmarks")).toEqual([]);
    });

    it("getBookmarkedPosts lists posts most recently bookmarked first", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const older = await postImage(get(), ada);
      const newer = await postImage(get(), ada);
      await bob.client.mutation(api.bookmarks.toggleBookmark, { postId: newer });
      await bob.client.mutation(api.bookmarks.toggleBookmark, { postId: older });
      const saved = await bob.client.query(api.bookmarks.getBookmarkedPosts);
      expect(saved.map((p) => p._id)).toEqual([older, newer]);
      expect(saved[0]).toMatchObject({ userId: ada.id, likes: 0, comments: 0 });
      expect(await ada.client.query(api.bookmarks.getBookmarkedPosts)).toEqual([]);
      await expectAppError(get().client(null).query(api.bookmarks.getBookmarkedPosts), "UNAUTHENTICATED");
    });

    it("getBookmarkedPosts leaves out deleted posts at once, never returning nulls", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const gone = await postImage(get(), ada);
      const kept = await postImage(get(), ada);
      await bob.client.mutation(api.bookmarks.toggleBookmark, { postId: gone });
      await bob.client.mutation(api.bookmarks.toggleBookmark, { postId: kept });
      await ada.client.mutation(api.posts.deletePost, { postId: gone });
      expect((await bob.client.query(api.bookmarks.getBookmarkedPosts)).map((p) => p._id)).toEqual([kept]);
    });

    it(`getBookmarkedPosts is bounded to the newest ${BOOKMARKS_LIMIT} bookmarks`, async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      const ids = [];
      for (let i = 0; i <= BOOKMARKS_LIMIT; i += 1) {
        const postId = await postImage(get(), ada);
        await bob.client.mutation(api.bookmarks.toggleBookmark, { postId });
        ids.push(postId);
      }
      const saved = await bob.client.query(api.bookmarks.getBookmarkedPosts);
      expect(saved.map((p) => p._id)).toEqual(ids.slice(1).reverse());
    });
  },
);
