import { v } from "convex/values";
import { internalMutation, internalQuery, type QueryCtx } from "./_generated/server";
import { userByClerkId } from "./lib/auth";
import { identityProfile } from "./lib/validators";
import { beginAccountDeletion, createAccount, syncAccount } from "./model/accounts";

/** What became of one webhook delivery. */
const deliveryOutcome = v.union(
  v.literal("processed"),
  v.literal("duplicate"),
  v.literal("ignored"),
);

/**
 * Whether the delivery `svixId` was handled already. The HTTP action asks
 * first so a redelivery costs one read and writes nothing; `processEvent`
 * checks again, atomically, for deliveries that race.
 */
export const wasProcessed = internalQuery({
  args: { svixId: v.string() },
  returns: v.boolean(),
  handler: async (ctx, { svixId }) => (await findDelivery(ctx, svixId)) !== null,
});

async function findDelivery(ctx: QueryCtx, svixId: string) {
  return await ctx.db
    .query("webhookEvents")
    .withIndex("by_svix_id", (q) => q.eq("svixId", svixId))
    .first();
}

/**
 * Applies one verified Clerk event, already parsed by the HTTP action:
 * `profile` for user.created/user.updated, `clerkId` for user.deleted.
 * Recording the svix-id and applying the event happen in this one
 * transaction, so a redelivery is a no-op and a failed attempt leaves no
 * trace (Svix retries it).
 */
export const processEvent = internalMutation({
  args: {
    svixId: v.string(),
    type: v.string(),
    profile: v.optional(identityProfile),
    clerkId: v.optional(v.string()),
  },
  returns: deliveryOutcome,
  handler: async (ctx, { svixId, type, profile, clerkId }) => {
    if ((await findDelivery(ctx, svixId)) !== null) return "duplicate" as const;
    await ctx.db.insert("webhookEvents", { svixId, type });

    if (type === "user.created" && profile !== undefined) {
      await createAccount(ctx, profile);
      return "processed" as const;
    }
    if (type === "user.updated" && profile !== undefined) {
      await syncAccount(ctx, profile);
      return "processed" as const;
    }
    if (type === "user.deleted" && clerkId !== undefined) {
      const user = await userByClerkId(ctx, clerkId);
      if (user !== null) await beginAccountDeletion(ctx, user);
      return "processed" as const;
    }
    // Clerk sends many event types (sessions, organizations…); acknowledge
    // the ones we do not handle so Svix stops retrying them.
    return "ignored" as const;
  },
});
