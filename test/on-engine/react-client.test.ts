import { ConvexReactClient } from "convex/react";
import { afterAll, beforeAll, expect, test } from "vitest";
import WebSocket from "ws";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { startInstagramSync, type InstagramSync } from "./sync-support/instagram-engine";

/**
 * The client React apps use, unchanged: `ConvexReactClient` (here without
 * React rendering: `watchQuery` is what `useQuery` subscribes through) signs
 * in with a JWT, watches a profile and sees a follow from someone else.
 * Node 20 has no global WebSocket, so it gets `ws`, as a browser would have one.
 */
let sync: InstagramSync;
beforeAll(async () => {
  sync = await startInstagramSync();
});
afterAll(async () => sync?.close());

test("ConvexReactClient: auth confirmed, useQuery-style watch updates live, mutations resolve", async () => {
  const adaId = (await sync.createUser("user_react_ada")) as Id<"users">;
  await sync.createUser("user_react_bob");
  const client = new ConvexReactClient(sync.cloudUrl, {
    webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
    logger: false,
  });
  try {
    const authenticated = new Promise<boolean>((resolve) =>
      client.setAuth(() => sync.token("user_react_ada"), (isAuthenticated) => resolve(isAuthenticated)),
    );
    expect(await authenticated).toBe(true);

    const watch = client.watchQuery(api.users.getUserProfile, { id: adaId });
    const followersSeen: number[] = [];
    let onChange: () => void = () => {};
    const unsubscribe = watch.onUpdate(() => {
      const profile = watch.localQueryResult();
      if (profile) followersSeen.push(profile.followers);
      onChange();
    });
    const until = (check: () => boolean) =>
      new Promise<void>((resolve) => {
        onChange = () => check() && resolve();
        onChange();
      });
    await until(() => followersSeen.length > 0);
    expect(followersSeen.at(-1)).toBe(0);

    // Someone else follows Ada over their own connection; Ada's watch updates with no polling.
    const bob = await sync.client("user_react_bob");
    await bob.mutation(api.users.toggleFollow, { followingId: adaId });
    await until(() => followersSeen.at(-1) === 1);

    // Ada's own mutation resolves through the React client too.
    expect(await client.mutation(api.users.toggleFollow, { followingId: (await bob.query(api.users.getCurrentUser, {}))!._id })).toBe("following");
    expect(await client.query(api.users.isFollowing, { followingId: (await bob.query(api.users.getCurrentUser, {}))!._id })).toBe(true);
    unsubscribe();
  } finally {
    await client.close();
  }
});
