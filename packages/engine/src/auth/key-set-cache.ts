import { createLocalJWKSet, type JSONWebKeySet } from "jose";
import type { AuthProvider, OidcProvider } from "./auth-config.js";
import { authError } from "./auth-errors.js";
import { fetchJson, type FetchFn } from "./fetch-json.js";

/** One fetched JWKS, ready for jose, plus what error messages need to know about it. */
export interface LoadedKeySet {
  /** jose's key resolver over this set (it caches imported keys). */
  resolve: ReturnType<typeof createLocalJWKSet>;
  /** The `kid`s the set contains, for error messages. */
  kids: string[];
}

/** The outcome of asking for a refresh because a token named an unknown key. */
export type RefreshOutcome = { refreshed: LoadedKeySet } | { notRefreshed: string };

/** Timing policy of the cache; all durations in milliseconds of the injected clock. */
export interface KeySetCachePolicy {
  /** A key set older than this is refetched on next use (stale keys are kept if that fails). */
  maxAgeMs: number;
  /** Minimum time between fetches caused by unknown `kid`s, and between retries after a failed refresh. */
  refreshCooldownMs: number;
  /** After a failed first fetch, later verifications fail fast with the same error for this long. */
  failureBackoffMs: number;
  /** Per-request timeout for discovery and JWKS fetches (real time, not the injected clock). */
  fetchTimeoutMs: number;
}

/** Discovery documents and JWKS of the configured providers, fetched on demand and cached. */
export interface KeySetCache {
  /** The provider's current key set, fetching it (discovery first for OIDC) when absent or too old. */
  get(provider: AuthProvider): Promise<LoadedKeySet>;
  /**
   * Refetches the provider's JWKS because a token named a `kid` that `seen`
   * lacks (key rotation), unless an unknown `kid` already caused a fetch within
   * the cooldown: a flood of tokens with made-up `kid`s then costs the issuer
   * one request per cooldown. Ordinary loads do not start the cooldown, so a
   * rotation just after one is still picked up at once.
   */
  refreshAfterUnknownKey(provider: AuthProvider, seen: LoadedKeySet): Promise<RefreshOutcome>;
}

interface Entry {
  keySet?: LoadedKeySet;
  loadedAt: number;
  lastAttemptAt: number;
  lastKidRefreshAt: number;
  jwksUri?: string;
  inFlight?: Promise<LoadedKeySet>;
  failure?: { error: unknown; at: number };
}

