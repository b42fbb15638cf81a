import { appError } from "../lib/errors";
import type { IdentityProfile } from "../lib/validators";

/**
 * Reading Clerk's user payloads defensively: every field but `id` may be
 * missing or null (users who signed up by phone have no email, many have no
 * username or name), and none of that may crash the webhook.
 */

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** The Clerk user id of an event's `data`, or an INVALID_ARGUMENT error. */
export function clerkIdOf(data: unknown): string {
  const id = isObject(data) ? data.id : undefined;
  if (typeof id !== "string" || id === "") {
    throw appError("INVALID_ARGUMENT", "The Clerk event has no user id (data.id).");
  }
  return id;
}

/** The primary email address, else the first one, else "". */
function primaryEmail(data: Json): string {
  const list = Array.isArray(data.email_addresses) ? data.email_addresses.filter(isObject) : [];
  const primary = list.find((entry) => entry.id === data.primary_email_address_id) ?? list[0];
  return primary === undefined ? "" : text(primary.email_address);
}

/** The profile a `user.created` or `user.updated` event describes. */
export function profileFromClerk(data: unknown): IdentityProfile {
  const clerkId = clerkIdOf(data);
  const user = data as Json;
  const email = primaryEmail(user);
  const fullname = `${text(user.first_name).trim()} ${text(user.last_name).trim()}`.trim();
  return profileFromFields({
    clerkId,
    email,
    username: text(user.username),
    fullname,
    image: text(user.image_url) || text(user.profile_image_url),
  });
}

/**
 * The profile of a user from plain fields. The webhook and
 * `users.createUser` both build profiles here, so they name users alike:
 * the username comes from the wished-for username, else the email's local
 * part, else the full name, else "user".
 */
export function profileFromFields(fields: {
  clerkId: string;
  email?: string;
  username?: string;
  fullname?: string;
  image?: string;
}): IdentityProfile {
  const email = fields.email ?? "";
  const fullname = fields.fullname ?? "";
  return {
    clerkId: fields.clerkId,
    email,
    usernameHints: [fields.username ?? "", email.split("@")[0] ?? "", fullname],
    fullname,
    image: fields.image ?? "",
  };
}
