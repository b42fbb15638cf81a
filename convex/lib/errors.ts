import { ConvexError } from "convex/values";

/**
 * The stable error codes clients see in `error.data.code`, grouped by how a
 * front end recovers:
 * - UNAUTHENTICATED: show the sign-in screen.
 * - ACCOUNT_NOT_FOUND: signed in, but the account does not exist (yet: the
 *   Clerk sign-up webhook may still be on its way, or it was deleted); retry
 *   shortly or sign out.
 * - NOT_FOUND: the thing was deleted or never existed; refresh the view.
 * - FORBIDDEN: the caller may not do this to someone else's data.
 * - INVALID_ARGUMENT: fix the input (the message says which rule).
 * - CONFLICT: the request clashes with current state (a taken username, a
 *   file already used by a post); pick something else.
 * - RATE_LIMITED: too many requests in a short time (or too many open
 *   uploads); `retryAfter`, when present, says in how many ms a retry
 *   succeeds (`lib/rate-limits.ts`).
 */
export const ERROR_CODES = [
  "UNAUTHENTICATED",
  "ACCOUNT_NOT_FOUND",
  "NOT_FOUND",
  "FORBIDDEN",
  "INVALID_ARGUMENT",
  "CONFLICT",
  "RATE_LIMITED",
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The data every app error carries to the client. */
export type AppErrorData = { code: ErrorCode; message: string; retryAfter?: number };

/** Builds the `ConvexError` the app throws; its data reaches clients unchanged. */
export function appError(
  code: ErrorCode,
  message: string,
  extra: { retryAfter?: number } = {},
): ConvexError<AppErrorData> {
  return new ConvexError({ code, message, ...extra });
}
