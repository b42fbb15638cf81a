import type { IncomingMessage, ServerResponse } from "node:http";
import { EngineError } from "../errors.js";
import type { Route } from "../http/api-server.js";
import { refuseUnreadBody } from "../http/early-refusal.js";
import { sendJson } from "../http/respond.js";
import { parseByteRange } from "./byte-range.js";
import { sha256FromDigestHeader } from "./digest-header.js";
import type { ServedFile, StorageService } from "./storage-service.js";

const PREFIX = "/api/storage/";

/** Browsers may keep a file a month: a URL always names the same bytes (convex-interface.md §7.3). */
const CACHE_CONTROL = "private, max-age=2592000";

/**
 * File storage over HTTP on the API port (convex-interface.md §7.3):
 * `POST /api/storage/upload?token=…` with the raw bytes (as `fetch` and
 * Expo's `FileSystem.uploadAsync` send them) answers `{"storageId"}`;
 * `GET|HEAD /api/storage/<storage id>` serves a file, with single ranges.
 * The file URL is a capability: it needs no credentials, and ids are random.
 */
export function storageRoute(service: StorageService, onInternalError: (e: unknown) => void): Route {
  return async (req, res, url) => {
    if (!url.pathname.startsWith(PREFIX)) return false;
    const rest = url.pathname.slice(PREFIX.length);
    try {
      if (rest === "upload") await upload(service, req, res, url);
      else await serve(service, req, res, rest);
    } catch (e) {
      // Refusals are the client's business; anything else (a full disk) is ours to log.
      if (!(e instanceof EngineError)) onInternalError(e);
      refuseUnreadBody(req, res, e);
    }
    return true;
  };
}

async function upload(service: StorageService, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  if (req.method !== "POST") throw new EngineError("MethodNotAllowed", "Upload files with POST.");
  const type = req.headers["content-type"]?.trim();
  const length = req.headers["content-length"];
  const storageId = await service.upload({
    token: url.searchParams.get("token"),
    contentType: type === undefined || type === "" ? null : type,
    contentLength: length === undefined ? null : Number(length),
    expectedSha256: sha256FromDigestHeader(req.headers.digest),
    // Not destroyed when the upload is refused midway, so the client still gets its 413.
    body: req.iterator({ destroyOnReturn: false }),
  });
  sendJson(res, 200, { storageId });
}

async function serve(service: StorageService, req: IncomingMessage, res: ServerResponse, rawId: string): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") throw new EngineError("MethodNotAllowed", "Files are read with GET.");
  const file = await service.openFile(decodeSegment(rawId));
  if (file === null) throw new EngineError("StorageFileNotFound", "No file is stored under this URL.");
  const etag = `"${file.sha256}"`;
  const headers = fileHeaders(file, etag);
  if (matchesEtag(req.headers["if-none-match"], etag)) {
    await file.blob.close();
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const ifRange = req.headers["if-range"];
  const range = ifRange === undefined || ifRange === etag ? parseByteRange(req.headers.range, file.size) : null;
  if (range === "unsatisfiable") {
    await file.blob.close();
    res.writeHead(416, { ...headers, "Content-Range": `bytes */${file.size}`, "Content-Length": 0 });
    res.end();
    return;
  }
  const status = range === null ? 200 : 206;
  const length = range === null ? file.size : range.end - range.start + 1;
  if (range !== null) headers["Content-Range"] = `bytes ${range.start}-${range.end}/${file.size}`;
  res.writeHead(status, { ...headers, "Content-Length": length });
  if (req.method === "HEAD" || length === 0) {
    await file.blob.close();
    res.end();
    return;
  }
  const body = file.blob.stream(range ?? undefined);
  body.on("error", () => res.destroy());
  res.on("close", () => body.destroy());
  body.pipe(res);
}

function fileHeaders(file: ServedFile, etag: string): Record<string, string | number> {
  const headers: Record<string, string | number> = {
    "Cache-Control": CACHE_CONTROL,
    "Accept-Ranges": "bytes",
    ETag: etag,
    Digest: `sha-256=${file.sha256}`,
    // Uploaded bytes are served from the deployment's origin: never sniff or run them as a page.
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
  };
  if (file.contentType !== null) headers["Content-Type"] = file.contentType;
  return headers;
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

/** A path segment decoded; undecodable input becomes "" (never a file name). */
function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return "";
  }
}
