import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { SEARCH_QUERY_MAX } from "../../convex/lib/limits";
import { liveQuery } from "../../packages/engine/test/sync-support/live-query";
import { describeEach } from "./harness";
import { signUp } from "./support/accounts";
import { postImage } from "./support/content";
import { expectAppError } from "./support/errors";
import { allItems } from "./support/pages";

/**
 * Full-text search of people (username and full name) and of captions.
 * convex-test's search is a mock (any word, as a prefix, in creation order,
 * no relevance), so relevance order is asserted on the engine, which ranks
 * as Convex does; what both must agree on is asserted on both.
 */
describeEach("search", (get, factory) => {
  const ranks = factory.name === "engine";

  it("searchUsers finds people by username or full name, the last word as a prefix, best match first", async () => {
    // Made first, so a backend without relevance would list them first.
    await signUp(get(), { username: "bob", fullname: "Ada Smith" });
    await signUp(get(), { username: "ann_marie", fullname: "Marie Curie" });
    await signUp(get(), { username: "ada", fullname: "Ada Lovelace" });
    await signUp(get(), { username: "grace", fullname: "Grace Hopper" });
    const viewer = get().client(null);
    const names = async (query: string, limit?: number) =>
      (await viewer.query(api.users.searchUsers, { query, limit })).map((u) => u.username);

    // "ada" is both ada's username and her first name: she ranks above bob.
    const ada = await names("ada");
    expect(new Set(ada)).toEqual(new Set(["ada", "bob"]));
    if (ranks) expect(ada).toEqual(["ada", "bob"]);
    // The last word completes as typed; case and a leading "@" do not matter.
    expect(await names("LoveL")).toEqual(["ada"]);
    expect(await names("@gra")).toEqual(["grace"]);
    expect(await names("hopp")).toEqual(["grace"]);
    // A username's parts are words too.
    expect(await names("marie")).toEqual(["ann_marie"]);
    expect(await names("ann_ma")).toEqual(["ann_marie"]);
    expect(await names("zed")).toEqual([]);
    expect(await names("   ")).toEqual([]);
    expect(await names("ada", 1)).toHaveLength(1);
    if (ranks) expect(await names("ada", 1)).toEqual(["ada"]);

    const [first] = await viewer.query(api.users.searchUsers, { query: "grace" });
    expect(Object.keys(first!).sort()).toEqual(["_id", "fullname", "image", "username"]);
  });

  it("searchUsers follows renames and forgets deleted accounts", async () => {
    const ada = await signUp(get(), { username: "ada", fullname: "Ada Lovelace" });
    const viewer = get().client(null);
    const names = async (query: string) => (await viewer.query(api.users.searchUsers, { query })).map((u) => u.username);

    await ada.client.mutation(api.users.updateProfile, { fullname: "Countess Byron", username: "countess" });
    expect(await names("lovelace")).toEqual([]);
    expect(await names("byron")).toEqual(["countess"]);
    expect(await names("countess")).toEqual(["countess"]);

    await ada.client.mutation(api.users.deleteAccount);
    expect(await names("byron")).toEqual([]);
  });

  it("searchPosts finds captions by their words, pages through them, and follows edits and deletions", async () => {
    const ada = await signUp(get());
    const sunset = await postImage(get(), ada, "Golden sunset over the sea #sunset");
    const beach = await postImage(get(), ada, "A day at the beach");
    const sunrise = await postImage(get(), ada, "Sunrise, not a sunset");
    await postImage(get(), ada);
    const viewer = get().client(null);
    const ids = async (query: string) =>
      (await allItems((p) => viewer.query(api.posts.searchPosts, { query, paginationOpts: p }), 1)).map((p) => p._id);

    expect(new Set(await ids("sunset"))).toEqual(new Set([sunset, sunrise]));
    // Hashtags are words of the caption too; the last word is a prefix.
    expect(await ids("beac")).toEqual([beach]);
    expect(await ids("")).toEqual([]);
    if (ranks) expect((await ids("golden sunset"))[0]).toBe(sunset);

    const page = await viewer.query(api.posts.searchPosts, { query: "beach", paginationOpts: { numItems: 5, cursor: null } });
    expect(page.page[0]).toMatchObject({ _id: beach, author: { _id: ada.id }, isLiked: false, isBookmarked: false });

    await ada.client.mutation(api.posts.updateCaption, { postId: beach, caption: "A day at the lake" });
    expect(await ids("beach")).toEqual([]);
    expect(await ids("lake")).toEqual([beach]);

    await ada.client.mutation(api.posts.deletePost, { postId: sunrise });
    expect(await ids("sunset")).toEqual([sunset]);
  });

  it("search texts longer than the limit are refused", async () => {
    const viewer = get().client(null);
    const long = "a".repeat(SEARCH_QUERY_MAX + 1);
    await expectAppError(viewer.query(api.users.searchUsers, { query: long }), "INVALID_ARGUMENT");
    await expectAppError(
      viewer.query(api.posts.searchPosts, { query: long, paginationOpts: { numItems: 5, cursor: null } }),
      "INVALID_ARGUMENT",
    );
  });

  it.runIf(ranks)("search results are live: a new account, a new caption and a rename show up in open subscriptions", async () => {
    const ada = await signUp(get(), { username: "ada" });
    const live = get().live!(null);
    try {
      const people = liveQuery(live, api.users.searchUsers, { query: "zoe" });
      const posts = liveQuery(live, api.posts.searchPosts, { query: "volcano", paginationOpts: { numItems: 10, cursor: null } });
      await people.until((list) => list.length === 0);
      await posts.until((page) => page.page.length === 0);

      await signUp(get(), { username: "zoe", fullname: "Zoe Z" });
      await people.until((list) => list.map((u) => u.username).join() === "zoe", "zoe appears");
      await ada.client.mutation(api.users.updateProfile, { fullname: "Zoe Ada" });
      await people.until((list) => list.length === 2, "ada renamed to Zoe appears");

      const postId = await postImage(get(), ada, "An active volcano");
      await posts.until((page) => page.page.map((p) => p._id).join() === postId, "the new post appears");
      await ada.client.mutation(api.posts.updateCaption, { postId, caption: "A quiet lake" });
      await posts.until((page) => page.page.length === 0, "the edited post leaves");
    } finally {
      await live.close();
    }
  });
});
