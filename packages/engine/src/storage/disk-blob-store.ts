import { createHash, randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { EngineError } from "../errors.js";
import type { BlobStore, OpenBlob, ReceivedBlob } from "./blob-store.js";

/**
 * The blob store on local disk:
 *
 * ```
 * <dir>/blobs/<storage id>     stored files, named by their `_storage` id
 * <dir>/tmp/<random>.upload    uploads being received (none survive a restart)
 * ```
 *
 * A name only ever comes from a validated storage id (lower-case base32), and
 * is checked again here, so no request can name a path outside `blobs/`.
 */
export function createDiskBlobStore(dir: string): BlobStore {
  const blobsDir = path.join(dir, "blobs");
  const tmpDir = path.join(dir, "tmp");
  mkdirSync(blobsDir, { recursive: true, mode: 0o700 });
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });

  const blobPath = (storageId: string) => path.join(blobsDir, safeName(storageId));

  return {
    async receive(source, limit) {
      const tempPath = path.join(tmpDir, `${randomBytes(12).toString("hex")}.upload`);
      const file = await open(tempPath, "wx", 0o600);
      const hash = createHash("sha256");
      let size = 0;
      try {
        for await (const chunk of source) {
          size += chunk.byteLength;
          if (size > limit) {
            throw new EngineError("PayloadTooLarge", `The file is larger than the limit of ${limit} bytes.`);
          }
          hash.update(chunk);
          await file.write(chunk);
        }
        await file.sync();
        await file.close();
      } catch (e) {
        await file.close().catch(() => {});
        rmSync(tempPath, { force: true });
        throw e;
      }
      return { size, sha256: hash.digest(), tempPath };
    },

    place(received, storageId) {
      renameSync(ownTemp(tmpDir, received), blobPath(storageId));
      syncDirectory(blobsDir);
    },

    discard(received) {
      rmSync(ownTemp(tmpDir, received), { force: true });
    },

    async open(storageId): Promise<OpenBlob | null> {
      let file: FileHandle;
      try {
        file = await open(blobPath(storageId), "r");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw e;
      }
      // Sizes come from the `_storage` row; serving needs no fstat.
      return {
        stream: (range) =>
          file.createReadStream({ highWaterMark: READ_CHUNK, ...(range === undefined ? {} : { start: range.start, end: range.end }) }),
        async readAll() {
          try {
            return await file.readFile();
          } finally {
            await file.close();
          }
        },
        close: () => file.close(),
      };
    },

    remove(storageId) {
      try {
        unlinkSync(blobPath(storageId));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
    },

    recover(isKept) {
      let temporary = 0;
      for (const name of readdirSync(tmpDir)) {
        rmSync(path.join(tmpDir, name), { force: true, recursive: true });
        temporary += 1;
      }
      let orphans = 0;
      for (const name of readdirSync(blobsDir)) {
        if (isSafeName(name) && isKept(name)) continue;
        rmSync(path.join(blobsDir, name), { force: true, recursive: true });
        orphans += 1;
      }
      if (orphans > 0) syncDirectory(blobsDir);
      return { temporary, orphans };
    },
  };
}

/** Read size when serving: fewer, larger reads than the 64 KiB default keep up with loopback HTTP. */
const READ_CHUNK = 512 * 1024;

const NAME = /^[0-9a-z]{31,37}$/;

function isSafeName(name: string): boolean {
  return NAME.test(name);
}

/** A file name for a storage id; anything else is refused before it reaches the filesystem. */
function safeName(storageId: string): string {
  if (!isSafeName(storageId)) {
    throw new EngineError("InvalidStorageId", `Invalid storage id: ${JSON.stringify(storageId)}.`);
  }
  return storageId;
}

/** The temp path of a received blob, refusing one that is not in our temp folder. */
function ownTemp(tmpDir: string, received: ReceivedBlob): string {
  if (path.dirname(received.tempPath) !== tmpDir) {
    throw new EngineError("InternalError", "A received file is not in the storage's temp folder.", "fatal");
  }
  return received.tempPath;
}

/** Makes a rename durable: the directory entry is fsynced too. */
function syncDirectory(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
