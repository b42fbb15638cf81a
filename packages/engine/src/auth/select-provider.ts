import type { JWTPayload } from "jose";
import type { AuthProvider, NormalizedAuthConfig } from "./auth-config.js";
import { authError } from "./auth-errors.js";
import { showClaim } from "./claim-text.js";

/**
 * Picks the provider for a token from its unverified claims (§6.2 step 1):
 * the first with the token's issuer (trailing slashes ignored) whose
 * applicationID, if it has one, is among the token's audiences. The caller
 * then verifies the signature with that provider's keys, which is what makes
 * trusting `iss` here safe.
 */
export function selectProvider(config: NormalizedAuthConfig, claims: JWTPayload): AuthProvider {
  const iss = String(claims.iss).replace(/\/+$/, "");
  const audiences = typeof claims.aud === "string" ? [claims.aud] : Array.isArray(claims.aud) ? claims.aud : [];
  const sameIssuer = config.providers.filter((p) => p.issuer === iss);
  const match = sameIssuer.find((p) => p.applicationID === null || audiences.includes(p.applicationID));
  if (match) return match;

  let reason: string;
  if (config.providers.length === 0) {
    reason = "convex/auth.config.ts configures no auth provider.";
  } else if (sameIssuer.length > 0) {
    const wanted = sameIssuer.map((p) => showClaim(p.applicationID)).join(" or ");
    reason = `Its issuer is configured, but its audience ${showClaim(claims.aud)} does not contain the applicationID ${wanted}.`;
  } else {
    const known = config.providers.map((p) => p.issuer).join(", ");
    reason = `Its issuer ${showClaim(claims.iss)} is not one of the configured issuers: ${known}.`;
  }
  // Skipped entries are usually the real cause (an unset CLERK_JWT_ISSUER_DOMAIN), so say so here.
  const skipped = config.problems.length > 0 ? ` Skipped providers: ${config.problems.map((p) => p.message).join(" ")}` : "";
  throw authError("NoAuthProvider", `No auth provider found matching the given token. ${reason}${skipped}`);
}
