import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { describeEach } from "./harness";
import { signUp, signUpMany } from "./support/accounts";
import { expectAppError } from "./support/errors";
import { allItems } from "./support/pages";

describeEach("users", (get) => {
  it("getCurrentUser returns the caller's full record, or null when signed out or without an account", async () => {
    const ada = await signUp(get(), { username: "ada", email: "ada@example.com", fullname: "Ada Lovelace" });
    const me = await ada.client.query(api.users.getCurrentUser);
    expect(me).toMatchObject({
      _id: ada.id,
      username: "ada",
      fullname: "Ada Lovelace",
      email: "ada@example.com",
      clerkId: ada.clerkId,
      followers: 0,
      following: 0,
      posts: 0,
    });
    expect(await get().client(null).query(api.users.getCurrentUser)).toBeNull();
    expect(await get().client("user_not_signed_up").query(api.users.getCurrentUser)).toBeNull();
  });

  it("getUserByClerkId shows the owner everything and everyone else only the public profile", async () => {
    const ada = await signUp(get(), { username: "ada", email: "ada@example.com" });
    const bob = await signUp(get(), { username: "bob" });

    const own = await ada.client.query(api.users.getUserByClerkId, { clerkId: ada.clerkId });
    expect(own).toMatchObject({ _id: ada.id, email: "ada@example.com", clerkId: ada.clerkId });

    for (const viewer of [bob.client, get().client(null)]) {
      const seen = await viewer.query(api.users.getUserByClerkId, { clerkId: ada.clerkId });
      expect(seen).toMatchObject({ _id: ada.id, username: "ada", followers: 0 });
      expect(seen).not.toHaveProperty("email");
      expect(seen).not.toHaveProperty("clerkId");
    }
    expect(await bob.client.query(api.users.getUserByClerkId, { clerkId: "user_nobody" })).toBeNull();
  });

  it("getUserProfile returns public fields and counters, and NOT_FOUND for a deleted account", async () => {
    const ada = await signUp(get(), { username: "ada", fullname: "Ada", email: "ada@example.com" });
    const bob = await signUp(get());
    await ada.client.mutation(api.users.updateProfile, { fullname: "Ada L.", bio: "Poet of numbers" });
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });

    const profile = await get().client(null).query(api.users.getUserProfile, { id: ada.id });
    expect(profile).toEqual({
      _id: ada.id,
      _creationTime: expect.any(Number),
      username: "ada",
      fullname: "Ada L.",
      bio: "Poet of numbers",
      image: "https://img.example.com/avatar.png",
      followers: 1,
      following: 0,
      posts: 0,
    });

    await ada.client.mutation(api.users.deleteAccount);
    await expectAppError(bob.client.query(api.users.getUserProfile, { id: ada.id }), "NOT_FOUND");
  });

  it("updateProfile edits name and bio: omitted bio stays, blank bio clears, names are trimmed", async () => {
    const ada = await signUp(get());
    await ada.client.mutation(api.users.updateProfile, { fullname: "  Ada  ", bio: "first bio" });
    expect(await ada.client.query(api.users.getCurrentUser)).toMatchObject({ fullname: "Ada", bio: "first bio" });

    await ada.client.mutation(api.users.updateProfile, { fullname: "Ada B" });
    expect(await ada.client.query(api.users.getCurrentUser)).toMatchObject({ fullname: "Ada B", bio: "first bio" });

    await ada.client.mutation(api.users.updateProfile, { fullname: "Ada B", bio: "   " });
    const me = await ada.client.query(api.users.getCurrentUser);
    expect(me).not.toHaveProperty("bio");
  });

  it("updateProfile changes the username only to a valid, free one", async () => {
    const ada = await signUp(get(), { username: "ada" });
    await signUp(get(), { username: "bob" });

    await ada.client.mutation(api.users.updateProfile, { fullname: "Ada", username: "ada.l_1" });
    expect((await ada.client.query(api.users.getCurrentUser))?.username).toBe("ada.l_1");

    await expectAppError(ada.client.mutation(api.users.updateProfile, { fullname: "Ada", username: "bob" }), "CONFLICT");
    await expectAppError(
      ada.client.mutation(api.users.updateProfile, { fullname: "Ada", username: "Ada" }),
      "INVALID_ARGUMENT",
    );
    await expectAppError(
      ada.client.mutation(api.users.updateProfile, { fullname: "Ada", username: "a b" }),
      "INVALID_ARGUMENT",
    );
    // Keeping one's own username is not a conflict.
    await ada.client.mutation(api.users.updateProfile, { fullname: "Ada", username: "ada.l_1" });
    // The freed name can be taken by someone else.
    const carl = await signUp(get());
    await carl.client.mutation(api.users.updateProfile, { fullname: "Carl", username: "ada" });
  });

  it("toggleFollow follows and unfollows, keeping both users' counters exact", async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    expect(await ada.client.query(api.users.isFollowing, { followingId: bob.id })).toBe(false);

    await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
    expect(await ada.client.query(api.users.isFollowing, { followingId: bob.id })).toBe(true);
    expect(await bob.client.query(api.users.isFollowing, { followingId: ada.id })).toBe(false);
    expect((await ada.client.query(api.users.getUserProfile, { id: ada.id })).following).toBe(1);
    expect((await ada.client.query(api.users.getUserProfile, { id: bob.id })).followers).toBe(1);

    await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
    expect(await ada.client.query(api.users.isFollowing, { followingId: bob.id })).toBe(false);
    expect((await ada.client.query(api.users.getUserProfile, { id: ada.id })).following).toBe(0);
    expect((await ada.client.query(api.users.getUserProfile, { id: bob.id })).followers).toBe(0);
    expect(await get().documents("follows")).toEqual([]);
  });

  it("toggleFollow refuses following yourself and following a deleted account", async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    await expectAppError(ada.client.mutation(api.users.toggleFollow, { followingId: ada.id }), "INVALID_ARGUMENT");
    await bob.client.mutation(api.users.deleteAccount);
    await expectAppError(ada.client.mutation(api.users.toggleFollow, { followingId: bob.id }), "NOT_FOUND");
    expect((await ada.client.query(api.users.getCurrentUser))?.following).toBe(0);
    expect(await get().documents("follows")).toEqual([]);
  });

  it("getFollowers and getFollowing list public summaries, most recent first", async () => {
    const [star, a, b, c] = await signUpMany(get(), 4);
    for (const fan of [a, b, c]) await fan.client.mutation(api.users.toggleFollow, { followingId: star.id });
    await star.client.mutation(api.users.toggleFollow, { followingId: a.id });

    const followers = await allItems((paginationOpts) =>
      get().client(null).query(api.users.getFollowers, { userId: star.id, paginationOpts }),
    );
    expect(followers.map((u) => u._id)).toEqual([c.id, b.id, a.id]);
    expect(followers[0]).toEqual({ _id: c.id, username: c.username, fullname: "Test User", image: expect.any(String) });

    const following = await allItems((paginationOpts) =>
      a.client.query(api.users.getFollowing, { userId: star.id, paginationOpts }),
    );
    expect(following.map((u) => u._id)).toEqual([a.id]);
  });

  it("searchUsers accepts a limit from 1 to 50", async () => {
    const viewer = get().client(null);
    await viewer.query(api.users.searchUsers, { query: "a", limit: 1 });
    await viewer.query(api.users.searchUsers, { query: "a", limit: 50 });
    await expectAppError(viewer.query(api.users.searchUsers, { query: "a", limit: 0 }), "INVALID_ARGUMENT");
    await expectAppError(viewer.query(api.users.searchUsers, { query: "a", limit: 51 }), "INVALID_ARGUMENT");
    await expectAppError(viewer.query(api.users.searchUsers, { query: "a", limit: 2.5 }), "INVALID_ARGUMENT");
  });
});
