import { httpRouter } from "convex/server";
import { ConvexError } from "convex/values";
import { Webhook, WebhookVerificationError } from "svix";
import { internal } from "./_generated/api";
import { httpAction } from "./_generated/server";
import { clerkIdOf, profileFromClerk } from "./model/clerk-payload";

/**
 * Clerk's webhook. The signature is checked over the raw request body, byte
 * for byte as Svix signed it (re-serialized JSON would not match), together
 * with the svix-id and svix-timestamp headers; Svix's library also refuses
 * timestamps more than five minutes off. Answers: 200 when handled (also for
 * duplicates and event types we ignore), 400 for anything unsigned, forged,
 * stale or malformed, 500 when the deployment lacks CLERK_WEBHOOK_SECRET.
 */
const clerkWebhook = httpAction(async (ctx, request) => {
  const secret = process.env.CLERK_WEBHOOK_SECRET;
  if (secret === undefined || secret === "") {
    return reply(500, "CLERK_WEBHOOK_SECRET is not set on this deployment; set it to the signing secret of the Clerk webhook endpoint.");
  }
  const svixId = request.headers.get("svix-id");
  const svixTimestamp = request.headers.get("svix-timestamp");
  const svixSignature = request.headers.get("svix-signature");
  if (!svixId || !svixTimestamp || !svixSignature) {
    return reply(400, "Missing svix-id, svix-timestamp or svix-signature header.");
  }

  let verifier: Webhook;
  try {
    verifier = new Webhook(secret);
  } catch {
    return reply(500, "CLERK_WEBHOOK_SECRET is malformed; copy the whsec_… secret from Clerk again.");
  }
  const body = await request.text();
  let event: unknown;
  try {
    event = verifier.verify(body, {
      "svix-id": svixId,
      "svix-timestamp": svixTimestamp,
      "svix-signature": svixSignature,
    });
  } catch (error) {
    if (error instanceof WebhookVerificationError) {
      return reply(400, `Invalid webhook signature: ${error.message}.`);
    }
    // The signature matched but the body is not JSON.
    return reply(400, "The webhook body is not valid JSON.");
  }
  if (typeof event !== "object" || event === null || typeof (event as { type?: unknown }).type !== "string") {
    return reply(400, "The webhook body is not a Clerk event (no `type`).");
  }
  const { type, data } = event as { type: string; data?: unknown };
  if (await ctx.runQuery(internal.clerk.wasProcessed, { svixId })) return reply(200, "duplicate");

  try {
    const outcome = await ctx.runMutation(internal.clerk.processEvent, {
      svixId,
      type,
      profile: type === "user.created" || type === "user.updated" ? profileFromClerk(data) : undefined,
      clerkId: type === "user.deleted" ? clerkIdOf(data) : undefined,
    });
    return reply(200, outcome);
  } catch (error) {
    // Our own validation errors mean the payload can never succeed: tell
    // Svix so (a 400) instead of letting it retry for days.
    if (error instanceof ConvexError) {
      const message = (error.data as { message?: string }).message ?? "invalid event";
      return reply(400, message);
    }
    throw error;
  }
});

function reply(status: number, message: string): Response {
  return new Response(JSON.stringify(status === 200 ? { status: message } : { error: message }), {
    status,
    headers: { "Content-Type": "application/json" },
  });
}

const http = httpRouter();
http.route({ path: "/clerk-webhook", method: "POST", handler: clerkWebhook });
export default http;
