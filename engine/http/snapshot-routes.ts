import { createReadStream, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EngineError } from "../errors.js";
import type { Runtime } from "../runtime/runtime.js";
import { exportSnapshot } from "../snapshot/snapshot-export.js";
import { importSnapshot, type ImportMode } from "../snapshot/snapshot-import.js";
import type { BlobStore } from "../storage/blob-store.js";
import type { Store } from "../store/store.js";
import { parseAuthorization } from "./auth-header.js";
import type { IdentityResolver } from "./identity-resolver.js";
import type { Route } from "./api-server.js";
import { readBody } from "./request-body.js";
import { sendError, sendJson } from "./respond.js";

/** Largest snapshot ZIP accepted by the import endpoint. */
export const IMPORT_LIMIT = 1024 * 1024 * 1024;

/**
 * `POST /api/admin/export?includeStorage=true` → the snapshot ZIP, and
 * `POST /api/admin/import?mode=requireEmpty|replace|append` with a ZIP body →
 * `{tables, files}`. Both need the admin key; the CLI uses them when an
 * engine serves the data folder.
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
      const zip = await readBody(req, IMPORT_LIMIT);
      const summary = await importSnapshot({
        store: deps.store,
        blobs: deps.blobs,
        zip,
        mode,
        transact: (fn) => deps.runtime().transact(() => fn()),
      });
      sendJson(res, 200, { tables: summary.tables, files: summary.files });
    } catch (e) {
      sendError(res, e);
    }
    return true;
  };
}
