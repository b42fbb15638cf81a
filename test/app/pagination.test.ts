import type { PaginationResult } from "convex/server";
import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { MAX_PAGE_SIZE } from "../../convex/lib/limits";
import { describeEach } from "./harness";
import { signUp, signUpMany } from "./support/accounts";
import { postImage } from "./support/content";
import { allPages, type PageOpts } from "./support/pages";

/**
 * Every paginated function: pages of any size concatenate to the whole list,
 * in order, without duplicates, however the backend reports the last page.
 */
describeEach(
  "pagination",
  (get) => {
    const SIZES = [1, 3, 7, MAX_PAGE_SIZE];

    async function checkPaging<T extends { _id: string }>(
      fetchPage: (opts: PageOpts) => Promise<PaginationResult<T>>,
      expected: string[],
    ): Promise<void> {
      for (const size of SIZES) {
        const pages = await allPages(fetchPage, size);
        for (const pageItems of pages) expect(pageItems.length).toBeLessThanOrEqual(size);
        const ids = pages.flat().map((item) => item._id);
        expect(ids, `page size ${size}`).toEqual(expected);
      }
    }

    it("global and following feeds", async () => {
      const [ada, bob] = await signUpMany(get(), 2);
      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      const ids = [];
      for (let i = 0; i < 23; i += 1) ids.push(await postImage(get(), i % 3 === 0 ? ada : bob));
      await get().drainScheduled();
      const newestFirst = [...ids].reverse();
      await checkPaging((p) => get().client(null).query(api.posts.getGlobalFeed, { paginationOpts: p }), newestFirst);
      await checkPaging((p) => ada.client.query(api.posts.getFollowingFeed, { paginationOpts: p }), newestFirst);
    });

    it("followers, following and likers", async () => {
      const star = await signUp(get());
      const postId = await postImage(get(), star);
      const fans = await signUpMany(get(), 17);
      for (const fan of fans) {
        await fan.client.mutation(api.users.toggleFollow, { followingId: star.id });
        await fan.client.mutation(api.posts.toggleLike, { postId });
        await star.client.mutation(api.users.toggleFollow, { followingId: fan.id });
      }
      const newestFirst = fans.map((fan) => fan.id).reverse();
      const viewer = get().client(null);
      await checkPaging((p) => viewer.query(api.users.getFollowers, { userId: star.id, paginationOpts: p }), newestFirst);
      await checkPaging((p) => viewer.query(api.users.getFollowing, { userId: star.id, paginationOpts: p }), newestFirst);
      await checkPaging((p) => viewer.query(api.posts.getLikers, { postId, paginationOpts: p }), newestFirst);
    });

    it(`pages are capped at ${MAX_PAGE_SIZE} items, and a page size of 0 still makes progress`, async () => {
      const ada = await signUp(get());
      const fans = await signUpMany(get(), MAX_PAGE_SIZE + 5);
      for (const fan of fans) await fan.client.mutation(api.users.toggleFollow, { followingId: ada.id });
      const viewer = get().client(null);
      const first = await viewer.query(api.users.getFollowers, {
        userId: ada.id,
        paginationOpts: { numItems: 10_000, cursor: null },
      });
      expect(first.page).toHaveLength(MAX_PAGE_SIZE);
      expect(first.isDone).toBe(false);

      const pages = await allPages(
        (p) => viewer.query(api.users.getFollowers, { userId: ada.id, paginationOpts: { ...p, numItems: 0 } }),
        0,
        MAX_PAGE_SIZE + 10,
      );
      expect(pages.flat()).toHaveLength(fans.length);
    });

    it("posts added while paging do not duplicate or shift later pages", async () => {
      const ada = await signUp(get());
      const ids = [];
      for (let i = 0; i < 9; i += 1) ids.push(await postImage(get(), ada));
      const viewer = get().client(null);
      const seen: string[] = [];
      let cursor: string | null = null;
      for (;;) {
        const result: PaginationResult<{ _id: string }> = await viewer.query(api.posts.getGlobalFeed, {
          paginationOpts: { numItems: 4, cursor },
        });
        seen.push(...result.page.map((p) => p._id));
        if (result.isDone) break;
        cursor = result.continueCursor;
        await postImage(get(), ada);
      }
      expect(seen).toEqual([...ids].reverse());
    });
  },
);
