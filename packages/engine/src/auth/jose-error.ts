import { errors } from "jose";
import type { EngineError } from "../errors.js";
import type { AuthProvider } from "./auth-config.js";
import { authError } from "./auth-errors.js";
import { isoTime, showClaim } from "./claim-text.js";

/**
 * Translates an error from jose's `jwtVerify` into the auth error a developer
 * can act on, naming the check that failed. Signature failures are handled by
 * the caller (a token without `kid` may be tried against several keys).
 */
export function fromJoseError(e: unknown, provider: AuthProvider, leewaySeconds: number, nowMs: number): EngineError {
  const now = `now ${isoTime(Math.floor(nowMs / 1000))}, leeway ${leewaySeconds} s`;
  if (e instanceof errors.JWTExpired) {
    const expired = `The token expired at ${isoTime(e.payload.exp)} (${now}); the client should fetch a fresh one.`;
    return authError("TokenExpired", expired);
  }
  if (e instanceof errors.JWTClaimValidationFailed) {
    if (e.reason === "missing") {
      return authError("InvalidAuthHeader", `The token has no \`${e.claim}\` claim, which is required.`);
    }
    if (e.reason === "invalid") return authError("InvalidAuthHeader", `The token's ${e.message}.`);
    switch (e.claim) {
      case "nbf":
        return authError("TokenNotYetValid", `The token is not valid before ${isoTime(e.payload.nbf)} (${now}).`);
      case "iss": {
        const iss = showClaim(e.payload.iss);
        return authError("InvalidTokenClaims", `The token's issuer ${iss} is not exactly ${provider.issuer}.`);
      }
      case "aud": {
        const wanted = showClaim(provider.applicationID);
        return authError("InvalidTokenClaims", `The token's audience ${showClaim(e.payload.aud)} does not contain ${wanted}.`);
      }
      default:
        return authError("InvalidTokenClaims", `The token's \`${e.claim}\` claim failed validation: ${e.message}.`);
    }
  }
  if (
    e instanceof errors.JOSEAlgNotAllowed ||
    e instanceof errors.JWSInvalid ||
    e instanceof errors.JWTInvalid ||
    e instanceof errors.JOSENotSupported
  ) {
    return authError("InvalidAuthHeader", `The token is malformed: ${e.message}.`);
  }
  // Anything else comes from importing or using the issuer's key (e.g. an RSA key shorter than 2048 bits).
  const reason = e instanceof Error ? e.message : String(e);
  return authError("AuthProviderMisconfigured", `The key of ${provider.issuer} could not verify the token: ${reason}.`);
}
