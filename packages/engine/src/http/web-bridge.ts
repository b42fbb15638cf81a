import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";

/**
 * A Web `Request` for a Node request whose body, if any, was already read
 * (callers read it first to enforce a size limit).
 */
export function toWebRequest(req: IncomingMessage, url: URL, body?: Buffer): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const method = req.method ?? "GET";
  const hasBody = method !== "GET" && method !== "HEAD" && method !== "OPTIONS";
  const init: RequestInit = { method, headers };
  if (body !== undefined && hasBody) init.body = body as unknown as BodyInit;
  return new Request(url, init);
}

/** Writes a Web `Response` to a Node response, streaming its body. */
export async function sendWebResponse(res: ServerResponse, response: Response, method?: string): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key === "set-cookie") return;
    headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  res.writeHead(response.status, response.statusText || undefined, headers);
  if (response.body === null || method === "HEAD") {
    res.end();
    return;
  }
  const body = Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>);
  await new Promise<void>((resolve) => {
    body.on("error", () => {
      res.destroy();
      resolve();
    });
    res.on("close", resolve);
    body.pipe(res);
  });
}
