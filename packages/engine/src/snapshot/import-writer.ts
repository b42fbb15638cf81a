import type { Value } from "convex/values";
import { EngineError } from "../errors.js";
import { STORAGE_TABLE } from "../runtime/syscalls/storage-ops.js";
import type { BlobStore, ReceivedBlob } from "../storage/blob-store.js";
import type { Store } from "../store/store.js";
import { tryDecodeDocumentId } from "../values/document-id.js";
import { isSystemTableName, SYSTEM_TABLE_NUMBERS } from "../values/table-names.js";
import { checkDocumentLimits, systemFieldsSize } from "../values/value-limits.js";
import type { ImportUnit, TablesUnit } from "./import-units.js";
import { rowsInCreationOrder } from "./table-rows.js";

/** What to do with tables that already hold documents (Convex's import modes). */
export type ImportMode = "requireEmpty" | "replace" | "append";

/** What an import wrote. */
export interface ImportSummary {
  tables: { name: string; documents: number }[];
  files: number;
  /** Files whose rows `replace` deleted and the import did not bring back: delete them after the commit. */
  removedFiles: string[];
}

/** Settings of the writing core. */
export interface WriteImportOptions {
  mode: ImportMode;
  /** Where stored files go; null when the engine has none (a ZIP with files is then refused). */
  blobs: BlobStore | null;
  /** Largest stored file accepted (bytes). */
  maxFileBytes: number;
  /** Wall clock (ms): `_creationTime` may not lie further ahead of it than a clock's skew. */
  now: () => number;
}

/** The length of a generated id of a user table (32 characters), for the size of a document still without one. */
const ID_LENGTH = 32;

/** How far ahead of this machine's clock an imported `_creationTime` may be (another machine's skew). */
const MAX_CREATION_TIME_AHEAD_MS = 24 * 60 * 60 * 1000;

/**
 * The writing core of every import: consumes units (parsed and bounded by a
 * reader) and writes them into `store`, whose write transaction the caller has
 * opened and will commit, or roll back when this throws, so that either all of
 * the import lands or none of it. It knows nothing of the runtime or its lock:
 * it runs on whichever thread owns the store's write connection, inside that
 * thread's one write transaction.
 *
 * System fields are checked before the store sees them: `_id` must be an id
 * of its table (the number a snapshot's `_tables` gives, or the first document
 * decides for a table of a single-table import), `_creationTime` a float64 not
 * negative (as Convex) and not more than a day ahead of this machine's clock
 * (a far-future time would become the floor of every later creation time).
 * Errors name the file and line or row.
 *
 * Stored files are received into temporary files (hashed and size-checked
 * against their `_storage` row) and placed under their ids just before the
 * caller commits; on failure they are discarded.
 */
