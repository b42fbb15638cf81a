import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * CORS for the `/api/*` routes: browsers call the query, mutation and upload
 * endpoints cross-origin, so the request's origin and headers are mirrored
 * (credentials allowed), as the Convex backend does. Methods, headers and
 * max-age matter only to a preflight (OPTIONS), so only a preflight gets them.
 */
export function applyApiCors(req: IncomingMessage, res: ServerResponse): void {
  const origin = req.headers.origin;
  if (origin) {
    res.setHeader("Access-Control-Allow-Origin", origin);
    res.setHeader("Access-Control-Allow-Credentials", "true");
    res.setHeader("Vary", "Origin");
  } else {
    res.setHeader("Access-Control-Allow-Origin", "*");
  }
  if (req.method !== "OPTIONS") return;
  res.setHeader("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
  const requested = req.headers["access-control-request-headers"];
  res.setHeader("Access-Control-Allow-Headers", requested ?? "Content-Type, Authorization, Convex-Client");
  res.setHeader("Access-Control-Max-Age", "86400");
}
