import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { VIEWER_LIST_BOUND } from "../../convex/lib/limits";
import { describeEach, type AppBackend } from "./harness";
import { signUpMany, type TestUser } from "./support/accounts";
import { postImage } from "./support/content";
import { allItems } from "./support/pages";

/**
 * A list query answers "did the viewer block this author / did this author block the
 * viewer / did the viewer bookmark this post" from the viewer's own lists while each is at
 * most VIEWER_LIST_BOUND long, and with one point read per item beyond that
 * (`model/viewer-lists.ts`). Whichever way it goes, pages must show exactly what the rules
 * of `visibility.ts` say: these suites walk each list from empty through the bound to past it.
 */

/** `n` accounts written straight into the table (nobody signs in as them). */
async function fillerUsers(backend: AppBackend, n: number, tag: string): Promise<Id<"users">[]> {
  const rows = Array.from({ length: n }, (_, i) => ({
    username: `${tag}${i}`,
    fullname: `Filler ${i}`,
    email: `${tag}${i}@example.com`,
    image: "https://img.example.com/filler.png",
    followers: 0,
    following: 0,
    posts: 0,
    clerkId: `user_${tag}${i}`,
  }));
  return (await backend.insertDocuments("users", rows)) as Id<"users">[];
}

const feedIds = async (viewer: TestUser) =>
  (await viewer.client.query(api.posts.getFeedPosts)).map((post) => post._id).sort();
const globalFeedIds = async (viewer: TestUser) =>
  (await allItems((paginationOpts) => viewer.client.query(api.posts.getGlobalFeed, { paginationOpts }), 3))
    .map((post) => post._id)
    .sort();
const commenters = async (viewer: TestUser, postId: Id<"posts">) =>
  (await viewer.client.query(api.comments.getComments, { postId })).map((comment) => comment.user._id).sort();

