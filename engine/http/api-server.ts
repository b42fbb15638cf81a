import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { applyApiCors } from "./cors.js";
import { sendError, sendText } from "./respond.js";

/** A route: handles the request and returns true, or returns false to let the next route try. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean> | boolean;

/** Handles a WebSocket upgrade; returns false when the path is not its own. */
export type UpgradeRoute = (req: IncomingMessage, socket: Duplex, head: Buffer, url: URL) => boolean;

/** An HTTP server made of routes tried in order; CORS applies to `/api/*`. */
export interface RoutedServer {
  readonly server: Server;
  listen(port: number, host: string): Promise<number>;
  close(): Promise<void>;
}

/**
 * Creates a server for the API port or the site port. Repeated slashes are
 * collapsed because the official client appends `/api/...` to the deployment
 * URL without trimming a trailing slash (§5.1).
 */
export function createRoutedServer(routes: Route[], upgrades: UpgradeRoute[], onInternalError: (e: unknown) => void): RoutedServer {
  const server = createServer((req, res) => {
    void dispatch(req, res);
  });
  server.keepAliveTimeout = 65_000;

  async function dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = requestUrl(req);
      if (url.pathname.startsWith("/api/")) {
        applyApiCors(req, res);
        if (req.method === "OPTIONS") {
          res.writeHead(204);
          res.end();
          return;
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
    const url = requestUrl(req);
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

/** The request's URL with repeated slashes collapsed. */
export function requestUrl(req: IncomingMessage): URL {
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const path = (q === -1 ? raw : raw.slice(0, q)).replace(/\/{2,}/g, "/");
  const query = q === -1 ? "" : raw.slice(q);
  return new URL(path + query, `http://${req.headers.host ?? "127.0.0.1"}`);
}
