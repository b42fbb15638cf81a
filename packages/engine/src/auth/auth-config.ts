import type { JSONWebKeySet } from "jose";
import { authError } from "./auth-errors.js";

/** Signature algorithms a `customJwt` provider may declare (Convex's `AuthProvider` type). */
export type CustomJwtAlgorithm = "RS256" | "ES256";

/** Where a `customJwt` provider's keys come from: fetched from a URL, or inlined as a `data:` URL. */
export type JwksSource =
  | { kind: "url"; url: string }
  | { kind: "inline"; keySet: JSONWebKeySet };

/** An OIDC provider (Clerk, Auth0, Convex Auth, the dev issuer): keys found by discovery. */
export interface OidcProvider {
  kind: "oidc";
  /** Normalized issuer: scheme present, no trailing slash. */
  issuer: string;
  /** Required audience (`aud`) of its tokens. */
  applicationID: string;
}

/** A `customJwt` provider: keys at a fixed JWKS location, one fixed algorithm. */
export interface CustomJwtProvider {
  kind: "customJwt";
  /** Normalized issuer: scheme present, no trailing slash. */
  issuer: string;
  /** Required audience, or null when the provider accepts any audience. */
  applicationID: string | null;
  algorithm: CustomJwtAlgorithm;
  jwks: JwksSource;
}

/** A provider from `auth.config.ts`, validated and normalized. */
export type AuthProvider = OidcProvider | CustomJwtProvider;

/** A provider entry that was skipped, and why (e.g. its domain's env var is unset). */
export interface AuthConfigProblem {
  /** Position of the entry in `providers`. */
  index: number;
  message: string;
}

/** The usable providers, in config order, plus the entries that had to be skipped. */
export interface NormalizedAuthConfig {
  providers: AuthProvider[];
  problems: AuthConfigProblem[];
}

/**
 * Normalizes the evaluated default export of `convex/auth.config.ts`
 * (`null` when the app has none). A broken entry is reported in `problems`
 * rather than thrown: the usual cause is an env var such as
 * `CLERK_JWT_ISSUER_DOMAIN` not being set yet, and the rest of the app should
 * still run. Only an export that is not `{ providers: [...] }` at all throws.
 */
export function normalizeAuthConfig(exported: unknown): NormalizedAuthConfig {
  if (exported === null || exported === undefined) return { providers: [], problems: [] };
  const providers = (exported as { providers?: unknown }).providers;
  if (typeof exported !== "object" || !Array.isArray(providers)) {
    throw authError(
      "InvalidAuthConfig",
      "convex/auth.config.ts must export default `{ providers: [...] }`; its default export has no `providers` array.",
    );
  }
  const result: NormalizedAuthConfig = { providers: [], problems: [] };
  providers.forEach((entry: unknown, index) => {
    const parsed = parseProvider(entry);
    if (typeof parsed === "string") result.problems.push({ index, message: `Auth provider #${index}: ${parsed}` });
    else result.providers.push(parsed);
  });
  return result;
}

/**
 * Normalizes an issuer as Convex compares them: surrounding space dropped,
 * `https://` added when there is no scheme, trailing slashes removed.
 */
export function normalizeIssuer(value: string): string {
  const trimmed = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `https://${trimmed}`;
  return withScheme.replace(/\/+$/, "");
}

/** Returns the provider, or a sentence saying why the entry cannot be used. */
function parseProvider(entry: unknown): AuthProvider | string {
  if (typeof entry !== "object" || entry === null) return "is not an object.";
  const e = entry as Record<string, unknown>;
  if (e.type === "customJwt") return parseCustomJwt(e);
  if (e.type !== undefined && e.type !== "oidc") {
    return `has unknown type ${JSON.stringify(e.type)} (expected "customJwt" or an OIDC provider with \`domain\`).`;
  }
  const issuer = parseIssuerField(e.domain, "domain");
  if (!issuer.ok) return issuer.problem;
  if (typeof e.applicationID !== "string" || e.applicationID === "") {
    return `OIDC provider ${issuer.value} needs a non-empty \`applicationID\` (the audience of its tokens, e.g. "convex").`;
  }
  return { kind: "oidc", issuer: issuer.value, applicationID: e.applicationID };
}

