import { LRUCache } from "lru-cache";
import { timingSafeEqual } from "node:crypto";
import { EngineError } from "../errors.js";
import type { Identity } from "../runtime/services.js";
import type { Credentials } from "./auth-header.js";

/** Who a request runs as once its credentials are checked. */
export interface ResolvedCaller {
  identity: Identity | null;
  /** True for the admin key: internal functions may be called. */
  admin: boolean;
}

/** Verifies a bearer token; throws an EngineError naming the failed check. */
export type VerifyToken = (token: string) => Promise<{ identity: Identity; expiresAt: number }>;

/**
 * Turns credentials into a caller. Verified tokens are remembered until they
 * expire (bounded), because clients send the same token with every request and
 * a signature check is the most expensive part of a small query.
 */
export function createIdentityResolver(deps: { verify: () => VerifyToken; adminKey: string; now: () => number; cacheSize?: number }) {
  // lru-cache evicts in O(1); a Map trimmed with keys().next() walked V8's holes of deleted entries.
  const cache = new LRUCache<string, { identity: Identity; expiresAt: number }>({ max: deps.cacheSize ?? 10_000 });
  const adminKey = Buffer.from(deps.adminKey);

  const isAdminKey = (key: string): boolean => {
    const given = Buffer.from(key);
    return given.length === adminKey.length && timingSafeEqual(given, adminKey);
  };

  return {
    isAdminKey,
    /** Clears remembered tokens (the auth config or keys changed). */
    clear(): void {
      cache.clear();
    },
    async resolve(credentials: Credentials): Promise<ResolvedCaller> {
      switch (credentials.kind) {
        case "none":
          return { identity: null, admin: false };
        case "admin":
          if (!isAdminKey(credentials.key)) {
            throw new EngineError("BadAdminKey", "The admin key is not valid for this deployment.");
          }
          return { identity: adminActingAs(credentials.actingAs), admin: true };
        case "bearer": {
          const hit = cache.get(credentials.token);
          if (hit !== undefined && hit.expiresAt > deps.now()) {
            return { identity: hit.identity, admin: false };
          }
          cache.delete(credentials.token);
          const verified = await deps.verify()(credentials.token);
          cache.set(credentials.token, verified);
          return { identity: verified.identity, admin: false };
        }
      }
    },
  };
}

export type IdentityResolver = ReturnType<typeof createIdentityResolver>;

/** The identity an admin acts as (dashboard "run as user"); its tokenIdentifier is derived when absent. */
function adminActingAs(actingAs: Record<string, unknown> | null): Identity | null {
  if (actingAs === null) return null;
  const subject = typeof actingAs.subject === "string" ? actingAs.subject : "";
  const issuer = typeof actingAs.issuer === "string" ? actingAs.issuer : "";
  if (!subject || !issuer) {
    throw new EngineError("InvalidAuthHeader", "An acting-as identity needs `subject` and `issuer`.");
  }
  const tokenIdentifier = typeof actingAs.tokenIdentifier === "string" ? actingAs.tokenIdentifier : `${issuer}|${subject}`;
  return { ...actingAs, subject, issuer, tokenIdentifier } as Identity;
}
