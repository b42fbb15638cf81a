import { LRUCache } from "lru-cache";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { EngineError } from "../errors.js";
import type { EngineLogger } from "../logger.js";
import type { Runtime } from "../runtime/runtime.js";
import type { BlobService } from "../runtime/services.js";
import { STORAGE_TABLE } from "../runtime/syscalls/storage-ops.js";
import type { BlobStore, OpenBlob, ReceivedBlob } from "./blob-store.js";
import { digestMatches } from "./digest-header.js";
import { isStorageId } from "./storage-id.js";
import type { UploadTokens } from "./upload-tokens.js";

/** File storage as the engine uses it: the runtime's `BlobService` plus the HTTP side. */
export interface StorageService extends BlobService {
  /** Crash recovery before serving: temp files and files without a committed row are removed. */
  start(): Promise<void>;
  /**
   * Receives an upload made with a token from `generateUploadUrl`: checks the
   * token, streams the bytes to disk, inserts the `_storage` row in its own
   * committed transaction and returns the new id. Refused uploads leave
   * nothing behind and do not use up the token.
   */
  upload(request: UploadRequest): Promise<string>;
  /** A stored file with its `_storage` fields, opened for serving; null when unknown. */
  openFile(storageId: string): Promise<ServedFile | null>;
  /** Releases the token file. */
  close(): void;
}

/** One upload request, transport-neutral. */
export interface UploadRequest {
  token: string | null;
  /** The request's Content-Type, stored as `contentType` (null when absent). */
  contentType: string | null;
  /** The declared Content-Length, checked against the limit before reading. */
  contentLength: number | null;
  /** SHA-256 the client promised (Digest header), base64. */
  expectedSha256: string | null;
  body: AsyncIterable<Uint8Array>;
}

/** The `_storage` fields of a file (sha256 in base64, as the row holds it). */
export interface StoredFileInfo {
  storageId: string;
  sha256: string;
  size: number;
  contentType: string | null;
}

/** A file ready to be served. */
export interface ServedFile extends StoredFileInfo {
  blob: OpenBlob;
}

/** What the storage service is built from. */
export interface StorageServiceDeps {
  blobs: BlobStore;
  tokens: UploadTokens;
  /** The deployment's API URL; file URLs are `<cloudUrl>/api/storage/<id>`. */
  cloudUrl: string;
  runtime: () => Runtime;
  /** Largest file accepted, by upload or `storage.store` (bytes). */
  maxUploadBytes: number;
  logger: EngineLogger;
}

/** Metadata of this many files is cached for serving (rows never change; deletion evicts). */
const INFO_CACHE_SIZE = 10_000;

/** Creates the service over a blob store and a token store. */
export function createStorageService(deps: StorageServiceDeps): StorageService {
  const { blobs, tokens } = deps;
  // lru-cache evicts in O(1); a Map trimmed with keys().next() walked V8's holes of deleted entries.
  const info = new LRUCache<string, StoredFileInfo>({ max: INFO_CACHE_SIZE });

  /** Inserts the row and places the file in one transaction; on failure nothing stays. */
  async function commitFile(received: ReceivedBlob, contentType: string | null, claim?: () => void): Promise<string> {
    const runtime = deps.runtime();
    let placed: string | null = null;
    try {
      return await runtime.transact(() => {
        claim?.();
        const id = runtime.db.insert(STORAGE_TABLE, {
          sha256: received.sha256.toString("base64"),
          size: received.size,
          contentType,
        });
        blobs.place(received, id);
        placed = id;
        return id;
      });
    } catch (e) {
      if (placed !== null) blobs.remove(placed);
      else blobs.discard(received);
      throw e;
    }
  }

  async function fileInfo(storageId: string): Promise<StoredFileInfo | null> {
    const cached = info.get(storageId);
    if (cached !== undefined) return cached;
    const runtime = deps.runtime();
    const doc = await runtime.readFromAction((tx) => runtime.db.getValue(storageId, tx.reads));
    if (doc === null) return null;
    const found: StoredFileInfo = {
      storageId,
      sha256: String(doc.sha256),
      size: Number(doc.size),
      contentType: typeof doc.contentType === "string" ? doc.contentType : null,
    };
    info.set(storageId, found);
    return found;
  }

  async function openFile(storageId: string): Promise<ServedFile | null> {
    if (!isStorageId(storageId)) return null;
    const found = await fileInfo(storageId);
    if (found === null) return null;
    const blob = await blobs.open(storageId);
    if (blob === null) {
      info.delete(storageId);
      return null;
    }
    return { ...found, blob };
  }

  const refusedToken = () =>
    new EngineError(
      "UploadTokenInvalid",
      "This upload URL is invalid, expired or already used. Get a new one from generateUploadUrl.",
    );

  return {
    issueUploadToken: () => tokens.issue(),

    urlFor: (storageId) => `${deps.cloudUrl}/api/storage/${storageId}`,

    deleteBlob(storageId) {
      info.delete(storageId);
      blobs.remove(storageId);
    },

    async storeBlob(blob, contentType, expectedSha256) {
      // A web stream is async-iterable in Node: no Readable wrapper needed.
      const source = blob.stream() as unknown as NodeReadableStream<Uint8Array>;
      const received = await blobs.receive(source, deps.maxUploadBytes);
      if (expectedSha256 !== null && !digestMatches(expectedSha256, received.sha256)) {
        blobs.discard(received);
        throw new EngineError("DigestMismatch", "The stored bytes do not match the given sha256.");
      }
      return commitFile(received, contentType);
    },

    async readBlob(storageId) {
      const file = await openFile(storageId);
      if (file === null) return null;
      const bytes = await file.blob.readAll();
      // readFile never returns shared memory; the cast only narrows the buffer type.
      return new Blob([bytes as Uint8Array<ArrayBuffer>], { type: file.contentType ?? "" });
    },

    async start() {
      const runtime = deps.runtime();
      const removed = await runtime.readFromAction((tx) =>
        blobs.recover((id) => isStorageId(id) && runtime.db.get(id, tx.reads) !== null),
      );
      if (removed.temporary + removed.orphans > 0) {
        deps.logger.warn(
          `storage: removed ${removed.temporary} unfinished upload(s) and ${removed.orphans} file(s) without a _storage row`,
        );
      }
    },

    async upload(request) {
      const held = request.token === null ? null : tokens.hold(request.token);
      if (held === null) throw refusedToken();
      try {
        if (request.contentLength !== null && request.contentLength > deps.maxUploadBytes) {
          throw new EngineError(
            "PayloadTooLarge",
            `The file is ${request.contentLength} bytes; the limit is ${deps.maxUploadBytes} bytes.`,
          );
        }
        const received = await blobs.receive(request.body, deps.maxUploadBytes);
        if (request.expectedSha256 !== null && !digestMatches(request.expectedSha256, received.sha256)) {
          blobs.discard(received);
          throw new EngineError("DigestMismatch", "The uploaded bytes do not match the Digest header's sha-256.");
        }
        return await commitFile(received, request.contentType, () => {
          if (!held.consume()) throw refusedToken();
        });
      } finally {
        held.release();
      }
    },

    openFile,

    close: () => tokens.close(),
  };
}
