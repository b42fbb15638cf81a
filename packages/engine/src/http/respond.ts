import type { ServerResponse } from "node:http";
import { errorBody, statusForError } from "./http-status.js";

/** Sends a JSON body. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body));
}

/** Sends JSON that is already text (or its UTF-8 bytes). */
export function sendJsonText(res: ServerResponse, status: number, text: string | Buffer): void {
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Sends a non-function error as `{code, message}` with the status `http-status.ts` picks. */
export function sendError(res: ServerResponse, e: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, statusForError(e), errorBody(e));
}

/** Sends plain text. */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
