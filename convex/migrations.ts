import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation } from "./_generated/server";
import { appError } from "./lib/errors";
import { MIGRATION_BATCH_SIZE } from "./lib/limits";
import { migratePostBatch } from "./model/post-migration";

/**
 * Data migrations, run by an operator (`npx convex run` on Convex, the
 * dashboard or an admin-key client on the engine). Each walks its table in
 * bounded batches through the scheduler and is idempotent, so running it
 * again, or after an interruption, only finishes what is left.
 */

/**
 * Brings posts written by earlier versions up to date: drops the absolute
 * `imageUrl` they stored (URLs are derived at read time now) and schedules
 * photo processing for posts never processed (display sizes, placeholder,
 * metadata removed), or stuck in it. Start it with `{}`; it continues
 * itself from `cursor`. Returns what this first batch did.
 */
export const derivePostImages = internalMutation({
  args: {
    cursor: v.optional(v.union(v.string(), v.null())),
    batchSize: v.optional(v.number()),
  },
  returns: v.object({ examined: v.number(), urlsRemoved: v.number(), processingScheduled: v.number(), done: v.boolean() }),
  handler: async (ctx, { cursor = null, batchSize = MIGRATION_BATCH_SIZE }) => {
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MIGRATION_BATCH_SIZE) {
      throw appError("INVALID_ARGUMENT", `batchSize must be a whole number from 1 to ${MIGRATION_BATCH_SIZE}.`);
    }
    const batch = await migratePostBatch(ctx, cursor, batchSize);
    if (batch.next !== null) {
      await ctx.scheduler.runAfter(0, internal.migrations.derivePostImages, { cursor: batch.next, batchSize });
    }
    return {
      examined: batch.examined,
      urlsRemoved: batch.urlsRemoved,
      processingScheduled: batch.processingScheduled,
      done: batch.next === null,
    };
  },
});
