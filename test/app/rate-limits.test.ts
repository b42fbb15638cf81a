import { ConvexError } from "convex/values";
import { expect, it } from "vitest";
import { api } from "../../convex/_generated/api";
import { MAX_OPEN_UPLOADS } from "../../convex/lib/limits";
import { RATE_LIMITS } from "../../convex/lib/rate-limits";
import { describeEach } from "./harness";
import { signUpMany } from "./support/accounts";
import { postImage } from "./support/content";

/** Awaits `call`, expecting RATE_LIMITED; returns its `retryAfter` (ms). */
async function rateLimited(call: Promise<unknown>): Promise<number> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error, "expected RATE_LIMITED, but the call succeeded").toBeInstanceOf(ConvexError);
  const data = (error as ConvexError<{ code: string; message: string; retryAfter: number }>).data;
  expect(data.code).toBe("RATE_LIMITED");
  expect(data.message).toMatch(/try again in \d+ s/);
  expect(data.retryAfter).toBeGreaterThan(0);
  // A token comes back every period / rate; the wait is about one token's.
  return data.retryAfter;
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
    for (let i = 0; i < RATE_LIMITS.like.capacity; i += 1) await bob.client.mutation(api.posts.toggleLike, { postId });
    const retryAfter = await rateLimited(bob.client.mutation(api.posts.toggleLike, { postId }));
    expect(retryAfter).toBeLessThanOrEqual(RATE_LIMITS.like.period / RATE_LIMITS.like.rate + 1_000);
    // An even number of toggles: bob does not like it, and the refused one changed nothing.
    expect((await ada.client.query(api.posts.getPost, { postId }))?.likes).toBe(0);
    expect(await carl.client.mutation(api.posts.toggleLike, { postId })).toBe(true);
  }, 120_000);

  it(`comments: ${RATE_LIMITS.comment.capacity} in a burst, then refused without a comment or notification`, async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    const postId = await postImage(get(), ada);
    for (let i = 0; i < RATE_LIMITS.comment.capacity; i += 1) {
      await bob.client.mutation(api.comments.addComment, { postId, content: `c${i}` });
    }
    await rateLimited(bob.client.mutation(api.comments.addComment, { postId, content: "one more" }));
    expect((await ada.client.query(api.posts.getPost, { postId }))?.comments).toBe(RATE_LIMITS.comment.capacity);
    expect((await get().documents("comments")).some((c) => c.content === "one more")).toBe(false);
    await ada.client.mutation(api.comments.addComment, { postId, content: "ada is not limited" });
  }, 120_000);

  it(`follows: ${RATE_LIMITS.follow.capacity} follows and unfollows in a burst, then refused`, async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    for (let i = 0; i < RATE_LIMITS.follow.capacity; i += 1) await ada.client.mutation(api.users.toggleFollow, { followingId: bob.id });
    await rateLimited(ada.client.mutation(api.users.toggleFollow, { followingId: bob.id }));
    expect(await ada.client.query(api.users.isFollowing, { followingId: bob.id })).toBe(false);
    expect((await bob.client.query(api.users.getUserProfile, { id: bob.id })).followers).toBe(0);
    await bob.client.mutation(api.users.toggleFollow, { followingId: ada.id });
  }, 120_000);

  it(`uploads, and so posts: ${RATE_LIMITS.upload.capacity} upload URLs in a burst, then refused`, async () => {
    const [ada, bob] = await signUpMany(get(), 2);
    // Posting consumes each ticket, so the open-upload cap (10) never engages first.
    for (let i = 0; i < RATE_LIMITS.upload.capacity; i += 1) await postImage(get(), ada);
    expect(RATE_LIMITS.upload.capacity).toBeGreaterThan(MAX_OPEN_UPLOADS);
    await rateLimited(ada.client.mutation(api.posts.generateUploadUrl));
    expect((await get().documents("uploadTickets")).filter((t) => t.userId === ada.id)).toEqual([]);
    await postImage(get(), bob);
  }, 300_000);
});
