import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalMutation } from "./_generated/server";
import { dropTicket, sweepStep } from "./model/upload-tickets";

/** Background clean-up of uploads; the rules are in `model/upload-tickets.ts`. */

/** Runs when an upload URL's ticket can no longer be used: drop it, sweep orphans. */
export const expireTicket = internalMutation({
  args: { ticketId: v.id("uploadTickets") },
  returns: v.null(),
  handler: async (ctx, { ticketId }) => {
    await dropTicket(ctx, ticketId);
    if (await sweepStep(ctx)) await ctx.scheduler.runAfter(0, internal.uploads.sweepOrphans, {});
    return null;
  },
});

/** Deletes files no post uses once they are older than the upload window. */
export const sweepOrphans = internalMutation({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    if (await sweepStep(ctx)) await ctx.scheduler.runAfter(0, internal.uploads.sweepOrphans, {});
    return null;
  },
});
