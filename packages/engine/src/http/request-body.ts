import type { IncomingMessage } from "node:http";
import { EngineError } from "../errors.js";
import { checkJsonDepth } from "../values/value-limits.js";

/**
 * Reads a whole request body, refusing more than `limit` bytes before buffering them (on the
 * main thread, where node:http parses requests). A body with a Content-Length is done with
 * its last byte, a chunked one at the request's end.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"] ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new EngineError("PayloadTooLarge", `Request body of ${declared} bytes exceeds the limit of ${limit} bytes.`));
  }
  if (req.destroyed) return Promise.reject(new Error("The request was aborted before its body was read."));
  // Plain events rather than `for await`: an async iterator costs more than
  // reading the one chunk a function call's body usually is.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (error: Error | null) => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
      req.off("close", onClose);
      if (error !== null) reject(error);
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        done(new EngineError("PayloadTooLarge", `Request body exceeds the limit of ${limit} bytes.`));
        req.resume();
        return;
      }
      chunks.push(chunk);
      // Every declared byte is in (node:http passes no more to a request's body): done now,
      // not at the end, which the parser's message-complete callback and the stream's ticks
      // emit later. A function call's job then leaves for its query worker ~5 µs sooner.
      if (size === declared) done(null);
    };
    const onEnd = () => done(null);
    const onError = (e: Error) => done(e);
    const onClose = () => done(new Error("The request was aborted before its body was complete."));
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
    req.on("close", onClose);
  });
}

/**
 * Reads and parses a JSON body; a malformed body is a client error, not a
 * crash, and one nested deeper than any Convex value is refused right after
 * parsing, before recursive code sees it.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new EngineError("BadJsonBody", "The request body is not valid JSON.");
  }
  checkJsonDepth(parsed);
  return parsed;
}
