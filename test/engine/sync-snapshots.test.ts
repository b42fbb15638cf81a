import { ConvexHttpClient } from "convex/browser";
import { afterAll, beforeAll, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { startInstagramSync, type InstagramSync } from "./sync-support/instagram-engine";

/**
 * One snapshot per Transition while update rounds and mutations interleave.
 * With a slice length of zero, a round gives the executor lock back after
 * every subscription it runs, so likes commit in the middle of rounds. Each
 * viewer watches the same two posts three ways (two `getPost`s and the feed);
 * likes always land on P before Q, so any state a client is shown must have
 * P's count equal to or one above Q's, and all three views must agree.
 */

let app: InstagramSync;
let alice: Id<"users">;

beforeAll(async () => {
  app = await startInstagramSync({ sync: { sliceMs: 0 } });
  alice = (await app.createUser("alice")) as Id<"users">;
});
afterAll(async () => {
  await app?.close();
});

test("every state a client is shown comes from one snapshot while rounds and commits interleave", async () => {
  const p = (await app.seedPost(alice, "P")) as Id<"posts">;
  const q = (await app.seedPost(alice, "Q")) as Id<"posts">;
  const VIEWERS = 6;
  const LIKERS = 5;
  for (let i = 0; i < VIEWERS; i++) await app.createUser(`viewer${i}`);
  for (let i = 0; i < LIKERS; i++) await app.createUser(`liker${i}`);

  const observations: string[] = [];
  const done: Promise<void>[] = [];
  const lastSeen: string[] = Array.from({ length: VIEWERS }, () => "nothing yet");
  let likesDone = 0;
  for (let i = 0; i < VIEWERS; i++) {
    const client = await app.client(`viewer${i}`);
    let finish!: () => void;
    done.push(new Promise((resolve) => (finish = resolve)));
    // Callbacks run after the client applied a whole Transition: reading every subscription's
    // current value (not the value each callback was handed) sees one client state.
    const check = () => {
      const postP = watchP.getCurrentValue();
      const postQ = watchQ.getCurrentValue();
      const feed = watchFeed.getCurrentValue();
      if (!postP || !postQ || !feed) return;
      const inFeed = (id: string) => feed.find((f) => f._id === id)?.likes;
      const state = `${postP.likes}/${postQ.likes} feed ${inFeed(p)}/${inFeed(q)}`;
      lastSeen[i] = state;
      const consistent = postP.likes - postQ.likes >= 0 && postP.likes - postQ.likes <= 1 && inFeed(p) === postP.likes && inFeed(q) === postQ.likes;
      if (!consistent) observations.push(`viewer${i} saw ${state}`);
      if (postQ.likes === LIKERS && inFeed(q) === LIKERS) finish();
    };
    const watchP = client.onUpdate(api.posts.getPost, { postId: p }, check);
    const watchQ = client.onUpdate(api.posts.getPost, { postId: q }, check);
    const watchFeed = client.onUpdate(api.posts.getFeedPosts, {}, check);
  }

  // If a like or a viewer never gets there, say where everything stood instead of timing out blind.
  let timer: NodeJS.Timeout | undefined;
  const stuck = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const { lock } = app.running.engine.app.runtime;
      reject(
        new Error(
          `viewers did not all see ${LIKERS}/${LIKERS}: last seen ${JSON.stringify(lastSeen)}; ` +
            `${likesDone} likes acknowledged; sync ${JSON.stringify(app.running.engine.sync.stats())}; ` +
            `lock held ${lock.isHeld}, ${lock.queueLength} waiting`,
        ),
      );
    }, 20_000);
  });
  const work = async () => {
    for (let i = 0; i < LIKERS; i++) {
      const liker = new ConvexHttpClient(app.cloudUrl, { logger: false });
      liker.setAuth(await app.token(`liker${i}`));
      await liker.mutation(api.posts.toggleLike, { postId: p });
      likesDone += 1;
      await liker.mutation(api.posts.toggleLike, { postId: q });
      likesDone += 1;
    }
    await Promise.all(done);
  };
  await Promise.race([work(), stuck]).finally(() => clearTimeout(timer));
  expect(observations).toEqual([]);
  await app.running.engine.sync.idle();
  // The last round ran every viewer's three subscriptions, one per turn of the lock.
  expect(app.running.engine.sync.stats().lastRound?.slices).toBeGreaterThan(1);
});