/** Creates the cache; every fetch goes through `deps.fetch`, every age is measured with `deps.clock`. */
export function createKeySetCache(deps: { fetch: FetchFn; clock: () => number; policy: KeySetCachePolicy }): KeySetCache {
  const { fetch, clock, policy } = deps;
  const entries = new Map<string, Entry>();

  const entryFor = (provider: AuthProvider): Entry => {
    const key = provider.kind === "oidc" ? `oidc ${provider.issuer}` : `jwt ${provider.issuer} ${jwksKey(provider)}`;
    let entry = entries.get(key);
    if (!entry) entries.set(key, (entry = { loadedAt: -Infinity, lastAttemptAt: -Infinity, lastKidRefreshAt: -Infinity }));
    return entry;
  };

  const load = async (provider: AuthProvider, entry: Entry, jwksOnly: boolean): Promise<LoadedKeySet> => {
    if (provider.kind === "customJwt") {
      if (provider.jwks.kind === "inline") return toLoadedKeySet(provider.jwks.keySet, "inline JWKS in auth.config.ts");
      const url = provider.jwks.url;
      return toLoadedKeySet(await fetchJson(fetch, url, `JWKS of ${provider.issuer}`, policy.fetchTimeoutMs), url);
    }
    if (!jwksOnly || entry.jwksUri === undefined) entry.jwksUri = await discoverJwksUri(provider);
    const url = entry.jwksUri;
    return toLoadedKeySet(await fetchJson(fetch, url, `JWKS of ${provider.issuer}`, policy.fetchTimeoutMs), url);
  };

  const discoverJwksUri = async (provider: OidcProvider): Promise<string> => {
    const url = `${provider.issuer}/.well-known/openid-configuration`;
    const doc = await fetchJson(fetch, url, `discovery document of ${provider.issuer}`, policy.fetchTimeoutMs);
    const { issuer, jwks_uri: jwksUri } = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, unknown>;
    // OIDC Discovery §4.3: the document must name the issuer it was fetched for, or its keys are not that issuer's.
    if (typeof issuer !== "string" || issuer.replace(/\/+$/, "") !== provider.issuer) {
      throw authError(
        "AuthProviderMisconfigured",
        `The discovery document at ${url} names issuer ${JSON.stringify(issuer)}, not ${provider.issuer}; ` +
          "check the provider's `domain` in convex/auth.config.ts.",
      );
    }
    if (typeof jwksUri !== "string" || !/^https?:\/\//i.test(jwksUri)) {
      throw authError("AuthProviderMisconfigured", `The discovery document at ${url} has no http(s) \`jwks_uri\`.`);
    }
    return jwksUri;
  };

  const startLoad = (provider: AuthProvider, entry: Entry, jwksOnly: boolean, keepStale: boolean): Promise<LoadedKeySet> => {
    entry.lastAttemptAt = clock();
    const pending = (async () => {
      try {
        const keySet = await load(provider, entry, jwksOnly);
        Object.assign(entry, { keySet, loadedAt: clock(), failure: undefined });
        return keySet;
      } catch (error) {
        // An issuer that is briefly down should not log everyone out: keep verifying with the keys we have.
        if (keepStale && entry.keySet) return entry.keySet;
        entry.failure = { error, at: clock() };
        throw error;
      } finally {
        entry.inFlight = undefined;
      }
    })();
    entry.inFlight = pending;
    return pending;
  };

  return {
    async get(provider) {
      const entry = entryFor(provider);
      // One fetch per provider at a time: concurrent verifications on a cold cache share it.
      if (entry.inFlight) return entry.inFlight.catch((e: unknown) => entry.keySet ?? Promise.reject(e));
      const now = clock();
      if (entry.keySet) {
        if (now - entry.loadedAt < policy.maxAgeMs) return entry.keySet;
        if (now - entry.lastAttemptAt < policy.refreshCooldownMs) return entry.keySet;
        return startLoad(provider, entry, false, true);
      }
      if (entry.failure && now - entry.failure.at < policy.failureBackoffMs) throw entry.failure.error;
      return startLoad(provider, entry, false, false);
    },

    async refreshAfterUnknownKey(provider, seen) {
      if (provider.kind === "customJwt" && provider.jwks.kind === "inline") {
        return { notRefreshed: "its keys are inlined in convex/auth.config.ts, so there is nothing to refetch" };
      }
      const entry = entryFor(provider);
      if (entry.inFlight) return { refreshed: await entry.inFlight };
      if (entry.keySet && entry.keySet !== seen) return { refreshed: entry.keySet };
      const sinceMs = clock() - entry.lastKidRefreshAt;
      if (sinceMs < policy.refreshCooldownMs) {
        return {
          notRefreshed:
            `an unknown kid made it refetch the key set ${Math.round(sinceMs / 1000)} s ago, ` +
            `and that happens at most every ${Math.round(policy.refreshCooldownMs / 1000)} s`,
        };
      }
      entry.lastKidRefreshAt = clock();
      return { refreshed: await startLoad(provider, entry, true, false) };
    },
  };
}

function jwksKey(provider: Extract<AuthProvider, { kind: "customJwt" }>): string {
  return provider.jwks.kind === "url" ? provider.jwks.url : JSON.stringify(provider.jwks.keySet);
}

function toLoadedKeySet(doc: unknown, source: string): LoadedKeySet {
  try {
    const resolve = createLocalJWKSet(doc as JSONWebKeySet);
    const kids = (doc as JSONWebKeySet).keys.flatMap((k) => (typeof k.kid === "string" ? [k.kid] : []));
    return { resolve, kids };
  } catch {
    throw authError("AuthProviderMisconfigured", `${source} is not a JSON Web Key Set (\`{"keys": [...]}\`).`);
  }
}
