import { Webhook } from "svix";
import { backendNow, type AppBackend } from "../harness";

/**
 * Clerk webhooks as Clerk sends them: JSON events signed by Svix over the
 * exact body bytes, with svix-id, svix-timestamp and svix-signature headers.
 */

/** A fresh signing secret in Clerk's `whsec_<base64>` form. */
export function newWebhookSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return `whsec_${Buffer.from(bytes).toString("base64")}`;
}

let deliveries = 0;

/** A svix message id no other delivery in this run has. */
export function newMessageId(): string {
  deliveries += 1;
  return `msg_test${deliveries}_${Math.random().toString(36).slice(2, 10)}`;
}

/** The `data` of a Clerk user event. */
export function clerkUser(fields: {
  id: string;
  email?: string | null;
  username?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  imageUrl?: string;
}): Record<string, unknown> {
  const emailId = `idn_${fields.id}`;
  return {
    id: fields.id,
    object: "user",
    username: fields.username ?? null,
    first_name: fields.firstName ?? null,
    last_name: fields.lastName ?? null,
    image_url: fields.imageUrl ?? `https://img.clerk.com/${fields.id}.png`,
    primary_email_address_id: fields.email ? emailId : null,
    email_addresses: fields.email ? [{ id: emailId, object: "email_address", email_address: fields.email }] : [],
    created_at: 1_700_000_000_000,
    updated_at: 1_700_000_000_000,
  };
}

/** A Clerk event body, as the exact text Clerk would send. */
export function clerkEvent(type: string, data: unknown): string {
  return JSON.stringify({ data, object: "event", type, timestamp: 1_700_000_000_000 });
}

/** Svix headers signing `body` with `secret` (at the test's clock unless told). */
export function svixHeaders(
  secret: string,
  body: string,
  options: { msgId?: string; timestamp?: Date } = {},
): Record<string, string> {
  const msgId = options.msgId ?? newMessageId();
  const timestamp = options.timestamp ?? new Date();
  return {
    "svix-id": msgId,
    "svix-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
    "svix-signature": new Webhook(secret).sign(msgId, timestamp, body),
    "content-type": "application/json",
  };
}

/** POSTs `body` to the Clerk webhook with `headers`. */
export async function postWebhook(
  backend: AppBackend,
  body: string,
  headers: Record<string, string>,
): Promise<Response> {
  return await backend.fetchSite("/clerk-webhook", { method: "POST", headers, body });
}

/** Signs (at the backend's current time, unless told) and delivers a Clerk event. */
export async function deliver(
  backend: AppBackend,
  secret: string,
  type: string,
  data: unknown,
  options: { msgId?: string; timestamp?: Date } = {},
): Promise<Response> {
  const body = clerkEvent(type, data);
  const timestamp = options.timestamp ?? new Date(await backendNow(backend));
  return await postWebhook(backend, body, svixHeaders(secret, body, { ...options, timestamp }));
}
