import { v } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { internalMutation, mutation, type MutationCtx, query } from "./_generated/server";
import { requireOwner, requireUser } from "./lib/auth";
import { BATCH_SIZE, NOTIFICATIONS_LIMIT, UNREAD_COUNT_CAP } from "./lib/limits";
import { notificationWithDetails } from "./lib/validators";
import { docLoader, notificationDetails } from "./model/views";
import { canSeeUser } from "./model/visibility";

/**
 * The caller's newest NOTIFICATIONS_LIMIT (50) notifications, newest first,
 * each with its sender, its post (null for follows) and, for comments, the
 * comment's text. Ones whose sender, post or comment is gone are left out.
 */
export const getNotifications = query({
  args: {},
  returns: v.array(notificationWithDetails),
  handler: async (ctx) => {
    const me = await requireUser(ctx);
    const rows = await ctx.db
      .query("notifications")
      .withIndex("by_receiver", (q) => q.eq("receiverId", me._id))
      .order("desc")
      .take(NOTIFICATIONS_LIMIT);
    const load = docLoader(ctx);
    const detailed = await Promise.all(rows.map((row) => notificationDetails(ctx, me, row, load)));
    return detailed.filter((row) => row !== null);
  },
});

/**
 * How many of the caller's notifications are unread, counted up to
 * UNREAD_COUNT_CAP (100): a result of 100 means "100 or more" (show "99+").
 * Notifications from accounts blocked either way are not counted, as
 * `getNotifications` does not show them.
 */
export const getUnreadCount = query({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const me = await requireUser(ctx);
    const unread = await ctx.db
      .query("notifications")
      .withIndex("by_receiver_and_read", (q) => q.eq("receiverId", me._id).eq("read", false))
      .take(UNREAD_COUNT_CAP);
    const load = docLoader(ctx);
    const shown = await Promise.all(unread.map((row) => canSeeUser(ctx, me, row.senderId, load)));
    return shown.filter(Boolean).length;
  },
});

/** Marks one of the caller's notifications read. */
export const markRead = mutation({
  args: { notificationId: v.id("notifications") },
  returns: v.null(),
  handler: async (ctx, { notificationId }) => {
    const me = await requireUser(ctx);
    await requireOwner(ctx, me, "notifications", notificationId, "receiverId", "notification");
    await ctx.db.patch("notifications", notificationId, { read: true });
    return null;
  },
});

/**
 * Marks every notification the caller has so far as read: up to BATCH_SIZE
 * now, the rest (if any) moments later in background batches. Notifications
 * arriving after the call stay unread.
 */
export const markAllRead = mutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    const me = await requireUser(ctx);
    // "So far" is the newest unread one now, not the clock: creation times
    // and Date.now() need not agree to the millisecond.
    const newest = await ctx.db
      .query("notifications")
      .withIndex("by_receiver_and_read", (q) => q.eq("receiverId", me._id).eq("read", false))
      .order("desc")
      .first();
    if (newest !== null) await markReadBatch(ctx, me._id, newest._creationTime);
    return null;
  },
});

/** The background part of `markAllRead`. */
export const markAllReadBatch = internalMutation({
  args: { userId: v.id("users"), upTo: v.number() },
  returns: v.null(),
  handler: async (ctx, { userId, upTo }) => {
    await markReadBatch(ctx, userId, upTo);
    return null;
  },
});

async function markReadBatch(ctx: MutationCtx, userId: Id<"users">, upTo: number): Promise<void> {
  const unread = await ctx.db
    .query("notifications")
    .withIndex("by_receiver_and_read", (q) =>
      q.eq("receiverId", userId).eq("read", false).lte("_creationTime", upTo),
    )
    .take(BATCH_SIZE);
  for (const row of unread) await ctx.db.patch("notifications", row._id, { read: true });
  if (unread.length === BATCH_SIZE) {
    await ctx.scheduler.runAfter(0, internal.notifications.markAllReadBatch, { userId, upTo });
  }
}
