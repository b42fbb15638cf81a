import type { IncomingMessage, ServerResponse } from "node:http";
import type { Route } from "../http/api-server.js";
import { sendText } from "../http/respond.js";
import { createClientBundle, type BuiltAsset, type ClientBundle } from "./client-bundle.js";
import { DASHBOARD_PAGE } from "./dashboard-page.js";

/** What the dashboard route needs. */
export interface DashboardRouteDeps {
  /** Where a failed build of the browser code is reported. */
  onBuildError(e: unknown): void;
  /** The built browser code (default: built from `client/` on first use). */
  bundle?: () => Promise<ClientBundle>;
}

const PREFIX = "/dashboard";

/**
 * The page may talk only to its own origin and show images from it (stored
 * files are served there too); nothing inline runs, so a value shown from a
 * document can never become script.
 */
const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

/**
 * `GET /dashboard` on the API port: the web data browser. The page holds no
 * data and no secret; everything it shows comes from the admin API, which
 * checks the admin key on every request.
 */
export function dashboardRoute(deps: DashboardRouteDeps): Route {
  const bundle = deps.bundle ?? createClientBundle();
  return async (req, res, url) => {
    const path = url.pathname;
    if (path !== PREFIX && !path.startsWith(`${PREFIX}/`)) return false;
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" });
      res.end();
      return true;
    }
    switch (path) {
      case PREFIX:
      case `${PREFIX}/`:
        send(req, res, 200, "text/html; charset=utf-8", DASHBOARD_PAGE, "no-store");
        return true;
      case `${PREFIX}/app.js`:
      case `${PREFIX}/app.css`: {
        let built: ClientBundle;
        try {
          built = await bundle();
        } catch (e) {
          deps.onBuildError(e);
          sendText(res, 500, "The dashboard could not be built; the engine's log has the error.");
          return true;
        }
        const js = path.endsWith(".js");
        sendAsset(req, res, js ? built.script : built.styles, js ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
        return true;
      }
      default:
        sendText(res, 404, `Not found: ${path}`);
        return true;
    }
  };
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: BuiltAsset, type: string): void {
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, { ETag: asset.etag, "Cache-Control": "no-cache" });
    res.end();
    return;
  }
  res.setHeader("ETag", asset.etag);
  send(req, res, 200, type, asset.text, "no-cache");
}

function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, text: string, cache: string): void {
  res.writeHead(status, {
    ...PAGE_HEADERS,
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": cache,
  });
  res.end(req.method === "HEAD" ? undefined : text);
}