export async function writeImport(store: Store, units: AsyncIterable<ImportUnit>, options: WriteImportOptions): Promise<ImportSummary> {
  const counts = new Map<string, number>();
  const numberFromFirstId = new Set<string>();
  const awaitingFile = new Map<string, { sha256: string; size: number }>();
  const received: { id: string; blob: ReceivedBlob }[] = [];
  const removedFiles: string[] = [];
  let files = 0;
  let sawTables = false;
  try {
    for await (const unit of units) {
      switch (unit.kind) {
        case "tables": {
          if (sawTables) throw new EngineError("InvalidImport", "An import names its tables once.");
          sawTables = true;
          prepareTables(store, unit, options.mode, removedFiles);
          for (const table of unit.tables) {
            counts.set(table.name, 0);
            if (table.number === null) numberFromFirstId.add(table.name);
          }
          if (unit.storage) counts.set(STORAGE_TABLE, 0);
          break;
        }
        case "document": {
          const count = counts.get(unit.table);
          if (count === undefined) throw new EngineError("InvalidImport", `${unit.where}: table "${unit.table}" is not in the import's table list.`);
          if (numberFromFirstId.delete(unit.table)) adoptNumberOfFirstId(store, unit.table, unit.doc._id);
          insert(store, unit.table, unit.doc, unit.where, options.now());
          counts.set(unit.table, count + 1);
          break;
        }
        case "storageRow": {
          const row = storageRow(unit.doc, unit.where);
          if (options.blobs === null) throw new EngineError("InvalidImport", "This engine has no file storage to import files into.");
          const fields: Record<string, Value> = { _id: row.id, sha256: row.sha256, size: row.size, contentType: row.contentType };
          if (row.creationTime !== undefined) fields._creationTime = row.creationTime;
          insert(store, STORAGE_TABLE, fields, unit.where, options.now());
          awaitingFile.set(row.id, { sha256: row.sha256, size: row.size });
          counts.set(STORAGE_TABLE, (counts.get(STORAGE_TABLE) ?? 0) + 1);
          break;
        }
        case "storageFile": {
          // A file without a row is not imported (Convex reads files through their rows).
          const expected = awaitingFile.get(unit.storageId);
          if (expected === undefined) break;
          awaitingFile.delete(unit.storageId);
          const blob = await options.blobs!.receive(await unit.open(), options.maxFileBytes);
          received.push({ id: unit.storageId, blob });
          if (blob.size !== expected.size || (expected.sha256 !== "" && blob.sha256.toString("base64") !== expected.sha256)) {
            throw new EngineError(
              "InvalidImport",
              `${unit.where} does not match its _storage row (${blob.size} bytes, expected ${expected.size} with sha256 ${expected.sha256}).`,
            );
          }
          files += 1;
          break;
        }
        default: {
          const never: never = unit;
          throw new Error(`unknown import unit ${JSON.stringify(never)}`);
        }
      }
    }
    const missing = awaitingFile.keys().next();
    if (!missing.done) throw new EngineError("InvalidImport", `The ZIP has no file for stored file ${missing.value}.`);
    // Last, still inside the transaction: a crash before the commit leaves
    // placed files without rows, which the blob store's recovery removes.
    for (const { id, blob } of received) options.blobs!.place(blob, id);
  } catch (e) {
    for (const { blob } of received) options.blobs?.discard(blob);
    throw e;
  }
  const reimported = new Set(received.map((r) => r.id));
  return {
    tables: [...counts].filter(([name]) => name !== STORAGE_TABLE).map(([name, documents]) => ({ name, documents })),
    files,
    removedFiles: removedFiles.filter((id) => !reimported.has(id)),
  };
}

/** Empties (`replace`) or checks (`requireEmpty`) every table of the import, then gives known numbers. */
function prepareTables(store: Store, unit: TablesUnit, mode: ImportMode, removedFiles: string[]): void {
  for (const { name } of unit.tables) prepareTable(store, name, mode, removedFiles);
  if (unit.storage) {
    prepareTable(store, STORAGE_TABLE, mode, removedFiles);
    store.ensureTable(STORAGE_TABLE, SYSTEM_TABLE_NUMBERS[STORAGE_TABLE]!);
  }
  const numbered = unit.tables.filter((t): t is { name: string; number: number } => t.number !== null);
  assignTableNumbers(store, numbered);
  for (const { name, number } of unit.tables) {
    if (number === null && store.tableNumber(name) === null) store.ensureTable(name, freeTableNumber(store));
  }
}

/** Empties a table for `replace`, or checks it is empty. */
function prepareTable(store: Store, table: string, mode: ImportMode, removedFiles: string[]): void {
  const existing = store.count(table);
  if (existing === 0 || mode === "append") return;
  if (mode === "requireEmpty") {
    throw new EngineError(
      "ImportTargetNotEmpty",
      `Table "${table}" already has ${existing} documents. Import with --replace to replace them, or --append to add to them.`,
    );
  }
  for (const row of rowsInCreationOrder(store, table)) {
    const id = (JSON.parse(row.text) as { _id: string })._id;
    store.delete(id);
    if (table === STORAGE_TABLE) removedFiles.push(id);
  }
}

/**
 * Gives every snapshot table the number its ids embed. Empty tables that are
 * in the way (the schema push numbered tables in its own order) first move to
 * free numbers, so numbers can be swapped; a table holding documents never
 * changes number.
 */
