import type { Value } from "convex/values";
import { unzipSync } from "fflate";
import { EngineError } from "../errors.js";
import { STORAGE_TABLE } from "../runtime/syscalls/storage-ops.js";
import type { BlobStore, ReceivedBlob } from "../storage/blob-store.js";
import type { Store } from "../store/store.js";
import { isSystemTableName, SYSTEM_TABLE_NUMBERS, tableInComponent } from "../values/table-names.js";
import { parseExportJsonLine } from "./export-json.js";
import { checkDocumentLimits } from "../values/value-limits.js";
import { rowsInCreationOrder } from "./table-rows.js";

/** What to do with tables that already hold documents. */
export type ImportMode = "requireEmpty" | "replace" | "append";

/** What an import needs. */
export interface ImportOptions {
  store: Store;
  /** Needed when the ZIP holds files. */
  blobs: BlobStore | null;
  /** The ZIP's bytes. */
  zip: Uint8Array;
  mode: ImportMode;
  /**
   * Runs `fn` in one committed write transaction (the runtime's `transact`,
   * so live queries see the import, or plain begin/commit offline).
   */
  transact<T>(fn: () => T): Promise<T>;
}

/** What an import wrote. */
export interface ImportSummary {
  tables: { name: string; documents: number }[];
  files: number;
  /** Files whose bytes were deleted because `replace` dropped their rows (after commit). */
  removedFiles: string[];
}

interface TableData {
  name: string;
  number: number;
  documents: Record<string, Value>[];
}

/**
 * Reads a ZIP in the layout of `npx convex export` (§8.1) into the store in
 * one transaction: ids and `_creationTime` are kept (tables get the numbers
 * their ids embed), documents are validated against the schema, files are
 * checked against their sha256. Either everything is imported or nothing.
 * The whole ZIP is held in memory: fine for one machine's data, named in the
 * README's limits.
 */
export async function importSnapshot(options: ImportOptions): Promise<ImportSummary> {
  const entries = readZip(options.zip);
  const tables: TableData[] = [];
  for (const { name, number, folder } of parseTablesLists(entries)) {
    const text = entries.get(`${folder}/documents.jsonl`);
    const uniform = decodeText(entries.get(`${folder}/generated_schema.jsonl`)).trim() === '"uniform"';
    const documents = text === undefined ? [] : parseLines(decodeText(text), uniform, `${folder}/documents.jsonl`);
    for (const [i, doc] of documents.entries()) {
      checkSystemFields(doc, name);
      // Convex's document limits, so what is imported here also imports into Convex's cloud.
      try {
        checkDocumentLimits(doc, 0);
      } catch (e) {
        throw new EngineError("InvalidImport", `${folder}/documents.jsonl document ${i + 1}: ${(e as Error).message}`);
      }
    }
    tables.push({ name, number, documents });
  }
  const storageRows = entries.has(`${STORAGE_TABLE}/documents.jsonl`)
    ? parseLines(decodeText(entries.get(`${STORAGE_TABLE}/documents.jsonl`)), true, "_storage/documents.jsonl")
    : null;

  // File bytes go to temporary files first; they are placed under their ids
  // inside the transaction, just before it commits.
  const received: { id: string; blob: ReceivedBlob }[] = [];
  const { store, blobs } = options;
  try {
    if (storageRows !== null) {
      if (storageRows.length > 0 && blobs === null) throw new EngineError("InvalidImport", "This engine has no file storage.");
      const files = storageFiles(entries);
      for (const row of storageRows) {
        checkSystemFields(row, STORAGE_TABLE);
        const id = row._id as string;
        const bytes = files.get(id);
        if (bytes === undefined) throw new EngineError("InvalidImport", `The ZIP has no file for stored file ${id}.`);
        const blob = await blobs!.receive(oneChunk(bytes), Number.MAX_SAFE_INTEGER);
        received.push({ id, blob });
        if (typeof row.sha256 === "string" && blob.sha256.toString("base64") !== row.sha256) {
          throw new EngineError("InvalidImport", `Stored file ${id} does not match its sha256.`);
        }
      }
    }
    const removedFiles: string[] = [];
    const summary = await options.transact(() => {
      for (const table of tables) prepareTable(store, table.name, options.mode, removedFiles);
      if (storageRows !== null) prepareTable(store, STORAGE_TABLE, options.mode, removedFiles);
      assignTableNumbers(store, tables);
      for (const table of tables) {
        for (const doc of table.documents) store.insertWithId(table.name, doc);
      }
      if (storageRows !== null) {
        store.ensureTable(STORAGE_TABLE, SYSTEM_TABLE_NUMBERS[STORAGE_TABLE]!);
        for (const row of storageRows) {
          const size = typeof row.size === "bigint" ? Number(row.size) : row.size;
          store.insertWithId(STORAGE_TABLE, {
            _id: row._id!,
            _creationTime: row._creationTime!,
            sha256: row.sha256 ?? "",
            size: size ?? 0,
            contentType: row.contentType ?? null,
          });
        }
        for (const { id, blob } of received) blobs!.place(blob, id);
      }
      return {
        tables: tables.map((t) => ({ name: t.name, documents: t.documents.length })),
        files: received.length,
        removedFiles,
      };
    });
    const reimported = new Set(received.map((r) => r.id));
    for (const id of summary.removedFiles) {
      if (!reimported.has(id)) blobs?.remove(id);
    }
    return summary;
  } catch (e) {
    for (const { blob } of received) blobs?.discard(blob);
    throw e;
  }
}

