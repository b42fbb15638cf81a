import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { EngineError } from "../errors.js";
import type { Runtime } from "../runtime/runtime.js";
import { cancelScheduledJob, SCHEDULED_FUNCTIONS_TABLE } from "../runtime/syscalls/schedule-ops.js";
import { STORAGE_TABLE } from "../runtime/syscalls/storage-ops.js";
import { checkDocumentLimits, systemFieldsSize } from "../values/value-limits.js";

/**
 * The dashboard's writes: add, edit and delete documents, cancel a scheduled
 * job, store and delete files. Each runs as its own transaction through
 * `runtime.transact` (or, for file bytes, the blob service an action's
 * `ctx.storage.store` uses): the same commit path as a mutation, so schema
 * validation applies, live queries re-run, and subscribers hear of it.
 * Every entry point is behind the admin key (the caller checked it).
 */

/** Adds a document (Convex JSON fields, no system fields) to a user table; answers its id. */
export async function insertDocument(runtime: Runtime, table: unknown, fields: unknown): Promise<{ id: string }> {
  const name = userTable(table);
  const value = userFields(fields);
  const id = await runtime.transact(() => runtime.db.insert(name, value));
  return { id };
}

/** Replaces a document's fields (its `_id` and `_creationTime` stay), as the dashboard's editor saves it. */
export async function replaceDocument(runtime: Runtime, id: unknown, fields: unknown): Promise<{ id: string }> {
  const documentId = userDocumentId(runtime, id);
  const value = userFields(fields);
  await runtime.transact((tx) => {
    if (runtime.db.get(documentId, tx.reads) === null) throw new EngineError("NotFound", `No document has the id ${documentId}.`);
    runtime.db.replace(documentId, value);
  });
  return { id: documentId };
}

/** Deletes documents of user tables, all or none; answers how many. */
export async function deleteDocuments(runtime: Runtime, ids: unknown): Promise<{ deleted: number }> {
  if (!Array.isArray(ids) || ids.length === 0 || ids.length > 1000) throw new EngineError("BadRequest", 'Send {"ids": ["<document id>", …]} (1 to 1000 ids).');
  const documentIds = ids.map((id) => userDocumentId(runtime, id));
  await runtime.transact((tx) => {
    for (const id of documentIds) {
      if (runtime.db.get(id, tx.reads) === null) throw new EngineError("NotFound", `No document has the id ${id}; nothing was deleted.`);
      runtime.db.remove(id);
    }
  });
  return { deleted: documentIds.length };
}

/** Cancels a pending or running scheduled job, as `ctx.scheduler.cancel` does. */
export async function cancelJob(runtime: Runtime, id: unknown): Promise<{ state: string }> {
  if (typeof id !== "string") throw new EngineError("BadRequest", 'Send {"id": "<scheduled function id>"}.');
  return runtime.transact((tx) => ({ state: cancelScheduledJob(runtime.db, () => runtime.now(), tx, id, null) }));
}

/** Stores uploaded bytes as a new file (the path of an action's `ctx.storage.store`); answers its id. */
export async function storeFile(runtime: Runtime, bytes: Buffer, contentType: string | null): Promise<{ storageId: string }> {
  const blobs = runtime.blobs;
  if (blobs === null) throw new EngineError("NotSupported", "This engine has no file storage.");
  const storageId = await blobs.storeBlob(new Blob([bytes as Uint8Array<ArrayBuffer>], { type: contentType ?? "" }), contentType, null);
  return { storageId };
}

/** Deletes a stored file: its `_storage` row now, its bytes once that commit is durable (as `ctx.storage.delete`). */
export async function deleteFile(runtime: Runtime, id: unknown): Promise<{ deleted: string }> {
  const blobs = runtime.blobs;
  if (blobs === null) throw new EngineError("NotSupported", "This engine has no file storage.");
  if (typeof id !== "string" || runtime.db.tableOfId(id) !== STORAGE_TABLE) throw new EngineError("BadRequest", `"${String(id)}" is not a stored file's id.`);
  await runtime.transact((tx) => {
    if (runtime.db.get(id, tx.reads) === null) throw new EngineError("NotFound", `No stored file has the id ${id}.`);
    runtime.db.remove(id);
    tx.afterCommit.push(() => blobs.deleteBlob(id));
  });
  return { deleted: id };
}

function userTable(table: unknown): string {
  if (typeof table !== "string" || table === "") throw new EngineError("BadRequest", 'Send {"table": "<table name>", "fields": {…}}.');
  if (table.startsWith("_")) throw new EngineError("BadRequest", `${table} is a system table: use the Files or Schedules view.`);
  return table;
}

function userDocumentId(runtime: Runtime, id: unknown): string {
  const table = typeof id === "string" ? runtime.db.tableOfId(id) : undefined;
  if (typeof id !== "string" || table === undefined) throw new EngineError("BadRequest", `"${String(id)}" is not a document id.`);
  if (table === null) throw new EngineError("NotFound", `No document has the id ${id}.`);
  if (table === STORAGE_TABLE || table === SCHEDULED_FUNCTIONS_TABLE) {
    throw new EngineError("BadRequest", `${id} is in the system table ${table}: use the Files or Schedules view.`);
  }
  return id;
}

/** The fields of a document to write: a Convex JSON object; `_id` and `_creationTime` are ignored (they never change). */
function userFields(fields: unknown): Record<string, Value> {
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new EngineError("BadRequest", "The document must be a JSON object of fields, like {\"name\": \"Ada\"}.");
  }
  const { _id, _creationTime, ...rest } = fields as Record<string, JSONValue>;
  void _id;
  void _creationTime;
  let decoded: Value;
  try {
    decoded = jsonToConvex(rest);
  } catch (e) {
    throw new EngineError("BadRequest", `The document is not valid Convex JSON: ${(e as Error).message}`);
  }
  // The limits a mutation's writes meet (1 MiB, nesting, field counts), with the same messages.
  checkDocumentLimits(decoded as Record<string, Value>, systemFieldsSize(LONGEST_ID));
  return decoded as Record<string, Value>;
}

/** Ids are at most this long; the system fields' size is counted with it, as for a mutation's insert. */
const LONGEST_ID = 37;
