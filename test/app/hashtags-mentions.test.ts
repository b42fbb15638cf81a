import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { HASHTAGS_MAX, MENTIONS_MAX } from "../../convex/lib/limits";
import { liveQuery } from "../../packages/engine/test/sync-support/live-query";
import { describeEach, type AppBackend } from "./harness";
import { signUp, signUpMany, type TestUser } from "./support/accounts";
import { postImage, uploadImage } from "./support/content";
import { expectAppError } from "./support/errors";
import { allItems } from "./support/pages";

/** The ids on a tag's page, newest first, walked two at a time. */
async function tagPage(backend: AppBackend, tag: string): Promise<Id<"posts">[]> {
  const viewer = backend.client(null);
  const posts = await allItems((p) => viewer.query(api.posts.getPostsByHashtag, { tag, paginationOpts: p }), 2);
  return posts.map((post) => post._id);
}

/** `user`'s mention notifications as [sender, post, comment text]. */
async function mentionsOf(user: TestUser): Promise<[Id<"users">, Id<"posts"> | undefined, string | undefined][]> {
  const list = await user.client.query(api.notifications.getNotifications);
  return list.filter((n) => n.type === "mention").map((n) => [n.senderId, n.postId, n.comment]);
}

describeEach("hashtags and mentions", (get, factory) => {
  it("captions' hashtags make tag pages: Unicode letters, any case, newest post first", async () => {
    const ada = await signUp(get());
    const first = await postImage(get(), ada, "#Sunset at the café #café");
    const second = await postImage(get(), ada, "Evening #SUNSET #日本 #夕日");
    const third = await postImage(get(), ada, "#sunset, again. Not tags: C#, a#b, &#39; #123 # x");

    expect(await tagPage(get(), "sunset")).toEqual([third, second, first]);
    expect(await tagPage(get(), "#SunSet")).toEqual([third, second, first]);
    expect(await tagPage(get(), "Café")).toEqual([first]);
    expect(await tagPage(get(), "日本")).toEqual([second]);
    expect(await tagPage(get(), "夕日")).toEqual([second]);
    for (const notATag of ["b", "39", "123", "x", ""]) expect(await tagPage(get(), notATag)).toEqual([]);

    const [shown] = (await get().client(null).query(api.posts.getPostsByHashtag, { tag: "café", paginationOpts: { numItems: 5, cursor: null } })).page;
    expect(shown).toMatchObject({ _id: first, author: { _id: ada.id }, isLiked: false });
  });

  it("editing a caption moves the post between tag pages; a kept tag keeps its place; deleting the post empties them", async () => {
    const ada = await signUp(get());
    const older = await postImage(get(), ada, "#sea #sky");
    const newer = await postImage(get(), ada, "#sea");

    await ada.client.mutation(api.posts.updateCaption, { postId: older, caption: "#sea #sand" });
    expect(await tagPage(get(), "sky")).toEqual([]);
    expect(await tagPage(get(), "sand")).toEqual([older]);
    // The edited post is still older on #sea: tag pages sort by post time.
    expect(await tagPage(get(), "sea")).toEqual([newer, older]);

    await ada.client.mutation(api.posts.updateCaption, { postId: newer, caption: "" });
    expect(await tagPage(get(), "sea")).toEqual([older]);

    await ada.client.mutation(api.posts.deletePost, { postId: older });
    expect(await tagPage(get(), "sea")).toEqual([]);
    await get().drainScheduled();
    expect(await get().documents("postTags")).toEqual([]);
  });

  it(`a caption or comment may carry ${HASHTAGS_MAX} hashtags and ${MENTIONS_MAX} mentions; more are refused and change nothing`, async () => {
    const ada = await signUp(get());
    const tags = (n: number) => Array.from({ length: n }, (_, i) => `#tag${i}x`).join(" ");
    const names = (n: number) => Array.from({ length: n }, (_, i) => `@someone${i}`).join(" ");

    const storageId = await uploadImage(get(), ada);
    await expectAppError(ada.client.mutation(api.posts.createPost, { storageId, caption: tags(HASHTAGS_MAX + 1) }), "INVALID_ARGUMENT");
    await expectAppError(ada.client.mutation(api.posts.createPost, { storageId, caption: names(MENTIONS_MAX + 1) }), "INVALID_ARGUMENT");
    await expectAppError(ada.client.mutation(api.posts.createPost, { storageId, caption: `#${"a".repeat(101)}` }), "INVALID_ARGUMENT");
    expect(await get().documents("posts")).toEqual([]);

    // Repeats count once.
    const postId = await ada.client.mutation(api.posts.createPost, { storageId, caption: `${tags(HASHTAGS_MAX)} #TAG0X ${names(MENTIONS_MAX)}` });
    expect(await get().documents("postTags")).toHaveLength(HASHTAGS_MAX);

    await expectAppError(ada.client.mutation(api.posts.updateCaption, { postId, caption: tags(HASHTAGS_MAX + 1) }), "INVALID_ARGUMENT");
    await expectAppError(ada.client.mutation(api.comments.addComment, { postId, content: tags(HASHTAGS_MAX + 1) }), "INVALID_ARGUMENT");
    await expectAppError(ada.client.mutation(api.comments.addComment, { postId, content: names(MENTIONS_MAX + 1) }), "INVALID_ARGUMENT");
    expect(await get().documents("comments")).toEqual([]);
    // Others see the post once its photo is processed.
    await get().settle();
    expect(await tagPage(get(), "tag29x")).toEqual([postId]);
  });

  it("a caption's @mentions notify existing accounts once, not yourself, and follow edits", async () => {
    const [ada, carl, dan] = await signUpMany(get(), 3);
    const bob = await signUp(get(), { username: "bob" });
    const postId = await postImage(
      get(),
      ada,
      `Hi @bob and @BOB, thanks @${carl.username}. Me: @${ada.username}; nobody: @nobody_here; mail: x@bob.com`,
    );
    expect(await mentionsOf(bob)).toEqual([[ada.id, postId, undefined]]);
    expect(await mentionsOf(carl)).toEqual([[ada.id, postId, undefined]]);
    expect(await mentionsOf(ada)).toEqual([]);
    const bobsFirst = (await get().documents("notifications")).find((n) => n.receiverId === bob.id);

    // Bob stays mentioned (same notification, not a second one), carl is dropped, dan is added.
    await ada.client.mutation(api.posts.updateCaption, { postId, caption: `@bob and @${dan.username}` });
    const rows = await get().documents("notifications");
    expect(rows.filter((n) => n.receiverId === bob.id)).toEqual([bobsFirst]);
    expect(await mentionsOf(carl)).toEqual([]);
    expect(await mentionsOf(dan)).toEqual([[ada.id, postId, undefined]]);

    await ada.client.mutation(api.posts.updateCaption, { postId, caption: "no one" });
    expect(await get().documents("notifications")).toEqual([]);
  });

  it("a comment's @mentions notify with the comment's text; the post's author only gets the comment notification; deletion takes them back", async () => {
    const [ada, bob, carl] = await signUpMany(get(), 3);
    const postId = await postImage(get(), ada, "a post");
    const commentId = await carl.client.mutation(api.comments.addComment, {
      postId,
      content: `@${bob.username} look, @${ada.username} posted this`,
    });
    expect(await mentionsOf(bob)).toEqual([[carl.id, postId, `@${bob.username} look, @${ada.username} posted this`]]);
    expect((await ada.client.query(api.notifications.getNotifications)).map((n) => n.type)).toEqual(["comment"]);

    await carl.client.mutation(api.comments.deleteComment, { commentId });
    expect(await get().documents("notifications")).toEqual([]);

    await carl.client.mutation(api.comments.addComment, { postId, content: `again @${bob.username}` });
    await postImage(get(), ada, `and @${bob.username} in a caption`);
    expect(await mentionsOf(bob)).toHaveLength(2);
    await ada.client.mutation(api.posts.deletePost, { postId });
    await get().drainScheduled();
    expect((await mentionsOf(bob)).map(([sender, post]) => [sender, post === postId])).toEqual([[ada.id, false]]);
  });

  it.runIf(factory.name === "engine")("a tag page is live: a new post with the tag appears at the top, an edit takes it off", async () => {
    const ada = await signUp(get());
    const older = await postImage(get(), ada, "#live");
    const live = get().live!(null);
    try {
      const page = liveQuery(live, api.posts.getPostsByHashtag, { tag: "LIVE", paginationOpts: { numItems: 10, cursor: null } });
      await page.until((p) => p.page.length === 1);
      const newer = await postImage(get(), ada, "still #live");
      await page.until((p) => p.page.map((post) => post._id).join() === [newer, older].join(), "the new post on top");
      await ada.client.mutation(api.posts.updateCaption, { postId: older, caption: "#dead" });
      await page.until((p) => p.page.map((post) => post._id).join() === newer, "the edited post gone");
    } finally {
      await live.close();
    }
  });
});
