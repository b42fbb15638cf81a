import { EngineError } from "../../errors.js";
import type { JSONValue } from "convex/values";
import type { ExecutionContext as Execution, TransactionState } from "../execution-context.js";
import type { ReadRecorder } from "../runtime-database.js";
import type { BlobService } from "../services.js";
import type { OpHandler, JsOpHandler } from "./op-types.js";

/** The system table of stored files (§4.8). */
export const STORAGE_TABLE = "_storage";

type StorageArgs = { storageId: string };

/** `ctx.storage` (§3.4). `_storage` rows change in the caller's transaction; bytes go only after commit. */
export const STORAGE_ASYNC_OPS: Record<string, OpHandler> = {
  "1.0/storageGenerateUploadUrl": async (exec) => {
    refuseInComponent(exec, "storage.generateUploadUrl");
    if (exec.kind === "query") {
      throw new EngineError("ReadOnly", "generateUploadUrl can only be used in mutations and actions.");
    }
    const token = await blobs(exec).issueUploadToken();
    return `${exec.host.deployment.cloudUrl}/api/storage/upload?token=${encodeURIComponent(token)}`;
  },
  "1.0/storageGetUrl": (exec, args: StorageArgs) => {
    const id = storageId(exec, args.storageId);
    // Only whether the file exists: its stored text answers that without decoding it.
    // In a query or mutation the answer is a value, not a promise chain (`withReads`): a
    // feed page asks this for every photo. A failure still rejects the syscall's promise
    // (`Execution.asyncSyscall*` turns a handler's throw into a rejection).
    return withReads(exec, (reads) => (exec.db.get(id, reads) !== null ? blobs(exec).urlFor(id) : null));
  },
  "1.0/storageGetMetadata": async (exec, args: StorageArgs) => {
    const id = storageId(exec, args.storageId);
    const meta = await readDoc(exec, id, (doc) =>
      doc === null
        ? null
        : {
            storageId: id,
            sha256: Buffer.from(String(doc.sha256), "base64").toString("hex"),
            size: doc.size,
            contentType: doc.contentType ?? null,
          },
    );
    return meta as JSONValue;
  },
  "1.0/storageDelete": async (exec, args: StorageArgs) => {
    const id = storageId(exec, args.storageId);
    if (exec.kind === "query") throw new EngineError("ReadOnly", "storage.delete can only be used in mutations and actions.");
    const remove = (tx: TransactionState) => {
      if (exec.db.getValue(id, tx.reads) === null) {
        throw new EngineError("StorageFileNotFound", `storage id ${id} not found`);
      }
      exec.db.remove(id);
      const service = blobs(exec);
      tx.afterCommit.push(() => service.deleteBlob(id));
    };
    if (exec.tx !== null) remove(exec.requireWritable("storage.delete"));
    else await exec.host.transact(remove);
    return null;
  },
};

/** Blob access for actions (§3.4 jsSyscalls): real `Blob` objects in and out. */
export const STORAGE_JS_OPS: Record<string, JsOpHandler> = {
  "storage/storeBlob": (exec, args: { blob: Blob; options?: { sha256?: string } }) => {
    if (exec.tx !== null) throw new EngineError("NotInAction", "storage.store is only available in actions.");
    if (!(args.blob instanceof Blob)) throw new EngineError("InvalidArgument", "storage.store expects a Blob.");
    refuseInComponent(exec, "storage.store");
    return blobs(exec).storeBlob(args.blob, args.blob.type || null, args.options?.sha256 ?? null);
  },
  "storage/getBlob": async (exec, args: StorageArgs) => {
    if (exec.tx !== null) throw new EngineError("NotInAction", "storage.get is only available in actions.");
    const id = storageId(exec, args.storageId);
    return blobs(exec).readBlob(id);
  },
};

/**
 * A component's files would live in its own `_storage`, which the upload and
 * serving paths do not know yet: storing is refused with a clear message
 * (reading, getUrl and delete see the component's own, empty, `_storage`).
 */
function refuseInComponent(exec: Execution, op: string): void {
  if (exec.component !== "") {
    throw new EngineError("ComponentFeatureUnsupported", `${op} inside a component ("${exec.component}") is not supported by this engine yet.`);
  }
}

function blobs(exec: Execution): BlobService {
  const service = exec.host.blobs;
  if (service === null) throw new EngineError("StorageUnavailable", "File storage is not configured for this engine.");
  return service;
}

function storageId(exec: Execution, raw: unknown): string {
  if (typeof raw !== "string" || exec.db.tableOfId(raw) !== STORAGE_TABLE) {
    throw new EngineError("InvalidStorageId", `Invalid storage id: ${JSON.stringify(raw)} is not an id of a stored file.`);
  }
  return raw;
}

async function readDoc<T>(exec: Execution, id: string, use: (doc: Record<string, unknown> | null) => T): Promise<T> {
  return withReads(exec, (reads) => use(exec.db.getValue(id, reads)));
}

/**
 * Runs `read` in the execution's transaction, or (in an action) in a read transaction of
 * its own. In a query or mutation the read is synchronous on the thread that runs it (its
 * own connection, at its snapshot), so its answer is returned as a value, not a promise.
 */
function withReads<T>(exec: Execution, read: (reads: ReadRecorder) => T): T | Promise<T> {
  if (exec.tx !== null) return read(exec.tx.reads);
  return exec.host.readFromAction((tx) => read(tx.reads));
}