function parseCustomJwt(e: Record<string, unknown>): CustomJwtProvider | string {
  const issuer = parseIssuerField(e.issuer, "issuer");
  if (!issuer.ok) return issuer.problem;
  if (e.algorithm !== "RS256" && e.algorithm !== "ES256") {
    return `customJwt provider ${issuer.value} has algorithm ${JSON.stringify(e.algorithm)}; use "RS256" or "ES256".`;
  }
  if (e.applicationID !== undefined && (typeof e.applicationID !== "string" || e.applicationID === "")) {
    return `customJwt provider ${issuer.value} has an empty or non-string \`applicationID\`; omit it or set the audience.`;
  }
  if (typeof e.jwks !== "string" || e.jwks.trim() === "") {
    return `customJwt provider ${issuer.value} has no \`jwks\` URL (${describeMissing(e.jwks)}).`;
  }
  const jwks = parseJwksSource(e.jwks.trim());
  if (typeof jwks === "string") return `customJwt provider ${issuer.value}: ${jwks}`;
  return {
    kind: "customJwt",
    issuer: issuer.value,
    applicationID: (e.applicationID as string | undefined) ?? null,
    algorithm: e.algorithm,
    jwks,
  };
}

function parseIssuerField(value: unknown, field: string): { ok: true; value: string } | { ok: false; problem: string } {
  if (typeof value !== "string" || value.trim() === "") {
    return {
      ok: false,
      problem:
        `\`${field}\` is ${describeMissing(value)}. If it comes from an environment variable ` +
        `(e.g. process.env.CLERK_JWT_ISSUER_DOMAIN), set that variable on the deployment.`,
    };
  }
  const issuer = normalizeIssuer(value);
  try {
    const url = new URL(issuer);
    if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error("scheme");
  } catch {
    return { ok: false, problem: `\`${field}\` ${JSON.stringify(value)} is not an http(s) URL.` };
  }
  return { ok: true, value: issuer };
}

function describeMissing(value: unknown): string {
  if (value === undefined) return "undefined";
  if (typeof value === "string") return "empty";
  return `not a string (${value === null ? "null" : typeof value})`;
}

function parseJwksSource(value: string): JwksSource | string {
  if (!value.startsWith("data:")) {
    try {
      const url = new URL(value);
      if (url.protocol === "https:" || url.protocol === "http:") return { kind: "url", url: url.href };
    } catch {
      // Reported below with the same sentence as a non-http scheme.
    }
    return `\`jwks\` ${JSON.stringify(value)} is neither an http(s) URL nor a data: URL.`;
  }
  const keySet = decodeDataUrlJson(value);
  if (keySet === null || !Array.isArray((keySet as { keys?: unknown }).keys)) {
    return "its `jwks` data: URL does not hold a JSON Web Key Set (`{\"keys\": [...]}`).";
  }
  return { kind: "inline", keySet: keySet as JSONWebKeySet };
}

/**
 * Decodes a `data:` URL holding JSON. Written by hand because config
 * normalization is synchronous and must not go through the injected fetch
 * (which may be a fake or may refuse non-http schemes); the grammar
 * (`data:[<media type>][;base64],<payload>`, RFC 2397) is small.
 */
function decodeDataUrlJson(url: string): unknown {
  const comma = url.indexOf(",");
  if (comma < 0) return null;
  const meta = url.slice("data:".length, comma);
  const payload = url.slice(comma + 1);
  try {
    const text = /;base64$/i.test(meta)
      ? Buffer.from(decodeURIComponent(payload), "base64").toString("utf8")
      : decodeURIComponent(payload);
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
