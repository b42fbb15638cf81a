import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { internalMutation, mutation, query } from "./_generated/server";
import { getViewer, requireUser, userByClerkId } from "./lib/auth";
import { appError } from "./lib/errors";
import { checkFullname, checkUsername, normalizeBio } from "./lib/input-rules";
import { SEARCH_DEFAULT_LIMIT, SEARCH_MAX_LIMIT } from "./lib/limits";
import { takeRateLimit } from "./lib/rate-limits";
import { boundedPage, mapPage } from "./lib/pagination";
import { publicUser, userDoc, userSummary } from "./lib/validators";
import { beginAccountDeletion, createAccount, usernameIsFree } from "./model/accounts";
import { profileFromFields } from "./model/clerk-payload";
import { findFollow, toggleFollow as toggleFollowModel } from "./model/follow-graph";
import { searchTextOf, searchUsers as searchUsersModel } from "./model/user-search";
import { publicProfile, summaryOf } from "./model/views";

/**
 * Creates an account. Internal: no client may create users; the Clerk
 * webhook does (through the same `createAccount`), and so can operators and
 * tests with an admin key. Idempotent per clerkId; `username` is a wish,
 * adjusted to be valid and unique. Returns the account's id.
 */
export const createUser = internalMutation({
  args: {
    clerkId: v.string(),
    email: v.optional(v.string()),
    username: v.optional(v.string()),
    fullname: v.optional(v.string()),
    image: v.optional(v.string()),
  },
  returns: v.id("users"),
  handler: async (ctx, args) => await createAccount(ctx, profileFromFields(args)),
});

/**
 * The account of Clerk user `clerkId`: the full record when it is the
 * caller's own, the public profile (no email, no clerkId) otherwise, null if
 * there is none.
 */
export const getUserByClerkId = query({
  args: { clerkId: v.string() },
  returns: v.union(userDoc, publicUser, v.null()),
  handler: async (ctx, { clerkId }) => {
    const user = await userByClerkId(ctx, clerkId);
    if (user === null) return null;
    const identity = await ctx.auth.getUserIdentity();
    return identity?.subject === clerkId ? user : publicProfile(user);
  },
});

/** The caller's own full record, or null when signed out or without an account. */
export const getCurrentUser = query({
  args: {},
  returns: v.union(userDoc, v.null()),
  handler: async (ctx) => await getViewer(ctx),
});

/**
 * Edits the caller's profile. `fullname` 1–64 characters; `bio` up to 150
 * (blank clears it; omitted leaves it); optional `username` 1–30 of
 * `[a-z0-9._]`, unique (CONFLICT when taken).
 */
export const updateProfile = mutation({
  args: { fullname: v.string(), bio: v.optional(v.string()), username: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const me = await requireUser(ctx);
    const fullname = checkFullname(args.fullname);
    const changes: { fullname: string; bio?: string; username?: string; searchText?: string } = { fullname };
    if (args.bio !== undefined) changes.bio = normalizeBio(args.bio);
    if (args.username !== undefined && args.username !== me.username) {
      const username = checkUsername(args.username);
      if (!(await usernameIsFree(ctx, username))) {
        throw appError("CONFLICT", `The username "${username}" is taken.`);
      }
      changes.username = username;
    }
    changes.searchText = searchTextOf(changes.username ?? me.username, fullname);
    await ctx.db.patch("users", me._id, changes);
    return null;
  },
});

/** A user's public profile with counters; NOT_FOUND if the account is gone. */
export const getUserProfile = query({
  args: { id: v.id("users") },
  returns: publicUser,
  handler: async (ctx, { id }) => {
    const user = await ctx.db.get("users", id);
    if (user === null) throw appError("NOT_FOUND", "This user does not exist or was deleted.");
    return publicProfile(user);
  },
});

/** Whether the caller follows `followingId`. */
export const isFollowing = query({
  args: { followingId: v.id("users") },
  returns: v.boolean(),
  handler: async (ctx, { followingId }) => {
    const me = await requireUser(ctx);
    return (await findFollow(ctx, me._id, followingId)) !== null;
  },
});

/** Follows `followingId`, or unfollows if already following. */
export const toggleFollow = mutation({
  args: { followingId: v.id("users") },
  returns: v.null(),
  handler: async (ctx, { followingId }) => {
    const me = await requireUser(ctx);
    await takeRateLimit(ctx, "follow", me);
    await toggleFollowModel(ctx, me, followingId);
    return null;
  },
});

/** Who follows `userId`, newest follower first (paginated). */
export const getFollowers = query({
  args: { userId: v.id("users"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(userSummary),
  handler: async (ctx, { userId, paginationOpts }) => {
    const rows = await ctx.db
      .query("follows")
      .withIndex("by_following", (q) => q.eq("followingId", userId))
      .order("desc")
      .paginate(boundedPage(paginationOpts));
    return await mapPage(rows, (row) => summaryOf(ctx, row.followerId));
  },
});

/** Whom `userId` follows, most recently followed first (paginated). */
export const getFollowing = query({
  args: { userId: v.id("users"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(userSummary),
  handler: async (ctx, { userId, paginationOpts }) => {
    const rows = await ctx.db
      .query("follows")
      .withIndex("by_follower", (q) => q.eq("followerId", userId))
      .order("desc")
      .paginate(boundedPage(paginationOpts));
    return await mapPage(rows, (row) => summaryOf(ctx, row.followingId));
  },
});

/**
 * Users whose username or full name matches `query` (full-text: whole
 * words, the last one also as a prefix, so results follow typing; a leading
 * "@" ignored), best match first, live; `limit` 1–50, default 10. A blank
 * query finds nobody.
 */
export const searchUsers = query({
  args: { query: v.string(), limit: v.optional(v.number()) },
  returns: v.array(userSummary),
  handler: async (ctx, args) => {
    const limit = args.limit ?? SEARCH_DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > SEARCH_MAX_LIMIT) {
      throw appError("INVALID_ARGUMENT", `limit must be a whole number from 1 to ${SEARCH_MAX_LIMIT}.`);
    }
    return await searchUsersModel(ctx, await getViewer(ctx), args.query, limit);
  },
});

/**
 * Deletes the caller's account and everything in it: the account vanishes at
 * once, posts, files, likes, comments, follows, notifications and bookmarks
 * follow in background batches, keeping every other user's counters right.
 * (The Clerk user itself is deleted by the front end through Clerk.)
 */
export const deleteAccount = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const me = await requireUser(ctx);
    await beginAccountDeletion(ctx, me);
    return null;
  },
});
