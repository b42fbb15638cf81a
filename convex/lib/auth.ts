import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { appError } from "./errors";

/**
 * The signed-in caller's user record, or null when the caller is anonymous
 * or has no account (the sign-up webhook has not arrived, or the account was
 * deleted). For queries that also serve signed-out viewers.
 */
export async function getViewer(ctx: QueryCtx): Promise<Doc<"users"> | null> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) return null;
  return await userByClerkId(ctx, identity.subject);
}

/** The user whose Clerk id (the JWT subject) is `clerkId`, if any. */
export async function userByClerkId(
  ctx: QueryCtx,
  clerkId: string,
): Promise<Doc<"users"> | null> {
  return await ctx.db
    .query("users")
    .withIndex("by_clerk_id", (q) => q.eq("clerkId", clerkId))
    .unique();
}

/**
 * The caller's user record. Anonymous callers get UNAUTHENTICATED; signed-in
 * callers without an account get ACCOUNT_NOT_FOUND, so a front end can tell
 * "sign in" apart from "your account is still being set up".
 */
export async function requireUser(ctx: QueryCtx): Promise<Doc<"users">> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) {
    throw appError("UNAUTHENTICATED", "You must be signed in to do this.");
  }
  const user = await userByClerkId(ctx, identity.subject);
  if (user === null) {
    throw appError(
      "ACCOUNT_NOT_FOUND",
      "No account exists for this sign-in yet. If you just signed up, try again in a moment.",
    );
  }
  return user;
}

/**
 * Loads `id` from `table` and checks that `user` owns it through `ownerField`.
 * A missing document is NOT_FOUND; someone else's is FORBIDDEN.
 */
export async function requireOwner<T extends TableNames>(
  ctx: QueryCtx,
  user: Doc<"users">,
  table: T,
  id: Id<T>,
  ownerField: keyof Doc<T> & string,
  what: string,
): Promise<Doc<T>> {
  const doc = await ctx.db.get(table, id);
  if (doc === null) throw appError("NOT_FOUND", `This ${what} does not exist or was deleted.`);
  if ((doc as Record<string, unknown>)[ownerField] !== user._id) {
    throw appError("FORBIDDEN", `Only the author can change or delete this ${what}.`);
  }
  return doc;
}
