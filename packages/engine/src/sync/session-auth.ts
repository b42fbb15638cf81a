import type { IdentityResolver, VerifyToken } from "../http/identity-resolver.js";
import type { Identity } from "../runtime/services.js";
import type { AuthenticateToken } from "./client-message.js";

/** Who a connection acts as after an Authenticate message. */
export interface SessionIdentity {
  identity: Identity | null;
  /** Admin key: internal functions may be called. */
  admin: boolean;
  /** When the user token expires (ms since the epoch); null for admin and signed-out sessions. */
  expiresAt: number | null;
}

/** Turns the token of an Authenticate message into an identity; rejects with the reason it is refused. */
export type AuthenticateSession = (token: AuthenticateToken) => Promise<SessionIdentity>;

/**
 * User tokens go through the app's verifier itself, not the HTTP layer's
 * cache, because the connection needs the token's expiry to end the session
 * when it passes (§5.6). Admin keys use the same check as the HTTP API.
 */
export function createSessionAuth(deps: {
  verifyToken: VerifyToken;
  identities: Pick<IdentityResolver, "resolve">;
}): AuthenticateSession {
  return async (token) => {
    switch (token.tokenType) {
      case "User": {
        const verified = await deps.verifyToken(token.value);
        return { identity: verified.identity, admin: false, expiresAt: verified.expiresAt };
      }
      case "Admin": {
        const resolved = await deps.identities.resolve({ kind: "admin", key: token.value, actingAs: token.impersonating });
        return { identity: resolved.identity, admin: true, expiresAt: null };
      }
      case "None":
        return { identity: null, admin: false, expiresAt: null };
      default:
        return assertNever(token);
    }
  };
}

function assertNever(x: never): never {
  throw new Error(`unexpected token type ${JSON.stringify(x)}`);
}
