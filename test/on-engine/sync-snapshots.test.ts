import { afterAll, beforeAll, expect, test } from "vitest";
import { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";
import { startInstagramSync, type InstagramSync } from "./sync-support/instagram-engine";

/**
 * One snapshot per Transition while subscription runs and mutations
 * interleave. Runs take no lock of the sync layer's: each reads whatever
 * snapshot the executor gives it, so likes commit between (and, on query
 * workers, during) the runs of one client's subscriptions, and each result is
 * checked against the commits after its snapshot. Each viewer watches the
 * same two posts three ways (two `getPost`s and the feed) while five likers
 * like both at once, each P first and Q after P's like committed: in every
 * snapshot P has at least as many likes as Q, so any state a client is shown
 * must too, and all three views must agree.
 */

let app: InstagramSync;
let alice: Id<"users">;

beforeAll(async () => {
  app = await startInstagramSync();
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
  await app.createUser("lastLiker");

  const observations: string[] = [];
  const done: Promise<void>[] = [];
  const sawLastLike: Promise<void>[] = [];
  const lastSeen: string[] = Array.from({ length: VIEWERS }, () => "nothing yet");
  let likesDone = 0;
  for (let i = 0; i < VIEWERS; i++) {
    const client = await app.client(`viewer${i}`);
    let finish!: () => void;
    done.push(new Promise((resolve) => (finish = resolve)));
    let finishLast!: () => void;
    sawLastLike.push(new Promise((resolve) => (finishLast = resolve)));
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
      const consistent = postP.likes >= postQ.likes && inFeed(p) === postP.likes && inFeed(q) === postQ.likes;
      if (!consistent) observations.push(`viewer${i} saw ${state}`);
      if (postQ.likes === LIKERS && inFeed(q) === LIKERS) finish();
      if (postP.likes === LIKERS + 1 && inFeed(p) === LIKERS + 1) finishLast();
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
  // Official WebSocket clients: each sends both likes at once and the engine runs them in order,
  // so Q's like waits for the executor right behind P's commit, among the runs that commit started.
  const likers = await Promise.all(Array.from({ length: LIKERS }, (_, i) => app.client(`liker${i}`)));
  const work = async () => {
    await Promise.all(
      likers.map(async (liker) => {
        const first = liker.mutation(api.posts.toggleLike, { postId: p });
        const second = liker.mutation(api.posts.toggleLike, { postId: q });
        await first;
        likesDone += 1;
        await second;
        likesDone += 1;
      }),
    );
    await Promise.all(done);
  };
  await Promise.race([work(), stuck]).finally(() => clearTimeout(timer));
  // The likers' mutations may all commit in one group, and then every result is recomputed at one
  // snapshot. One more like on P alone makes a mixed Transition certain: P's two views run again
  // at its commit while Q's result, which that commit cannot change, stays valid from its own.
  const lastLiker = await app.client("lastLiker");
  await lastLiker.mutation(api.posts.toggleLike, { postId: p });
  await Promise.all(sawLastLike);
  expect(observations).toEqual([]);
  await app.running.engine.sync.idle();
  // Clients were shown results computed at different snapshots, each still valid at the Transition's.
  expect(app.running.engine.sync.stats().mixedSnapshotTransitions).toBeGreaterThan(0);
});