/**
 * Gives every imported table the number its ids embed. Empty tables that are
 * in the way (the schema push numbered tables in its own order) first move to
 * free numbers, so numbers can be swapped; a table holding documents never
 * changes number.
 */
function assignTableNumbers(store: Store, tables: TableData[]): void {
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

function readZip(zip: Uint8Array): Map<string, Uint8Array> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(zip);
  } catch (e) {
    throw new EngineError("InvalidImport", `The file is not a readable ZIP: ${(e as Error).message}`);
  }
  // A snapshot zipped from its folder has every entry under one directory.
  const names = Object.keys(files).filter((n) => !n.endsWith("/"));
  // The app's own `_tables`, not a component's (`…/_components/<name>/_tables/…`).
  const tablesEntry = names.find(
    (n) => (n === "_tables/documents.jsonl" || n.endsWith("/_tables/documents.jsonl")) && !n.includes("_components/"),
  );
  if (tablesEntry === undefined) {
    throw new EngineError("InvalidImport", "Not a Convex snapshot ZIP: it has no _tables/documents.jsonl.");
  }
  const prefix = tablesEntry.slice(0, tablesEntry.length - "_tables/documents.jsonl".length);
  const out = new Map<string, Uint8Array>();
  for (const name of names) if (name.startsWith(prefix)) out.set(name.slice(prefix.length), files[name]!);
  return out;
}

/** A `_tables` list: the app's (`_tables/`), or a component's (`_components/<a>/_components/<b>/_tables/`). */
const TABLES_LIST = /^((?:_components\/[A-Za-z][A-Za-z0-9_]*\/)*)_tables\/documents\.jsonl$/;

/**
 * User tables with their numbers and folders, from the app's `_tables` list
 * and every component's; a component's tables get the store names of that
 * component (`pool/work`). System tables are skipped. Ids embed table
 * numbers, and this engine numbers every component's tables in one space:
 * a snapshot that gives two tables one number (Convex numbers each
 * component's tables on their own) cannot keep its ids here and is refused.
 */
function parseTablesLists(entries: Map<string, Uint8Array>): { name: string; number: number; folder: string }[] {
  const out: { name: string; number: number; folder: string }[] = [];
  const byNumber = new Map<number, string>();
  // The app's list first, then components by path.
  const lists = [...entries.keys()].filter((e) => TABLES_LIST.test(e)).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  for (const entry of lists) {
    const match = TABLES_LIST.exec(entry)!;
    const prefix = match[1]!;
    const component = prefix === "" ? "" : prefix.split("/").filter((part, i) => i % 2 === 1 && part !== "").join("/");
    for (const row of parseLines(decodeText(entries.get(entry)), false, entry)) {
      const { name, id } = row as { name?: unknown; id?: unknown };
      if (typeof name !== "string" || typeof id !== "number") {
        throw new EngineError("InvalidImport", `${entry} has a line without name and id: ${JSON.stringify(row)}`);
      }
      if (name.startsWith("_")) continue;
      const storeName = tableInComponent(component, name);
      const taken = byNumber.get(id);
      if (taken !== undefined) {
        throw new EngineError(
          "InvalidImport",
          `Tables "${taken}" and "${storeName}" both have number ${id} in this snapshot; this engine numbers all components' tables in one space, so their ids cannot be kept.`,
        );
      }
      byNumber.set(id, storeName);
      out.push({ name: storeName, number: id, folder: `${prefix}${name}` });
    }
  }
  return out;
}

/** Stored files by id: `_storage/<id>[.<ext>]`, the extension ignored. */
function storageFiles(entries: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [name, bytes] of entries) {
    if (!name.startsWith(`${STORAGE_TABLE}/`) || name.endsWith(".jsonl")) continue;
    const file = name.slice(STORAGE_TABLE.length + 1);
    if (file.includes("/")) continue;
    out.set(file.replace(/\..*$/, ""), bytes);
  }
  return out;
}

function parseLines(text: string, uniform: boolean, where: string): Record<string, Value>[] {
  const out: Record<string, Value>[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    try {
      out.push(parseExportJsonLine(line, uniform));
    } catch (e) {
      throw new EngineError("InvalidImport", `${where} line ${i + 1}: ${(e as Error).message}`);
    }
  });
  return out;
}

function checkSystemFields(doc: Record<string, Value>, table: string): void {
  if (typeof doc._id !== "string" || typeof doc._creationTime !== "number") {
    throw new EngineError("InvalidImport", `A document of "${table}" lacks _id or _creationTime; only snapshot ZIPs keep ids.`);
  }
}

function decodeText(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? "" : Buffer.from(bytes).toString("utf8");
}

async function* oneChunk(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}
