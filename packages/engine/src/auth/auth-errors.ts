import { EngineError, type Recovery } from "../errors.js";

/**
 * Every error code the auth layer throws, with how a caller recovers. The
 * codes are stable: `http/` and `sync/` map them to a 401 body or an
 * `AuthError` frame, and developers search for them. Messages name the check
 * that failed and never contain the token, a signature or key material.
 */
export const AUTH_ERROR_RECOVERY = {
  /** The token is not a well-formed JWT, lacks a required claim, or uses a refused algorithm (incl. `none`). */
  InvalidAuthHeader: "client",
  /** No configured provider has the token's issuer (and audience). */
  NoAuthProvider: "client",
  /** `exp` is in the past (beyond the leeway). The client should fetch a fresh token. */
  TokenExpired: "client",
  /** `nbf` (or, for custom JWTs, `iat`) is in the future (beyond the leeway). */
  TokenNotYetValid: "client",
  /** The signature does not verify with the issuer's key. */
  InvalidTokenSignature: "client",
  /** The token names a signing key (`kid`) the issuer does not publish, even after a refresh. */
  UnknownSigningKey: "client",
  /** A verified token whose claims are unusable: several audiences, a mistyped standard claim. */
  InvalidTokenClaims: "client",
  /** The issuer's discovery document or JWKS could not be fetched (network, timeout, 5xx). */
  AuthProviderUnreachable: "transient",
  /** The issuer answered, but with something unusable (404, not JSON, wrong `issuer`, no keys). */
  AuthProviderMisconfigured: "fatal",
  /** `auth.config.ts` does not export `{ providers: [...] }`. */
  InvalidAuthConfig: "fatal",
  /** The dev issuer's key file cannot be read, parsed or created. */
  DevIssuerKeyUnavailable: "fatal",
  /** `createDevIssuer` was given an issuer URL that is not http(s). */
  InvalidDevIssuerUrl: "fatal",
  /** `mint()` was called with claims the dev issuer cannot sign (reserved claim, empty subject). */
  InvalidDevTokenRequest: "client",
} as const satisfies Record<string, Recovery>;

/** One of the stable auth error codes listed in {@link AUTH_ERROR_RECOVERY}. */
export type AuthErrorCode = keyof typeof AUTH_ERROR_RECOVERY;

/** Builds the EngineError for an auth failure, with the recovery class that belongs to its code. */
export function authError(code: AuthErrorCode, message: string): EngineError {
  return new EngineError(code, message, AUTH_ERROR_RECOVERY[code]);
}
