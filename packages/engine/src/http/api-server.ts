import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { EngineError } from "../errors.js";
import { applyApiCors, corsClassOf, isCrossOrigin } from "./cors.js";
import type { HostPolicy } from "./host-policy.js";
import { sendError, sendText } from "./respond.js";

/** A route: handles the request and returns true, or returns false to let the next route try. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;

/** Handles a WebSocket upgrade; returns false when the path is not its own. */
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;

/** An HTTP server made of routes tried in order, behind the Host check (and, on the API port, CORS). */
export interface RoutedServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/** What every request passes before a route sees it. */
export interface RequestGuard {
  /** Which Host headers are answered (DNS rebinding). */
  hosts: HostPolicy;
  /**
   * Applies the API port's CORS classes (`cors.ts`). The site port has none:
   * HTTP actions answer CORS themselves, as on Convex.
   */
  apiCors: boolean;
}

/**
 * Creates a server for the API port or the site port. Repeated slashes are
 * collapsed because the official client appends `/api/...` to the deployment
 * URL without trimming a trailing slash (§5.1).
 */
export function createRoutedServer(
  routes: Route[],
  upgrades: UpgradeRoute[],
  onInternalError: (e: unknown) => void,
  guard: RequestGuard,
): RoutedServer {
  const server = createServer((req, res) => {
    void dispatch(req, res);
  });
  server.keepAliveTimeout = 65_000;

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const refusal = hostRefusal(req, guard.hosts);
      if (refusal !== null) {
        sendText(res, 403, refusal);
        return;
      }
      const url = requestUrl(req);
      if (guard.apiCors) {
        switch (corsClassOf(url.pathname)) {
          case "public":
            applyApiCors(req, res);
            if (req.method === "OPTIONS") {
              res.writeHead(204);
              res.end();
              return;
            }
            break;
          case "private":
            if (isCrossOrigin(req)) {
              sendError(res, crossOriginRefused(url.pathname));
              return;
            }
            break;
          case "none":
            break;
        }
      }
      for (const route of routes) {
        if (await route(req, res, url)) return;
      }
      sendText(res, 404, `Not found: ${url.pathname}`);
    } catch (e) {
      onInternalError(e);
      sendError(res, e);
    }
  }

  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = hostRefusal(req, guard.hosts);
    const url = requestUrl(req);
    if (refusal !== null || (corsClassOf(url.pathname) === "private" && isCrossOrigin(req))) {
      // Browsers may open sockets to any origin: the Host (and, for private paths, the Origin) decide.
      socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n" + (refusal ?? "Cross-origin request refused.\n"));
      return;
    }
    for (const upgrade of upgrades) {
      if (upgrade(req, socket, head, url)) return;
    }
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
  });

  const sockets = new Set<Duplex>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  return {
    server,
    listen(port, host) {
      return new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => {
          server.off("error", reject);
          const address = server.address();
          resolve(typeof address === "object" && address !== null ? address.port : port);
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    },
  };
}

/** The refusal text for a request whose Host this engine does not serve, or null. */
function hostRefusal(req: IncomingMessage, hosts: HostPolicy): string | null {
  const host = req.headers.host;
  if (hosts.allows(host)) return null;
  const name = hosts.nameOf(host ?? "");
  return (
    `Blocked request: this engine does not serve the host "${name}". ` +
    `If you reach it under that name, start it with --allowed-host ${name}.\n`
  );
}

function crossOriginRefused(pathname: string): EngineError {
  return new EngineError(
    "CrossOriginForbidden",
    `${pathname} is not available to pages on other origins; call it from the engine's own origin (the dashboard) or without an Origin header (CLI, server code).`,
  );
}

/** The request's URL with repeated slashes collapsed. */
export function requestUrl(req: IncomingMessage): URL {
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const path = (q === -1 ? raw : raw.slice(0, q)).replace(/\/{2,}/g, "/");
  const query = q === -1 ? "" : raw.slice(q);
  return new URL(path + query, `http://${req.headers.host ?? "127.0.0.1"}`);
}
