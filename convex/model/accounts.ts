import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { userByClerkId } from "../lib/auth";
import { usernameFrom } from "../lib/input-rules";
import { FULLNAME_MAX, USERNAME_MAX } from "../lib/limits";
import { userCascadeStep } from "./account-cleanup";
import type { IdentityProfile } from "../lib/validators";
import { searchTextOf } from "./user-search";

/**
 * Creates the account for `profile`, or returns the existing one for that
 * Clerk id (so a re-sent `user.created` never makes a second account).
 */
export async function createAccount(ctx: MutationCtx, profile: IdentityProfile): Promise<Id<"users">> {
  const existing = await userByClerkId(ctx, profile.clerkId);
  return existing === null ? await insertAccount(ctx, profile) : existing._id;
}

async function insertAccount(ctx: MutationCtx, profile: IdentityProfile): Promise<Id<"users">> {
  const username = await allocateUsername(ctx, profile.usernameHints);
  const clerkFullname = clerkName(profile);
  const fullname = clerkFullname || username;
  return await ctx.db.insert("users", {
    username,
    fullname,
    searchText: searchTextOf(username, fullname),
    email: profile.email,
    image: profile.image,
    followers: 0,
    following: 0,
    posts: 0,
    clerkId: profile.clerkId,
    clerkFullname: clerkFullname || undefined,
  });
}

/**
 * Applies a `user.updated`. Clerk owns the email and the picture. The full
 * name can be edited in both places, so Clerk's is applied only when it
 * changed in Clerk (a picture change in Clerk does not undo a name edited in
 * the app). Username and bio belong to the app. Creates the account when
 * the update outran its `user.created`.
 */
export async function syncAccount(ctx: MutationCtx, profile: IdentityProfile): Promise<Id<"users">> {
  const existing = await userByClerkId(ctx, profile.clerkId);
  if (existing === null) return await insertAccount(ctx, profile);
  const changes: Partial<Doc<"users">> = { email: profile.email, image: profile.image };
  const name = clerkName(profile);
  if (name !== "" && name !== existing.clerkFullname) {
    changes.fullname = name;
    changes.clerkFullname = name;
    changes.searchText = searchTextOf(existing.username, name);
  }
  await ctx.db.patch("users", existing._id, changes);
  return existing._id;
}

/** Clerk's full name for `profile`, trimmed and cut to FULLNAME_MAX, or "". */
function clerkName(profile: IdentityProfile): string {
  return truncate(profile.fullname.trim(), FULLNAME_MAX);
}

/**
 * Deletes an account: the user document goes now (so the account vanishes
 * from every view and its sign-in no longer acts), everything else follows
 * in batches, the first one here, the rest scheduled
 * (`cascades.deleteUserBatch`).
 */
export async function beginAccountDeletion(ctx: MutationCtx, user: Doc<"users">): Promise<void> {
  await ctx.db.delete("users", user._id);
  if (await userCascadeStep(ctx, user._id)) {
    await ctx.scheduler.runAfter(0, internal.cascades.deleteUserBatch, { userId: user._id });
  }
}

/** True when no account uses `username`. */
export async function usernameIsFree(ctx: QueryCtx, username: string): Promise<boolean> {
  const taken = await ctx.db
    .query("users")
    .withIndex("by_username", (q) => q.eq("username", username))
    .first();
  return taken === null;
}

/**
 * A free, valid username from the first usable hint (or "user"), adding a
 * random numeric suffix on collision: `ada`, then e.g. `ada4821`, with longer
 * suffixes if those collide too. Never fails.
 */
async function allocateUsername(ctx: QueryCtx, hints: string[]): Promise<string> {
  const base = hints.map(usernameFrom).find((candidate) => candidate !== "") ?? "user";
  if (await usernameIsFree(ctx, base)) return base;
  for (let attempt = 0; ; attempt += 1) {
    const digits = Math.min(4 + attempt, 12);
    const suffix = String(Math.floor(Math.random() * 10 ** digits)).padStart(digits, "0");
    const candidate = base.slice(0, USERNAME_MAX - suffix.length) + suffix;
    if (await usernameIsFree(ctx, candidate)) return candidate;
  }
}

function truncate(text: string, max: number): string {
  return [...text].slice(0, max).join("");
}
