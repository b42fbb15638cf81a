import path from "node:path";
import type { EngineLogger } from "../logger.js";
import type { Runtime } from "../runtime/runtime.js";
import { createDiskBlobStore } from "./disk-blob-store.js";
import { createStorageService, type StorageService } from "./storage-service.js";
import { createUploadTokens } from "./upload-tokens.js";

/** Settings of file storage. */
export interface StorageOptions {
  /** Largest file accepted (bytes); default 1 GiB. */
  maxUploadBytes?: number;
}

/**
 * Default upload limit: 1 GiB. Uploads stream to disk (constant memory), so
 * the limit guards the disk, not the heap; `start --max-upload-size` sets it.
 */
export const DEFAULT_MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
/** Upload URLs are good for an hour, as Convex's. */
const UPLOAD_TOKEN_TTL_MS = 60 * 60 * 1000;

/**
 * File storage in `<dataDir>/storage/`: `blobs/` (files by `_storage` id),
 * `tmp/` (uploads in flight) and `upload-tokens.sqlite3`.
 */
export function createLocalStorage(deps: {
  dataDir: string;
  cloudUrl: string;
  now: () => number;
  runtime: () => Runtime;
  logger: EngineLogger;
  options?: StorageOptions;
}): StorageService {
  const dir = path.join(deps.dataDir, "storage");
  const blobs = createDiskBlobStore(dir);
  const tokens = createUploadTokens({ path: path.join(dir, "upload-tokens.sqlite3"), now: deps.now, ttlMs: UPLOAD_TOKEN_TTL_MS });
  return createStorageService({
    blobs,
    tokens,
    cloudUrl: deps.cloudUrl,
    runtime: deps.runtime,
    maxUploadBytes: deps.options?.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES,
    logger: deps.logger,
  });
}
