import { ConvexError } from "convex/values";
import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { MAX_OPEN_UPLOADS } from "../../convex/lib/limits";
import { RATE_LIMITS } from "../../convex/lib/rate-limits";
import { describeEach } from "./harness";
import { signUpMany } from "./support/accounts";
import { postImage } from "./support/content";

type Limit = { rate: number; period: number; capacity: number };

/**
 * Calls `call` until it is refused, expecting RATE_LIMITED with a message
 * and a positive `retryAfter`. The bucket starts full, so at least
 * `capacity` calls pass; it refills while the burst runs (a loaded machine
 * is slow), so up to one more per token refilled meanwhile may pass too.
 * Returns the refusal's `retryAfter` (ms).
 */
async function exhaust(limit: Limit, call: () => Promise<unknown>): Promise<number> {
  const start = Date.now();
  for (let allowed = 0; allowed <= limit.capacity * 2; allowed += 1) {
    const error = await call().then(
      () => null,
      (e: unknown) => e,
    );
    if (error === null) continue;
    expect(error).toBeInstanceOf(ConvexError);
    const data = (error as ConvexError<{ code: string; message: string; retryAfter: number }>).data;
    expect(data.code).toBe("RATE_LIMITED");
    expect(data.message).toMatch(/try again in \d+ s/);
    expect(data.retryAfter).toBeGreaterThan(0);
    const refilled = Math.ceil(((Date.now() - start) * limit.rate) / limit.period);
    expect(allowed).toBeGreaterThanOrEqual(limit.capacity);
    expect(allowed).toBeLessThanOrEqual(limit.capacity + refilled);
    return data.retryAfter;
  }
  throw new Error(`never refused within ${limit.capacity * 2} calls`);
}

/**
 * Per-user rate limits through `@convex-dev/rate-limiter`, the official
 * component, on both backends: each bucket allows its capacity in a burst,
 * then refuses with RATE_LIMITED and how long to wait, writes nothing, and
 * leaves other users' buckets alone.
 */
describeEach("rate limits", (get) => {
  it(`likes: ${RATE_LIMITS.like.capacity} in a burst, then refused without a change; other users still like`, async () => {
    const [ada, bob, carl] = await signUpMany(get(), 3);
    const postId = await postImage(get(), ada);
    let liked = false;
    const retryAfter = await exhaust(RATE_LIMITS.like, async () => {
      liked = await bob.client.mutation(api.posts.toggleLike, { postId });
    });
    // A token comes back every period / rate.
    expect(retryAfter).toBeLessThanOrEqual(RATE_LIMITS.like.period / RATE_LIMITS.like.rate + 1_000);
    // The refused toggle changed nothing: the count is what the last accepted one left.
    expect((await ada.client.query(api.posts.getPost, { postId }))?.likes).toBe(liked ? 1 : 0);
    expect(await carl.client.mutation(api.posts.toggleLike, { postId })).toBe(true);
  }, 120_000);

  it(`comments: ${RATE_LIMITS.comment.capacity} in a burst, then refused without a comment or notification`, async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    const postId = await postImage(get(), ada);
    let made = 0;
    await exhaust(RATE_LIMITS.comment, async () => {
      await bob.client.mutation(api.comments.addComment, { postId, content: `c${made}` });
      made += 1;
    });
    expect((await ada.client.query(api.posts.getPost, { postId }))?.comments).toBe(made);
    expect(await get().documents("comments")).toHaveLength(made);
    expect((await get().documents("notifications")).filter((n) => n.type === "comment")).toHaveLength(made);
    await ada.client.mutation(api.comments.addComment, { postId, content: "ada is not limited" });
  }, 120_000);

  it(`follows: ${RATE_LIMITS.follow.capacity} follows and unfollows in a burst, then refused`, async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    let following = 0;
    await exhaust(RATE_LIMITS.follow, async () => {
      await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
      following = 1 - following;
    });
    expect(await ada.client.query(api.users.isFollowing, { followingId: bob.id })).toBe(following === 1);
    expect((await bob.client.query(api.users.getUserProfile, { id: bob.id })).followers).toBe(following);
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
  }, 120_000);

  it("RATE_LIMIT_SCALE scales every limit on a deployment; a value that is not a positive number is ignored", async () => {
    const [ada, bob, carl] = await signUpMany(get(), 3);
    // A hundredth of the follow bucket: one follow, then refused.
    await get().setEnv("RATE_LIMIT_SCALE", "0.01");
    await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
    await exhaust({ ...RATE_LIMITS.follow, capacity: 0, rate: RATE_LIMITS.follow.rate / 100 }, () =>
      ada.client.mutation(api.users.toggleFollow, { followingId: carl.id }),
    );
    for (const ignored of ["0", "-5", "lots"]) {
      await get().setEnv("RATE_LIMIT_SCALE", ignored);
      // The full bucket again: bob, whose bucket is untouched, follows twice in a row.
      await bob.client.mutation(api.users.toggleFollow, { followingId: carl.id });
      await bob.client.mutation(api.users.toggleFollow, { followingId: carl.id });
    }
  });

  it(`uploads, and so posts: ${RATE_LIMITS.upload.capacity} upload URLs in a burst, then refused`, async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    // Posting consumes each ticket, so the open-upload cap (10) never engages first.
    expect(RATE_LIMITS.upload.capacity).toBeGreaterThan(MAX_OPEN_UPLOADS);
    await exhaust(RATE_LIMITS.upload, () => postImage(get(), ada));
    expect((await get().documents("uploadTickets")).filter((t) => t.userId === ada.id)).toEqual([]);
    await postImage(get(), bob);
  }, 300_000);
});
