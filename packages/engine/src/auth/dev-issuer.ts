import { randomBytes } from "node:crypto";
import { link, mkdir, readFile, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from "jose";
import { normalizeIssuer, type OidcProvider } from "./auth-config.js";
import type { EngineError } from "../errors.js";
import { authError } from "./auth-errors.js";
import type { JsonValue } from "./user-identity.js";

/** Audience of every dev token; the dev issuer's provider entry uses it as `applicationID`. */
export const DEV_ISSUER_AUDIENCE = "convex";

/** Name of the key file inside the data directory. */
export const DEV_ISSUER_KEY_FILE = "dev-auth-key.json";

/** RS256 because it is what Clerk signs with, so offline runs exercise the same verification path. */
const ALGORITHM = "RS256";

/** Claims claimed by the issuer itself; a caller setting them would produce a token that lies about its origin. */
const RESERVED_CLAIMS = ["iss", "sub", "aud", "exp", "iat", "nbf", "jti"];

/** Who a dev token is for: `subject` becomes `sub`; any other key is copied as a claim (`name`, `email`, `picture`…). */
export interface DevTokenClaims {
  subject: string;
  name?: string;
  email?: string;
  [claim: string]: JsonValue | undefined;
}

/** The engine's own OIDC issuer, used when the app has no real identity provider configured. */
export interface DevIssuer {
  /** The issuer URL (`iss` of its tokens), without trailing slash. */
  readonly issuerUrl: string;
  /** `kid` of the signing key: its RFC 7638 thumbprint, stable across restarts. */
  readonly keyId: string;
  /** The provider that trusts this issuer, to add to the app's providers. */
  readonly provider: OidcProvider;
  /**
   * Answers `<issuer path>/.well-known/openid-configuration` and
   * `<issuer path>/.well-known/jwks.json`; `null` for any other path, so the
   * HTTP layer can try its next route.
   */
  handle(request: Request): Promise<Response | null>;
  /** Signs a token for `claims.subject` with `aud: "convex"`, valid for `ttlSeconds` (default one hour). */
  mint(claims: DevTokenClaims, ttlSeconds?: number): Promise<string>;
}

/** What the dev issuer needs: where to keep its key, the URL it is served at, and the time. */
export interface DevIssuerDeps {
  /** Engine data directory; the key is kept in `<dataDir>/dev-auth-key.json`. */
  dataDir: string;
  /** Public URL of the issuer, e.g. `http://127.0.0.1:3210/dev-auth`. */
  issuerUrl: string;
  /** Milliseconds since the epoch, for `iat`/`exp`. */
  clock: () => number;
}

interface StoredKey {
  version: 1;
  alg: typeof ALGORITHM;
  kid: string;
  privateJwk: JWK;
}

/**
 * Creates the dev issuer, generating its key pair on first start and
 * reusing it afterwards, so tokens minted before a restart stay valid.
 */
export async function createDevIssuer(deps: DevIssuerDeps): Promise<DevIssuer> {
  const issuerUrl = normalizeIssuer(deps.issuerUrl);
  if (!URL.canParse(issuerUrl) || !/^https?:$/.test(new URL(issuerUrl).protocol)) {
    throw authError("InvalidDevIssuerUrl", `The dev issuer URL ${JSON.stringify(deps.issuerUrl)} is not an http(s) URL.`);
  }
  const issuerPath = new URL(issuerUrl).pathname.replace(/\/+$/, "");
  const stored = await loadOrCreateKey(deps.dataDir);
  const privateKey = await importJWK(stored.privateJwk, ALGORITHM);
  const { kty, n, e } = stored.privateJwk;
  // The public half of an RSA JWK is just its modulus and exponent (RFC 7518 §6.3.1).
  const publicJwk: JWK = { kty, n, e, kid: stored.kid, alg: ALGORITHM, use: "sig" };
  const discovery = {
    issuer: issuerUrl,
    jwks_uri: `${issuerUrl}/.well-known/jwks.json`,
    // Required by OIDC Discovery (and by strict clients) but never used: dev tokens come from `mint`.
    authorization_endpoint: `${issuerUrl}/authorize`,
    response_types_supported: ["id_token"],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [ALGORITHM],
  };
  const documents = new Map<string, unknown>([
    [`${issuerPath}/.well-known/openid-configuration`, discovery],
    [`${issuerPath}/.well-known/jwks.json`, { keys: [publicJwk] }],
  ]);

  return {
    issuerUrl,
    keyId: stored.kid,
    provider: { kind: "oidc", issuer: issuerUrl, applicationID: DEV_ISSUER_AUDIENCE },

    async handle(request) {
      const body = documents.get(new URL(request.url).pathname);
      if (body === undefined) return null;
      if (request.method !== "GET" && request.method !== "HEAD") {
        return new Response(null, { status: 405, headers: { allow: "GET, HEAD" } });
      }
      return new Response(request.method === "HEAD" ? null : JSON.stringify(body), {
        status: 200,
        headers: {
          "content-type": "application/json",
          "cache-control": "public, max-age=300",
          // Public documents; browsers of other origins (the app's dev server) may read them.
          "access-control-allow-origin": "*",
        },
      });
    },

    async mint(claims, ttlSeconds = 3600) {
      const { subject, ...extra } = claims;
      if (typeof subject !== "string" || subject === "") {
        throw authError("InvalidDevTokenRequest", "A dev token needs a non-empty `subject` (the user id the app will see).");
      }
      const reserved = RESERVED_CLAIMS.filter((c) => c in extra);
      if (reserved.length > 0) {
        const list = reserved.join(", ");
        throw authError("InvalidDevTokenRequest", `The dev issuer sets ${list} itself; leave them out of the claims.`);
      }
      if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
        throw authError("InvalidDevTokenRequest", `ttlSeconds must be a positive number, got ${ttlSeconds}.`);
      }
      const defined = Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined));
      const now = Math.floor(deps.clock() / 1000);
      return new SignJWT(defined)
        .setProtectedHeader({ alg: ALGORITHM, kid: stored.kid, typ: "JWT" })
        .setIssuer(issuerUrl)
        .setSubject(subject)
        .setAudience(DEV_ISSUER_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + Math.ceil(ttlSeconds))
        .sign(privateKey);
    },
  };
}

