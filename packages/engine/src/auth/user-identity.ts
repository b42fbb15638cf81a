import { authError } from "./auth-errors.js";

/** A JSON value, as custom claims carry them. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * What `ctx.auth.getUserIdentity()` returns (plain JSON, the shape of
 * `UserIdentity` in `convex/server`): the typed OIDC fields that the token
 * carried, plus its other claims as extra keys.
 */
export interface UserIdentity {
  /** `iss + "|" + sub`: the stable key apps store to recognise a user. */
  readonly tokenIdentifier: string;
  readonly issuer: string;
  readonly subject: string;
  readonly name?: string;
  readonly givenName?: string;
  readonly familyName?: string;
  readonly nickname?: string;
  readonly preferredUsername?: string;
  readonly profileUrl?: string;
  readonly pictureUrl?: string;
  readonly websiteUrl?: string;
  readonly email?: string;
  readonly emailVerified?: boolean;
  readonly gender?: string;
  readonly birthday?: string;
  readonly timezone?: string;
  readonly language?: string;
  readonly phoneNumber?: string;
  readonly phoneNumberVerified?: boolean;
  readonly address?: string;
  /** RFC 3339, e.g. `2024-01-01T00:00:00+00:00`. */
  readonly updatedAt?: string;
  readonly [claim: string]: JsonValue | undefined;
}

/** OIDC string claims and the identity field each one becomes. */
const STRING_CLAIMS: Record<string, string> = {
  name: "name",
  given_name: "givenName",
  family_name: "familyName",
  nickname: "nickname",
  preferred_username: "preferredUsername",
  profile: "profileUrl",
  picture: "pictureUrl",
  website: "websiteUrl",
  email: "email",
  gender: "gender",
  birthdate: "birthday",
  zoneinfo: "timezone",
  locale: "language",
  phone_number: "phoneNumber",
};
const BOOLEAN_CLAIMS: Record<string, string> = {
  email_verified: "emailVerified",
  phone_number_verified: "phoneNumberVerified",
};

/**
 * Claims that never become extra keys of an OIDC identity: the ID-token
 * protocol claims, the standard profile claims mapped above, and the three
 * the Convex backend drops (`jti`, `nbf`, Clerk's `fva`).
 */
const OIDC_NOT_CUSTOM = new Set([
  "iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "at_hash", "c_hash",
  "jti", "nbf", "fva", "address", "updated_at",
  ...Object.keys(STRING_CLAIMS),
  ...Object.keys(BOOLEAN_CLAIMS),
]);

/** RFC 7519 registered claims: the only ones a custom JWT's identity does not repeat as extra keys. */
const REGISTERED_CLAIMS = new Set(["iss", "sub", "aud", "exp", "nbf", "iat", "jti"]);

/** Maps the verified claims of an OIDC ID token to the identity (§6.4 of the interface notes). */
export function identityFromOidcClaims(claims: Record<string, unknown>): UserIdentity {
  const identity: Record<string, JsonValue> = {};
  for (const [claim, value] of Object.entries(claims)) {
    // `name#ja-Kana-JP` is a localized variant of a standard claim (OIDC Core §5.2), not a custom claim.
    if (OIDC_NOT_CUSTOM.has(claim.split("#")[0]!)) continue;
    identity[claim] = value as JsonValue;
  }
  Object.assign(identity, baseFields(claims));
  for (const [claim, field] of Object.entries(STRING_CLAIMS)) {
    const value = claims[claim];
    if (value === undefined) continue;
    if (typeof value !== "string") throw mistyped(claim, "a string", value);
    identity[field] = value;
  }
  for (const [claim, field] of Object.entries(BOOLEAN_CLAIMS)) {
    const value = claims[claim];
    if (value === undefined) continue;
    // Some providers (e.g. AWS Cognito) send these booleans as "true"/"false".
    if (value === "true" || value === "false") identity[field] = value === "true";
    else if (typeof value === "boolean") identity[field] = value;
    else throw mistyped(claim, "a boolean", value);
  }
  if (claims.address !== undefined) {
    const address = claims.address;
    if (typeof address !== "object" || address === null || Array.isArray(address)) {
      throw mistyped("address", "an object", address);
    }
    const formatted = (address as { formatted?: unknown }).formatted;
    if (typeof formatted === "string") identity.address = formatted;
  }
  if (claims.updated_at !== undefined) identity.updatedAt = rfc3339(claims.updated_at);
  return identity as UserIdentity;
}

/**
 * Maps the verified claims of a `customJwt` token: only `iss`/`sub` fill typed
 * fields; every other non-registered claim is kept under its own name, with
 * nested objects flattened to `"a.b"` keys, as the Convex backend does.
 */
export function identityFromCustomJwtClaims(claims: Record<string, unknown>): UserIdentity {
  const identity: Record<string, JsonValue> = {};
  const flatten = (prefix: string, value: unknown): void => {
    if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) flatten(`${prefix}.${k}`, v);
    } else identity[prefix] = value as JsonValue;
  };
  for (const [claim, value] of Object.entries(claims)) {
    if (!REGISTERED_CLAIMS.has(claim)) flatten(claim, value);
  }
  return Object.assign(identity, baseFields(claims)) as UserIdentity;
}

function baseFields(claims: Record<string, unknown>): { tokenIdentifier: string; issuer: string; subject: string } {
  const issuer = claims.iss as string;
  const subject = claims.sub as string;
  return { tokenIdentifier: `${issuer}|${subject}`, issuer, subject };
}

/** OIDC's `updated_at` is seconds since the epoch; some providers (Auth0) send an ISO string instead. */
function rfc3339(value: unknown): string {
  const ms = typeof value === "number" ? value * 1000 : typeof value === "string" ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw mistyped("updated_at", "seconds since the epoch or a date string", value);
  // Same rendering as the backend's chrono `to_rfc3339()`: `+00:00`, milliseconds only when non-zero.
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z").replace(/Z$/, "+00:00");
}

function mistyped(claim: string, expected: string, value: unknown) {
  const got = value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
  return authError("InvalidTokenClaims", `The token's \`${claim}\` claim must be ${expected}, but it is ${got}.`);
}
