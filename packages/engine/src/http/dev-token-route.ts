import { EngineError } from "../errors.js";
import type { Route } from "./api-server.js";
import { isLoopback } from "./host-policy.js";
import { parseAuthorization } from "./auth-header.js";
import type { IdentityResolver } from "./identity-resolver.js";
import { sendError, sendJson } from "./respond.js";
import { readTokenRequest, type TokenRequest } from "./token-request.js";

/** When the dev token endpoint answers, and what it mints with. */
export interface DevTokenRouteDeps {
  /** Dev mode (`start --dev`, `dev`). */
  dev: boolean;
  /**
   * Null when the endpoint may serve; otherwise why not (the engine listens
   * beyond loopback and `--allow-remote-dev-token` was not given).
   */
  remoteRefusal: string | null;
  identities: Pick<IdentityResolver, "isAdminKey">;
  mint(request: TokenRequest): Promise<string>;
}

/**
 * `POST /api/dev/token` (dev mode only): a dev-issuer token for a named user.
 * It needs the admin key like the admin API's `token` (a token is as good as
 * the user's password), it never answers another origin (`cors.ts` refuses
 * those before any route), and on an engine reachable from other machines it
 * stays off unless asked for with its own flag.
 */
export function devTokenRoute(deps: DevTokenRouteDeps): Route {
  return async (req, res, url) => {
    if (url.pathname !== "/api/dev/token") return false;
    try {
      if (!deps.dev) throw new EngineError("Forbidden", "The dev token endpoint exists only in dev mode (`start --dev`).");
      if (deps.remoteRefusal !== null) throw new EngineError("Forbidden", deps.remoteRefusal);
      const credentials = parseAuthorization(req.headers);
      if (credentials.kind !== "admin" || !deps.identities.isAdminKey(credentials.key)) {
        throw new EngineError("AdminKeyRequired", "Minting a token needs `Authorization: Convex <admin key>` (printed by `start`).");
      }
      if (req.method !== "POST") throw new EngineError("MethodNotAllowed", "POST {\"subject\": \"user id\"}.");
      sendJson(res, 200, { token: await deps.mint(await readTokenRequest(req)) });
    } catch (e) {
      sendError(res, e);
    }
    return true;
  };
}

/**
 * Why the dev token endpoint is off for an engine bound to `bindHost`, or
 * null when it may serve: beyond loopback, anyone who learns the admin key
 * could mint tokens from anywhere, so it takes its own flag.
 */
export function remoteDevTokenRefusal(bindHost: string, allowRemote: boolean): string | null {
  if (allowRemote || isLoopback(bindHost)) return null;
  return (
    `The dev token endpoint is off because the engine listens on ${bindHost}, beyond this machine; ` +
    "mint tokens with the `token` command, or start with --allow-remote-dev-token."
  );
}
