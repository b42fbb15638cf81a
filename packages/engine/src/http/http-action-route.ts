import type { IncomingMessage, ServerResponse } from "node:http";
import { EngineError } from "../errors.js";
import { runHttpAction, type HttpActionCaller } from "../runtime/http-action-runner.js";
import type { Runtime } from "../runtime/runtime.js";
import { parseAuthorization } from "./auth-header.js";
import type { IdentityResolver } from "./identity-resolver.js";
import type { Route } from "./api-server.js";
import { readBody } from "./request-body.js";
import { refuseUnreadBody } from "./early-refusal.js";
import { sendWebResponse, toWebRequest } from "./web-bridge.js";

/** Convex's limit on an HTTP action's request body. */
export const HTTP_ACTION_BODY_LIMIT = 20 * 1024 * 1024;

/**
 * Serves `convex/http.ts` routes at the root of the site port (or under
 * `prefix`; the handler sees the original URL, routing uses the path without
 * the prefix). The engine does not mount them under `/http/` on the API port
 * as the Convex backend does (§7.2): that origin is the dashboard's.
 */
export function httpActionRoute(deps: {
  runtime: () => Runtime;
  identities: IdentityResolver;
  prefix: string;
  /** Largest request body an HTTP action accepts (Convex: 20 MiB). */
  bodyLimit?: number;
}): Route {
  const limit = deps.bodyLimit ?? HTTP_ACTION_BODY_LIMIT;
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    let routed = url.pathname;
    if (deps.prefix) {
      if (routed !== deps.prefix && !routed.startsWith(deps.prefix + "/")) return false;
      routed = routed.slice(deps.prefix.length) || "/";
    }
    // Read (bounded) before the action starts, so an oversized body is a clean
    // 413 and never reaches user code half-read.
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (e) {
      refuseUnreadBody(req, res, e);
      return true;
    }
    const caller = await callerOf(req, deps.identities);
    const request = toWebRequest(req, url, body);
    const response = await runHttpAction(deps.runtime(), request, routed, caller);
    await sendWebResponse(res, response, req.method);
    return true;
  };
}

async function callerOf(req: IncomingMessage, identities: IdentityResolver): Promise<HttpActionCaller> {
  try {
    const resolved = await identities.resolve(parseAuthorization(req.headers));
    return { identity: resolved.identity };
  } catch (e) {
    return { authError: e instanceof EngineError ? e : new EngineError("InvalidAuthHeader", String(e)) };
  }
}
