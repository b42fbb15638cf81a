import { createReadStream, createWriteStream, mkdtempSync, rmSync } from "node:fs";
import { once } from "node:events";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { EngineError } from "../errors.js";
import type { Runtime } from "../runtime/runtime.js";
import { exportSnapshot } from "../snapshot/snapshot-export.js";
import { DEFAULT_IMPORT_LIMITS } from "../snapshot/import-limits.js";
import { importFile, type ImportMode } from "../snapshot/snapshot-import.js";
import { importFormatOf } from "../snapshot/table-file-reader.js";
import type { BlobStore } from "../storage/blob-store.js";
import type { Store } from "../store/store.js";
import { parseAuthorization } from "./auth-header.js";
import type { IdentityResolver } from "./identity-resolver.js";
import type { Route } from "./api-server.js";
import { refuseUnreadBody } from "./early-refusal.js";
import { sendError, sendJson } from "./respond.js";

/** Largest import file accepted by the import endpoint (it is spooled to disk, never held in memory). */
export const IMPORT_LIMIT = DEFAULT_IMPORT_LIMITS.maxTotalBytes;

/**
 * `POST /api/admin/export?includeStorage=true` → the snapshot ZIP, and
 * `POST /api/admin/import?mode=requireEmpty|replace|append&format=zip|csv|jsonLines|jsonArray&table=NAME`
 * with the file as the body → `{tables, files}`. Both need the admin key; the
 * CLI uses them when an engine serves the data folder. The import body is
 * streamed to a temporary file (refused with 413 past `IMPORT_LIMIT`, before
 * reading when its length is declared), then imported from there.
 */
export function snapshotRoutes(deps: {
  runtime: () => Runtime;
  store: Store;
  blobs: BlobStore;
  identities: IdentityResolver;
}): Route {
  return async (req, res, url) => {
    if (url.pathname !== "/api/admin/export" && url.pathname !== "/api/admin/import") return false;
    try {
      const credentials = parseAuthorization(req.headers);
      if (credentials.kind !== "admin" || !deps.identities.isAdminKey(credentials.key)) {
        throw new EngineError("AdminKeyRequired", "This endpoint needs `Authorization: Convex <admin key>`.");
      }
      if (req.method !== "POST") throw new EngineError("MethodNotAllowed", "Use POST.");
      if (url.pathname === "/api/admin/export") {
        const dir = mkdtempSync(path.join(tmpdir(), "convex-export-"));
        const file = path.join(dir, "snapshot.zip");
        try {
          // The lock keeps writes out while the snapshot is read, so it is consistent.
          await deps.runtime().lock.run(() =>
            exportSnapshot({ store: deps.store, blobs: deps.blobs, includeStorage: url.searchParams.get("includeStorage") === "true", file }),
          );
          const ts = deps.store.lastCommitTs().toString();
          res.writeHead(200, {
            "Content-Type": "application/zip",
            "Content-Disposition": `attachment; filename=snapshot_local_${ts}.zip`,
          });
          await new Promise<void>((resolve, reject) => {
            createReadStream(file).on("error", reject).on("end", resolve).pipe(res);
          });
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
        return true;
      }
      const mode = (url.searchParams.get("mode") ?? "requireEmpty") as ImportMode;
      if (!["requireEmpty", "replace", "append"].includes(mode)) {
        throw new EngineError("BadRequest", "mode must be requireEmpty, replace or append.");
      }
      const format = importFormatOf("", url.searchParams.get("format") ?? "zip");
      const dir = mkdtempSync(path.join(tmpdir(), "convex-import-"));
      let summary;
      try {
        const file = path.join(dir, "upload");
        try {
          await spool(req, file, IMPORT_LIMIT);
        } catch (e) {
          refuseUnreadBody(req, res, e);
          return true;
        }
        summary = await importFile(
          { file, format, table: url.searchParams.get("table"), mode },
          {
            store: deps.store,
            blobs: deps.blobs,
            // The import's writes go through the runtime's commit path, so live queries see them.
            transact: (fn) => deps.runtime().transact(() => fn()),
            now: () => Date.now(),
          },
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      sendJson(res, 200, { tables: summary.tables, files: summary.files });
    } catch (e) {
      sendError(res, e);
    }
    return true;
  };
}

/**
 * Streams a request body into `file`, refusing (413) a body longer than
 * `limit`: before reading when its length is declared, else at the first byte
 * past it. The request is read without being destroyed on a refusal, so its
 * client can still be answered.
 */
async function spool(req: IncomingMessage, file: string, limit: number): Promise<void> {
  const declared = Number(req.headers["content-length"] ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    throw new EngineError("PayloadTooLarge", `The import file is ${declared} bytes; the limit is ${limit} bytes.`);
  }
  const out = createWriteStream(file, { mode: 0o600 });
  const failed = new Promise<never>((_, reject) => out.once("error", reject));
  failed.catch(() => {});
  let size = 0;
  try {
    for await (const chunk of req.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new EngineError("PayloadTooLarge", `The import file is larger than the limit of ${limit} bytes.`);
      if (!out.write(chunk)) await Promise.race([once(out, "drain"), failed]);
    }
    await Promise.race([new Promise<void>((resolve) => out.end(() => resolve())), failed]);
  } catch (e) {
    out.destroy();
    throw e;
  }
}
