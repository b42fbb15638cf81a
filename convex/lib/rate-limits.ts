import { HOUR, RateLimiter, type RateLimitConfig } from "@convex-dev/rate-limiter";
import { components } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { appError } from "./errors";

/**
 * Every per-user rate limit, in one place. Token buckets: `capacity` actions
 * in a burst, refilled at `rate` per `period`. They are flood guards sized
 * above what a person does by hand (a busy day of posting, a long comment
 * thread, an evening of liking), so only scripts meet them. The numbers are
 * the app's, not Convex's: change them here. A deployment may scale them all
 * with the env var RATE_LIMIT_SCALE (see {@link limitFor}).
 */
export const RATE_LIMITS = {
  /**
   * `posts.generateUploadUrl`. Posts are limited here too: a post needs an
   * unused upload ticket (one per URL), so posts cannot outrun uploads.
   */
  upload: { kind: "token bucket", rate: 60, period: HOUR, capacity: 120 },
  /** `comments.addComment`. */
  comment: { kind: "token bucket", rate: 300, period: HOUR, capacity: 200 },
  /** `posts.toggleLike`, likes and unlikes alike. */
  like: { kind: "token bucket", rate: 1_000, period: HOUR, capacity: 300 },
  /** `users.toggleFollow`, follows and unfollows alike. */
  follow: { kind: "token bucket", rate: 200, period: HOUR, capacity: 100 },
} as const satisfies Record<string, RateLimitConfig>;

/** One of {@link RATE_LIMITS}. */
export type RateLimitName = keyof typeof RATE_LIMITS;

/**
 * `name`'s limit on this deployment: RATE_LIMITS with rate and capacity
 * times the env var RATE_LIMIT_SCALE (a positive number; default 1). Load
 * tests and benchmarks that flood from a few accounts raise it; a value that
 * is not a positive number is ignored, so a typo never lifts the limits.
 */
export function limitFor(name: RateLimitName): RateLimitConfig {
  const base = RATE_LIMITS[name];
  const scale = Number(process.env.RATE_LIMIT_SCALE ?? "1");
  if (!Number.isFinite(scale) || scale <= 0 || scale === 1) return base;
  return { ...base, rate: base.rate * scale, capacity: Math.max(1, Math.round(base.capacity * scale)) };
}

/**
 * Takes one token of `name` for `user`, or throws
 * `ConvexError({ code: "RATE_LIMITED", message, retryAfter })` (ms until a
 * retry succeeds). The token lives in the rate limiter component's tables,
 * written in this mutation's transaction: a mutation that fails later gives
 * its token back, and a refused call consumes nothing.
 */
export async function takeRateLimit(ctx: MutationCtx, name: RateLimitName, user: Doc<"users">): Promise<void> {
  // A limiter per call: the deployment's scale is read when the call runs.
  const limits: Record<string, RateLimitConfig> = { [name]: limitFor(name) };
  const status = await new RateLimiter(components.rateLimiter, limits).limit(ctx, name, { key: user._id });
  if (!status.ok) {
    const seconds = Math.ceil(status.retryAfter / 1000);
    throw appError("RATE_LIMITED", `Too many ${name}s in a short time; try again in ${seconds} s.`, {
      retryAfter: status.retryAfter,
    });
  }
}
