import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * How a path may be reached from a web page on another origin:
 * * `public`: the function API, file storage and the sync socket, which
 *   browsers call cross-origin by design (the app's page is not the engine's
 *   origin), so they get permissive CORS, as on Convex;
 * * `private`: the admin API and dev routes; no CORS at all, and a request
 *   whose `Origin` is another origin is refused before it is handled, so a
 *   page the developer visits can neither read nor trigger them (a
 *   `text/plain` POST needs no preflight);
 * * `none`: everything else (health, OIDC documents, the dashboard's own
 *   files): no CORS headers, answered as usual.
 */
export type CorsClass = "public" | "private" | "none";

const PUBLIC_EXACT = new Set(["/api/query", "/api/mutation", "/api/action", "/api/function", "/api/query_ts", "/api/query_at_ts"]);

/** The CORS class of a request path on the API port. */
export function corsClassOf(pathname: string): CorsClass {
  if (pathname.startsWith("/api/admin/") || pathname === "/api/admin" || pathname.startsWith("/api/dev/")) return "private";
  if (PUBLIC_EXACT.has(pathname) || pathname.startsWith("/api/run/") || pathname.startsWith("/api/storage/")) return "public";
  // The sync socket: `/api/sync` and `/api/<client version>/sync`.
  if (/^\/api\/(?:[^/]+\/)?sync\/?$/.test(pathname)) return "public";
  return "none";
}

/**
 * True when the request comes from a page on another origin than the one it
 * was sent to. Same origin means the `Origin` header names the very host the
 * request addressed (the dashboard calling the admin API from its own page).
 */
export function isCrossOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    // `null` (sandboxed frames, file: pages) and garbage are never our own origin.
    return true;
  }
  return host.toLowerCase() !== (req.headers.host ?? "").toLowerCase();
}

/**
 * Permissive CORS for the `public` paths: browsers call the query, mutation
 * and upload endpoints cross-origin, so the request's origin and headers are
 * mirrored (credentials allowed), as the Convex backend does. Methods,
 * headers and max-age matter only to a preflight (OPTIONS), so only a
 * preflight gets them.
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
