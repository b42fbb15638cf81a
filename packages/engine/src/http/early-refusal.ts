import type { IncomingMessage, ServerResponse } from "node:http";
import { sendError } from "./respond.js";

/** How long a refused request's remaining body is read and dropped before the socket is cut. */
const LINGER_MS = 30_000;
/** A client that sends nothing for this long after its answer is cut off sooner. */
const LINGER_IDLE_MS = 5_000;

/**
 * Answers a request whose body has not been (fully) read, e.g. an upload over
 * the limit refused from its Content-Length, so that the client reads the
 * answer instead of a reset.
 *
 * Node ends a `Connection: close` exchange by destroying the socket as soon as
 * the response is written. With request bytes still unread, the kernel then
 * answers the client's next write with a reset, and a client still sending its
 * body sees EPIPE/ECONNRESET instead of the 413. So, as web servers do
 * ("lingering close"): the response is sent, only our direction is shut (FIN),
 * and whatever the client still sends is read and dropped until it closes its
 * side (`fetch` stops sending once it has the answer), for at most
 * `LINGER_MS`, or `LINGER_IDLE_MS` of silence. The connection is never reused.
 *
 * Runs on the main thread, on the request's socket; nothing is buffered.
 */
export function refuseUnreadBody(req: IncomingMessage, res: ServerResponse, error: unknown): void {
  if (req.complete || res.headersSent || req.destroyed) {
    sendError(res, error);
    return;
  }
  const socket = req.socket;
  res.setHeader("Connection", "close");
  // Node's server ends a last response with `socket.destroySoon()` when the
  // socket has it, and with a plain `socket.end()` (our half-close) otherwise.
  (socket as { destroySoon?: unknown }).destroySoon = undefined;
  const cut = () => socket.destroy();
  const deadline = setTimeout(cut, LINGER_MS).unref();
  let idle: NodeJS.Timeout | null = null;
  res.once("finish", () => {
    idle = setTimeout(cut, LINGER_IDLE_MS).unref();
  });
  req.on("data", () => idle?.refresh());
  req.on("error", () => {});
  socket.once("close", () => {
    clearTimeout(deadline);
    if (idle !== null) clearTimeout(idle);
  });
  req.resume();
  sendError(res, error);
}