async function loadOrCreateKey(dataDir: string): Promise<StoredKey> {
  const file = path.join(dataDir, DEV_ISSUER_KEY_FILE);
  return (await readKey(file)) ?? (await createKey(dataDir, file));
}

async function createKey(dataDir: string, file: string): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const stored: StoredKey = {
    version: 1,
    alg: ALGORITHM,
    kid: await calculateJwkThumbprint(await exportJWK(publicKey)),
    privateJwk: await exportJWK(privateKey),
  };
  // Write aside, then link into place: link fails if the file exists, so two engines starting on
  // the same directory agree on one key, and a crash never leaves a half-written key behind.
  const temp = path.join(dataDir, `.${DEV_ISSUER_KEY_FILE}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const unavailable = (e: unknown) =>
    authError("DevIssuerKeyUnavailable", `The dev issuer could not create its signing key ${file}: ${(e as Error).message}.`);
  try {
    await mkdir(dataDir, { recursive: true });
    await writeFile(temp, JSON.stringify(stored, null, 2), { mode: 0o600, flag: "wx" });
  } catch (e) {
    throw unavailable(e);
  }
  try {
    await link(temp, file);
    return stored;
  } catch (e) {
    // Another instance linked its key first: use that one, so both sign with the same key.
    const winner = (e as NodeJS.ErrnoException).code === "EEXIST" ? await readKey(file) : null;
    if (winner) return winner;
    throw unavailable(e);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** The stored key, or null when there is none yet; a file that exists but is unusable is an error, never overwritten. */
async function readKey(file: string): Promise<StoredKey | null> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw authError("DevIssuerKeyUnavailable", `The dev issuer cannot read its signing key ${file}: ${(e as Error).message}.`);
  }
  let parsed: Partial<StoredKey>;
  try {
    parsed = JSON.parse(text) as Partial<StoredKey>;
  } catch {
    throw unreadable(file, "it is not JSON");
  }
  const jwk = parsed.privateJwk;
  const usable = parsed.version === 1 && parsed.alg === ALGORITHM && typeof parsed.kid === "string";
  if (!usable || jwk?.kty !== "RSA" || typeof jwk.d !== "string") {
    throw unreadable(file, `it is not a version-1 ${ALGORITHM} private key`);
  }
  return parsed as StoredKey;
}

function unreadable(file: string, reason: string): EngineError {
  return authError(
    "DevIssuerKeyUnavailable",
    `The dev issuer's signing key ${file} cannot be used: ${reason}. Delete it to create a new key ` +
      "(tokens signed with the old key will stop verifying).",
  );
}