function assignTableNumbers(store: Store, tables: { name: string; number: number }[]): void {
  const wanted = new Map(tables.map((t) => [t.number, t.name]));
  let spare = Math.max(0, ...store.listTables().map((t) => t.number), ...tables.map((t) => t.number)) + 1;
  for (const existing of store.listTables()) {
    if (isSystemTableName(existing.name)) continue;
    const target = tables.find((t) => t.name === existing.name)?.number;
    const blocks = wanted.has(existing.number) && wanted.get(existing.number) !== existing.name;
    if ((target !== undefined && target !== existing.number) || blocks) {
      if (store.count(existing.name) === 0) store.ensureTable(existing.name, spare++);
    }
  }
  for (const table of tables) store.ensureTable(table.name, table.number);
}

/**
 * A single-table import into an empty table takes the number of its first
 * document's `_id` when that number is free (as Convex does), so exported ids
 * survive; otherwise the table keeps its number and such ids are refused.
 */
function adoptNumberOfFirstId(store: Store, table: string, id: Value | undefined): void {
  const number = typeof id === "string" ? tryDecodeDocumentId(id)?.tableNumber : undefined;
  if (number === undefined || store.count(table) > 0 || store.tableNumber(table) === number) return;
  if (store.tableName(number) !== null) return;
  store.ensureTable(table, number);
}

function freeTableNumber(store: Store): number {
  return Math.max(10000, ...store.listTables().map((t) => t.number)) + 1;
}

/** Checks the system fields, then inserts; any refusal names where the document came from. */
function insert(store: Store, table: string, doc: Record<string, Value>, where: string, now: number): void {
  try {
    const id = doc._id;
    if (id !== undefined) {
      if (typeof id !== "string") throw new EngineError("InvalidImport", `_id must be a string, got ${typeof id}.`);
      const decoded = tryDecodeDocumentId(id);
      if (decoded === null) throw new EngineError("InvalidImport", `invalid _id '${id}'.`);
      if (decoded.tableNumber !== store.tableNumber(table)) {
        throw new EngineError("InvalidImport", `_id ${id} cannot be imported into '${table}' because its IDs have a different format.`);
      }
    }
    const creationTime = doc._creationTime;
    if (creationTime !== undefined) {
      if (typeof creationTime !== "number" || !Number.isFinite(creationTime) || creationTime < 0) {
        throw new EngineError("InvalidImport", `_creationTime must be a non-negative float64 (milliseconds), got ${String(creationTime)}.`);
      }
      if (creationTime > now + MAX_CREATION_TIME_AHEAD_MS) {
        throw new EngineError(
          "InvalidImport",
          `_creationTime ${creationTime} (milliseconds since 1970) is more than a day ahead of this machine's clock.`,
        );
      }
    }
    // Convex's document limits, so what is imported here also imports into Convex's cloud.
    const { _id, _creationTime, ...fields } = doc;
    checkDocumentLimits(fields, systemFieldsSize(typeof _id === "string" ? _id.length : ID_LENGTH));
    store.insertWithId(table, doc);
  } catch (e) {
    if (!(e instanceof EngineError)) throw e;
    throw new EngineError("InvalidImport", `${where}: ${e.message}`);
  }
}

/** A `_storage` row of a snapshot, checked: `{_id, _creationTime, sha256, size, contentType}`. */
function storageRow(doc: Record<string, Value>, where: string) {
  const fail = (message: string) => new EngineError("InvalidImport", `${where}: ${message}`);
  if (typeof doc._id !== "string" || tryDecodeDocumentId(doc._id)?.tableNumber !== SYSTEM_TABLE_NUMBERS[STORAGE_TABLE]) {
    throw fail(`_id ${JSON.stringify(doc._id)} is not a _storage id.`);
  }
  const size = typeof doc.size === "bigint" ? Number(doc.size) : doc.size;
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw fail(`size must be a non-negative integer, got ${String(doc.size)}.`);
  const sha256 = doc.sha256 ?? "";
  if (typeof sha256 !== "string" || (sha256 !== "" && !/^[A-Za-z0-9+/]{43}=$/.test(sha256))) {
    throw fail("sha256 must be the base64 of a SHA-256 digest.");
  }
  const contentType = doc.contentType ?? null;
  if (contentType !== null && typeof contentType !== "string") throw fail("contentType must be a string or null.");
  return { id: doc._id, creationTime: doc._creationTime, sha256, size, contentType };
}
