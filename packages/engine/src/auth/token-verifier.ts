import { decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JWTPayload, type ProtectedHeaderParameters } from "jose";
import type { AuthProvider, NormalizedAuthConfig } from "./auth-config.js";
import { authError } from "./auth-errors.js";
import { isoTime, showClaim } from "./claim-text.js";
import type { FetchFn } from "./fetch-json.js";
import { fromJoseError } from "./jose-error.js";
import { createKeySetCache, type KeySetCache, type KeySetCachePolicy, type LoadedKeySet } from "./key-set-cache.js";
import { selectProvider } from "./select-provider.js";
import { identityFromCustomJwtClaims, identityFromOidcClaims, type UserIdentity } from "./user-identity.js";

/** A verified token: who it proves, and until when. */
export interface VerifiedToken {
  /** The identity `ctx.auth.getUserIdentity()` returns while this token is in force. */
  identity: UserIdentity;
  /** The token's `exp` in milliseconds since the epoch; past it, sync must ask the client for a new token. */
  expiresAt: number;
}

/** Turns a bearer JWT (WebSocket `Authenticate`, HTTP `Authorization: Bearer`) into a user identity. */
export interface TokenVerifier {
  /**
   * Verifies the token against the app's auth providers and returns its identity.
   * Rejects with an EngineError whose code is one of `AuthErrorCode` and whose
   * message names the check that failed.
   */
  verify(token: string): Promise<UserIdentity>;
  /** Same checks as `verify`, also returning when the token expires. */
  authenticate(token: string): Promise<VerifiedToken>;
}

/** What `createTokenVerifier` needs; everything that reaches outside the process is passed in. */
export interface TokenVerifierDeps {
  /** The app's providers, from `normalizeAuthConfig` (its `problems` are quoted in "no provider" errors). */
  config: NormalizedAuthConfig;
  /** Used for every discovery and JWKS request. */
  fetch: FetchFn;
  /** Milliseconds since the epoch; drives `exp`/`nbf` checks and cache ages. */
  clock: () => number;
  /** Tolerated clock skew for `exp`, `nbf` and (custom JWTs) `iat`; default 5 s. */
  leewaySeconds?: number;
  /** Overrides of {@link DEFAULT_KEY_SET_POLICY}; ignored when `keySets` is given. */
  keySetPolicy?: Partial<KeySetCachePolicy>;
  /** A cache to share with other verifiers, e.g. across dev-mode reloads of the app; default: a new one. */
  keySets?: KeySetCache;
}

/** Keys are reused for 10 min; unknown `kid`s trigger at most one JWKS fetch per 30 s per issuer. */
export const DEFAULT_KEY_SET_POLICY: KeySetCachePolicy = {
  maxAgeMs: 10 * 60_000,
  refreshCooldownMs: 30_000,
  failureBackoffMs: 2_000,
  fetchTimeoutMs: 10_000,
};

/** Asymmetric algorithms accepted from OIDC providers (`Ed25519` is RFC 9864's name for EdDSA); never `none` or HMAC. */
const OIDC_ALGORITHMS = ["RS256", "ES256", "EdDSA", "Ed25519"];