describeEach("viewer lists past their bound", (get) => {
  it("blocks either way hide exactly the right posts and commenters, with lists below, at and past the bound", async () => {
    const [viewer, blockedAuthor, blockingAuthor, friend, other] = await signUpMany(get(), 5);
    const posts = {
      viewer: await postImage(get(), viewer),
      blocked: await postImage(get(), blockedAuthor),
      blocking: await postImage(get(), blockingAuthor),
      friend: await postImage(get(), friend),
    };
    for (const author of [viewer, blockedAuthor, blockingAuthor, friend]) {
      await author.client.mutation(api.comments.addComment, { postId: posts.friend, content: "nice" });
    }
    await viewer.client.mutation(api.users.blockUser, { userId: blockedAuthor.id });
    await blockingAuthor.client.mutation(api.users.blockUser, { userId: viewer.id });
    // Blocks between other people hide nothing from the viewer.
    await other.client.mutation(api.users.blockUser, { userId: friend.id });
    await friend.client.mutation(api.users.blockUser, { userId: other.id });

    const shown = [posts.viewer, posts.friend].sort();
    const shownCommenters = [viewer.id, friend.id].sort();
    const expectExact = async () => {
      expect(await feedIds(viewer)).toEqual(shown);
      expect(await globalFeedIds(viewer)).toEqual(shown);
      expect(await commenters(viewer, posts.friend)).toEqual(shownCommenters);
      // The other side of each block sees the viewer's post neither.
      expect(await feedIds(blockedAuthor)).not.toContain(posts.viewer);
      expect(await feedIds(blockingAuthor)).not.toContain(posts.viewer);
      expect(await feedIds(other)).toContain(posts.viewer);
    };
    await expectExact();

    // Each list at exactly the bound (held in memory), then past it (point reads), with the
    // block that decides last in index order, where a list cut at the bound would miss it.
    const blockedFillers = await fillerUsers(get(), VIEWER_LIST_BOUND + 1, "blockedfiller");
    const blockers = await fillerUsers(get(), VIEWER_LIST_BOUND + 1, "blocker");
    const reblock = async () => {
      await viewer.client.mutation(api.users.unblockUser, { userId: blockedAuthor.id });
      await viewer.client.mutation(api.users.blockUser, { userId: blockedAuthor.id });
      await blockingAuthor.client.mutation(api.users.unblockUser, { userId: viewer.id });
      await blockingAuthor.client.mutation(api.users.blockUser, { userId: viewer.id });
    };
    await get().insertDocuments("blocks", [
      ...blockedFillers.slice(0, VIEWER_LIST_BOUND - 1).map((blockedId) => ({ blockerId: viewer.id, blockedId })),
      ...blockers.slice(0, VIEWER_LIST_BOUND - 1).map((blockerId) => ({ blockerId, blockedId: viewer.id })),
    ]);
    await reblock();
    await expectExact();
    await get().insertDocuments("blocks", [
      ...blockedFillers.slice(VIEWER_LIST_BOUND - 1).map((blockedId) => ({ blockerId: viewer.id, blockedId })),
      ...blockers.slice(VIEWER_LIST_BOUND - 1).map((blockerId) => ({ blockerId, blockedId: viewer.id })),
    ]);
    await reblock();
    await expectExact();

    // Lifting the blocks shows everything again, lists past the bound or not.
    await viewer.client.mutation(api.users.unblockUser, { userId: blockedAuthor.id });
    await blockingAuthor.client.mutation(api.users.unblockUser, { userId: viewer.id });
    const all = Object.values(posts).sort();
    expect(await feedIds(viewer)).toEqual(all);
    expect(await globalFeedIds(viewer)).toEqual(all);
    expect(await commenters(viewer, posts.friend)).toEqual(
      [viewer.id, blockedAuthor.id, blockingAuthor.id, friend.id].sort(),
    );
  });

  it("bookmark marks stay exact with the viewer's bookmarks below, at and past the bound", async () => {
    const [viewer, author] = await signUpMany(get(), 2);
    const marked = await postImage(get(), author);
    const unmarked = await postImage(get(), author);
    await viewer.client.mutation(api.bookmarks.toggleBookmark, { postId: marked });
    const file = (await get().documents("posts")).find((post) => post._id === marked)!.storageId;
    const marks = async () => {
      const page = await allItems((paginationOpts) => viewer.client.query(api.posts.getGlobalFeed, { paginationOpts }), 25);
      return new Map(page.map((post) => [post._id, post.isBookmarked]));
    };

    // The viewer's bookmarks at exactly the bound (held in memory), then past it (point
    // reads), with the bookmark that decides last in index order, where a list cut at the
    // bound would miss it.
    const fillerPosts = (await get().insertDocuments(
      "posts",
      Array.from({ length: VIEWER_LIST_BOUND + 1 }, () => ({ userId: author.id, storageId: file, likes: 0, comments: 0 })),
    )) as Id<"posts">[];
    const fillerMarks = fillerPosts.map((postId) => ({ userId: viewer.id, postId }));
    const remark = async () => {
      await viewer.client.mutation(api.bookmarks.toggleBookmark, { postId: marked });
      await viewer.client.mutation(api.bookmarks.toggleBookmark, { postId: marked });
    };
    for (const fillers of [VIEWER_LIST_BOUND - 1, VIEWER_LIST_BOUND + 1]) {
      await get().insertDocuments("bookmarks", fillerMarks.slice(fillers === VIEWER_LIST_BOUND - 1 ? 0 : VIEWER_LIST_BOUND - 1, fillers));
      await remark();
      const seen = await marks();
      expect(seen.size).toBe(VIEWER_LIST_BOUND + 3);
      expect(seen.get(marked)).toBe(true);
      expect(seen.get(unmarked)).toBe(false);
      expect(fillerPosts.filter((postId) => seen.get(postId) === true)).toHaveLength(fillers);
    }
    // Another user's bookmarks never mark the viewer's page.
    expect((await author.client.query(api.posts.getFeedPosts)).filter((post) => post.isBookmarked)).toEqual([]);
  });
});
