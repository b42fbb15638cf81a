import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { appError } from "../lib/errors";
import {
  BATCH_SIZE,
  IMAGE_TYPE_PATTERN,
  MAX_IMAGE_BYTES,
  MAX_OPEN_UPLOADS,
  REFUSED_IMAGE_TYPES,
  UPLOAD_WINDOW_MS,
} from "../lib/limits";

/**
 * Upload ownership, as far as the app can tell. Convex does not record who
 * POSTed a file, so `generateUploadUrl` writes a ticket for the caller, and
 * `createPost` accepts a file only if the caller holds an unused ticket issued
 * before the file was created (and at most one upload window earlier), then
 * deletes that ticket. This proves the caller asked for an upload URL shortly
 * before the file appeared and that each ticket backs one post; it cannot
 * prove the bytes came through that caller's URL. Guessing another user's
 * fresh, not yet posted storage id is the remaining gap: ids are random and
 * are not shown to anyone until a post uses them, and a used file is refused.
 *
 * Orphans: a file no post references is deleted once it is older than
 * UPLOAD_WINDOW_MS, by a sweep that walks `_storage` in creation order from a
 * saved cursor. Every upload URL schedules one sweep two windows after it was
 * issued; by then anything uploaded through it is at least a window old.
 */

/** Extra wait after two windows, so the sweep surely covers the upload. */
const SWEEP_MARGIN_MS = 60 * 1000;
const SWEEP_NAME = "orphan-uploads";

/** Records that `user` is about to upload a file, and schedules its expiry. */
export async function issueTicket(ctx: MutationCtx, user: Doc<"users">): Promise<void> {
  const open = await ctx.db
    .query("uploadTickets")
    .withIndex("by_user", (q) =>
      q.eq("userId", user._id).gt("_creationTime", Date.now() - UPLOAD_WINDOW_MS),
    )
    .take(MAX_OPEN_UPLOADS);
  if (open.length >= MAX_OPEN_UPLOADS) {
    throw appError(
      "RATE_LIMITED",
      `You have ${MAX_OPEN_UPLOADS} unfinished uploads. Post or wait an hour before uploading more.`,
    );
  }
  const ticketId = await ctx.db.insert("uploadTickets", { userId: user._id });
  await ctx.scheduler.runAfter(2 * UPLOAD_WINDOW_MS + SWEEP_MARGIN_MS, internal.uploads.expireTicket, {
    ticketId,
  });
}

/**
 * Checks that `storageId` may become `user`'s next post image and consumes
 * the ticket that vouches for it.
 */
export async function claimUpload(
  ctx: MutationCtx,
  user: Doc<"users">,
  storageId: Id<"_storage">,
): Promise<void> {
  const file = await ctx.db.system.get("_storage", storageId);
  if (file === null) {
    throw appError("NOT_FOUND", "This upload does not exist or has expired. Upload the image again.");
  }
  const usedBy = await ctx.db
    .query("posts")
    .withIndex("by_storage", (q) => q.eq("storageId", storageId))
    .first();
  if (usedBy !== null) throw appError("CONFLICT", "This image is already used by a post.");

  const ticket = await ctx.db
    .query("uploadTickets")
    .withIndex("by_user", (q) =>
      q
        .eq("userId", user._id)
        .gte("_creationTime", file._creationTime - UPLOAD_WINDOW_MS)
        .lt("_creationTime", file._creationTime),
    )
    .order("desc")
    .first();
  if (ticket === null) {
    throw appError(
      "FORBIDDEN",
      "This upload was not made by you. Get an upload URL with generateUploadUrl and upload the image yourself.",
    );
  }
  if (file._creationTime < Date.now() - UPLOAD_WINDOW_MS) {
    throw appError("INVALID_ARGUMENT", "This upload is more than an hour old. Upload the image again.");
  }
  const type = (file.contentType ?? "").split(";")[0].trim().toLowerCase();
  if (!IMAGE_TYPE_PATTERN.test(type) || REFUSED_IMAGE_TYPES.has(type)) {
    const what = type === "" ? "of unknown type" : type;
    throw appError("INVALID_ARGUMENT", `Only images (not SVG) can be posted; this file is ${what}.`);
  }
  if (file.size > MAX_IMAGE_BYTES) {
    throw appError(
      "INVALID_ARGUMENT",
      `The image is too large: ${file.size} bytes, at most ${MAX_IMAGE_BYTES} allowed.`,
    );
  }
  await ctx.db.delete("uploadTickets", ticket._id);
}

/** Whether some post uses `storageId`, as its photo or as one of the photo's variants. */
async function isPostFile(ctx: MutationCtx, storageId: Id<"_storage">): Promise<boolean> {
  const [asPhoto, asDisplay, asThumbnail] = await Promise.all([
    ctx.db.query("posts").withIndex("by_storage", (q) => q.eq("storageId", storageId)).first(),
    ctx.db.query("posts").withIndex("by_display", (q) => q.eq("displayId", storageId)).first(),
    ctx.db.query("posts").withIndex("by_thumbnail", (q) => q.eq("thumbnailId", storageId)).first(),
  ]);
  return asPhoto !== null || asDisplay !== null || asThumbnail !== null;
}

/** Drops a ticket that was never used (a no-op if a post consumed it). */
export async function dropTicket(ctx: MutationCtx, ticketId: Id<"uploadTickets">): Promise<void> {
  if ((await ctx.db.get("uploadTickets", ticketId)) !== null) {
    await ctx.db.delete("uploadTickets", ticketId);
  }
}

/**
 * One batch of the orphan sweep. Returns true while older unchecked files
 * remain, so the caller reschedules it.
 */
export async function sweepStep(ctx: MutationCtx): Promise<boolean> {
  const horizon = Date.now() - UPLOAD_WINDOW_MS;
  const state = await ctx.db
    .query("sweepState")
    .withIndex("by_name", (q) => q.eq("name", SWEEP_NAME))
    .unique();
  const cursor = state?.cursor ?? 0;
  const files = await ctx.db.system
    .query("_storage")
    .withIndex("by_creation_time", (q) => q.gt("_creationTime", cursor).lt("_creationTime", horizon))
    .take(BATCH_SIZE);
  for (const file of files) {
    if (!(await isPostFile(ctx, file._id))) await ctx.storage.delete(file._id);
  }
  if (files.length > 0) {
    const last = files[files.length - 1]._creationTime;
    if (state === null) await ctx.db.insert("sweepState", { name: SWEEP_NAME, cursor: last });
    else await ctx.db.patch("sweepState", state._id, { cursor: last });
  }
  return files.length === BATCH_SIZE;
}