/** Creates the jose-based verifier for the providers of one app. */
export function createTokenVerifier(deps: TokenVerifierDeps): TokenVerifier {
  const { config, clock } = deps;
  const leeway = deps.leewaySeconds ?? 5;
  const cache =
    deps.keySets ?? createKeySetCache({ fetch: deps.fetch, clock, policy: { ...DEFAULT_KEY_SET_POLICY, ...deps.keySetPolicy } });

  const authenticate = async (token: string): Promise<VerifiedToken> => {
    const { header, claims } = decodeUnverified(token);
    const provider = selectProvider(config, claims);
    const allowed = provider.kind === "oidc" ? OIDC_ALGORITHMS : [provider.algorithm];
    if (!allowed.includes(header.alg!)) {
      const by = provider.kind === "oidc" ? "" : ` by the customJwt provider ${provider.issuer}`;
      throw authError(
        "InvalidAuthHeader",
        `The token is signed with ${showClaim(header.alg)}, which is not accepted${by}; accepted: ${allowed.join(", ")}.`,
      );
    }
    const payload = await verifySignature(token, header, provider, allowed);
    if (typeof payload.sub !== "string" || payload.sub === "") {
      throw authError("InvalidAuthHeader", "The token's `sub` (subject) claim is missing or not a non-empty string.");
    }
    if (provider.kind === "oidc" && Array.isArray(payload.aud) && payload.aud.length > 1) {
      // The Convex backend's OIDC verifier refuses extra audiences; doing the same keeps local and cloud in step.
      throw authError(
        "InvalidTokenClaims",
        `The token has several audiences (${showClaim(payload.aud)}); an OIDC token must be for ${provider.applicationID} only.`,
      );
    }
    const nowSeconds = Math.floor(clock() / 1000);
    if (provider.kind === "customJwt" && typeof payload.iat === "number" && payload.iat > nowSeconds + leeway) {
      throw authError(
        "TokenNotYetValid",
        `The token's \`iat\` (${isoTime(payload.iat)}) is in the future (now ${isoTime(nowSeconds)}, leeway ${leeway} s).`,
      );
    }
    const identity = provider.kind === "oidc" ? identityFromOidcClaims(payload) : identityFromCustomJwtClaims(payload);
    return { identity, expiresAt: (payload.exp as number) * 1000 };
  };

  /** Finds the key (refreshing the JWKS on an unknown `kid`) and runs jose's signature and claim checks. */
  const verifySignature = async (
    token: string,
    header: ProtectedHeaderParameters,
    provider: AuthProvider,
    algorithms: string[],
  ): Promise<JWTPayload> => {
    let keySet = await cache.get(provider);
    let keys = await candidateKeys(keySet, header, provider);
    if (keys.length === 0) {
      const outcome = await cache.refreshAfterUnknownKey(provider, keySet);
      if ("refreshed" in outcome) {
        keySet = outcome.refreshed;
        keys = await candidateKeys(keySet, header, provider);
      }
      if (keys.length === 0) {
        const known = keySet.kids.length > 0 ? keySet.kids.map(showClaim).join(", ") : "none";
        const why = "notRefreshed" in outcome ? `It was not refetched: ${outcome.notRefreshed}.` : "It was refetched just now.";
        throw authError(
          "UnknownSigningKey",
          `No key of ${provider.issuer} matches the token's kid ${showClaim(header.kid)} and algorithm ${header.alg} ` +
            `(published kids: ${known}). ${why}`,
        );
      }
    }
    const options = {
      algorithms,
      issuer: [provider.issuer, `${provider.issuer}/`],
      audience: provider.applicationID ?? undefined,
      clockTolerance: leeway,
      currentDate: new Date(clock()),
      requiredClaims: provider.kind === "oidc" ? ["iss", "sub", "exp", "iat"] : ["iss", "sub", "exp"],
    };
    // A token without `kid` may match several keys; the signature decides which one (if any) signed it.
    for (const key of keys) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (e) {
        if (!(e instanceof errors.JWSSignatureVerificationFailed)) throw fromJoseError(e, provider, leeway, clock());
      }
    }
    throw authError(
      "InvalidTokenSignature",
      `The token's signature does not verify with the key of ${provider.issuer}; it was altered or signed by someone else.`,
    );
  };

  return {
    authenticate,
    async verify(token) {
      return (await authenticate(token)).identity;
    },
  };
}

/** Reads header and claims without trusting them, refusing what no provider could accept (incl. `alg: none`). */
function decodeUnverified(token: string): { header: ProtectedHeaderParameters; claims: JWTPayload } {
  if (typeof token !== "string" || token.split(".").length !== 3) {
    throw authError("InvalidAuthHeader", "The token is not a JWT (three base64url parts separated by dots).");
  }
  let header: ProtectedHeaderParameters;
  let claims: JWTPayload;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    throw authError("InvalidAuthHeader", "The token's header is not base64url-encoded JSON.");
  }
  if (typeof header.alg !== "string") throw authError("InvalidAuthHeader", "The token's header has no `alg`.");
  if (header.alg.toLowerCase() === "none") {
    throw authError("InvalidAuthHeader", "The token is unsigned (`alg: none`); only signed tokens are accepted.");
  }
  try {
    claims = decodeJwt(token);
  } catch {
    throw authError("InvalidAuthHeader", "The token's payload is not a JSON object of claims.");
  }
  if (typeof claims.iss !== "string" || claims.iss === "") {
    throw authError("InvalidAuthHeader", "The token has no `iss` (issuer) claim, so no auth provider can be chosen for it.");
  }
  return { header, claims };
}

/** Keys of the set usable for this header: none (unknown kid), one, or several when the token has no `kid`. */
async function candidateKeys(
  keySet: LoadedKeySet,
  header: ProtectedHeaderParameters,
  provider: AuthProvider,
): Promise<CryptoKey[]> {
  try {
    return [await keySet.resolve(header)];
  } catch (e) {
    if (e instanceof errors.JWKSNoMatchingKey) return [];
    if (e instanceof errors.JWKSMultipleMatchingKeys) {
      const keys: CryptoKey[] = [];
      for await (const key of e) keys.push(key);
      return keys;
    }
    const reason = e instanceof Error ? e.message : String(e);
    throw authError("AuthProviderMisconfigured", `A key published by ${provider.issuer} cannot be used: ${reason}.`);
  }
}
