import type { Runtime } from "../runtime/runtime.js";
import { STORAGE_TABLE } from "../runtime/syscalls/storage-ops.js";
import type { Store } from "../store/store.js";
import { readDocumentPage, type PageRequest } from "./document-page.js";

/** A `_storage` row as the dashboard lists it. */
export interface FileEntry {
  _id: string;
  _creationTime: number;
  sha256: string;
  size: number;
  contentType: string | null;
  /** The file's URL (`storage.getUrl`); null when the engine has no file storage. */
  url: string | null;
  /** True when the row exists but its bytes are not on disk. */
  missing: boolean;
}

/** A page of files, the cursor of the next page (null on the last one), and how many files there are. */
export interface FilePage {
  files: FileEntry[];
  nextCursor: string | null;
  total: number;
}

/** What listing files reads. */
export interface FileListDeps {
  runtime: Runtime;
  store: Store;
  /** Whether a stored file's bytes are present. */
  fileExists(storageId: string): Promise<boolean>;
}

/**
 * A page of `_storage` rows, each with its URL and whether its bytes are on
 * disk. Rows are read under the lock; the disk is checked after it is
 * released, because opening a file takes the lock again.
 */
export async function listFiles(deps: FileListDeps, page: PageRequest): Promise<FilePage> {
  const { rows, nextCursor, total } = await deps.runtime.lock.run(async () => ({
    ...readDocumentPage(deps.store, STORAGE_TABLE, page),
    total: deps.store.count(STORAGE_TABLE),
  }));
  const files = await Promise.all(
    rows.map(async (row): Promise<FileEntry> => {
      const doc = JSON.parse(row.text) as Record<string, unknown>;
      const id = String(doc._id);
      return {
        _id: id,
        _creationTime: Number(doc._creationTime),
        sha256: String(doc.sha256 ?? ""),
        size: Number(doc.size ?? 0),
        contentType: typeof doc.contentType === "string" ? doc.contentType : null,
        url: deps.runtime.blobs?.urlFor(id) ?? null,
        missing: !(await deps.fileExists(id)),
      };
    }),
  );
  return { files, nextCursor, total };
}
