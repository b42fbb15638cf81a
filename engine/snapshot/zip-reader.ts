import type { Readable } from "node:stream";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { EngineError } from "../errors.js";
import { STORAGE_TABLE } from "../runtime/syscalls/storage-ops.js";
import { RATIO_FREE_BYTES, type ImportLimits } from "./import-limits.js";
import type { ImportUnit } from "./import-units.js";
import { parseDocumentText } from "./json-document.js";
import { readLines } from "./line-reader.js";

const TABLES = "_tables/documents.jsonl";

/**
 * Reads a snapshot ZIP in the layout of `npx convex export` (convex-interface.md
 * §8.1) from a file, as a stream of import units: the table list, each user
 * table's documents, the `_storage` rows, then each stored file's bytes.
 *
 * yauzl reads the central directory and opens each entry on demand from the
 * file, so the ZIP is never in memory. Before anything is decompressed every
 * entry's declared size is checked against the limits (size, total, ratio),
 * and yauzl refuses an entry that inflates past its declared size, so neither
 * an honest nor a lying zip bomb gets further than its first excess byte.
 * The central directory is read twice (tables, then stored files) so that no
 * list of every entry is kept. Runs on whichever thread consumes the units.
 */
export async function* readSnapshotZip(file: string, limits: ImportLimits): AsyncGenerator<ImportUnit> {
  const wanted = await surveyEntries(file, limits);
  const zip = wanted.zip;
  try {
    const tables = new Map<string, number>();
    for await (const { text, line } of entryLines(zip, wanted.entries.get(TABLES)!, TABLES, limits)) {
      const row = parseDocumentText(text, false, limits.maxDepth, `${TABLES} line ${line}`) as { name?: unknown; id?: unknown };
      if (typeof row.name !== "string" || typeof row.id !== "number" || !Number.isInteger(row.id) || row.id <= 0) {
        throw new EngineError("InvalidImport", `${TABLES} line ${line} needs a table name and id: ${text.slice(0, 200)}`);
      }
      // Other system tables and components' tables are not imported (as Convex skips them).
      if (!row.name.startsWith("_")) tables.set(row.name, row.id);
    }
    const storageRows = wanted.entries.get(`${STORAGE_TABLE}/documents.jsonl`);
    yield { kind: "tables", tables: [...tables].map(([name, number]) => ({ name, number })), storage: storageRows !== undefined };

    for (const table of tables.keys()) {
      const schemaEntry = wanted.entries.get(`${table}/generated_schema.jsonl`);
      let uniform = false;
      if (schemaEntry !== undefined) {
        for await (const { text } of entryLines(zip, schemaEntry, `${table}/generated_schema.jsonl`, limits)) {
          uniform = text.trim() === '"uniform"';
          break;
        }
      }
      const name = `${table}/documents.jsonl`;
      const entry = wanted.entries.get(name);
      if (entry === undefined) continue;
      for await (const { text, line } of entryLines(zip, entry, name, limits)) {
        if (text.trim() === "") continue;
        const where = `${name} line ${line}`;
        yield { kind: "document", table, where, doc: parseDocumentText(text, uniform, limits.maxDepth, where) };
      }
    }

    if (storageRows !== undefined) {
      const name = `${STORAGE_TABLE}/documents.jsonl`;
      for await (const { text, line } of entryLines(zip, storageRows, name, limits)) {
        if (text.trim() === "") continue;
        const where = `${name} line ${line}`;
        yield { kind: "storageRow", where, doc: parseDocumentText(text, true, limits.maxDepth, where) };
      }
      for await (const entry of entriesOf(await openZip(file), wanted.prefix)) {
        const storageId = storageFileId(entry.name);
        if (storageId === null) continue;
        yield {
          kind: "storageFile",
          storageId,
          where: entry.name,
          open: async () => readEntry(entry.zip, entry.entry, entry.name),
        };
      }
    }
  } finally {
    zip.close();
  }
}

/** The entries the import reads, by their name inside the snapshot folder. */
interface Survey {
  /** The ZIP, still open, whose entries these are. */
  zip: ZipFile;
  prefix: string;
  entries: Map<string, Entry>;
}

/** One pass over the central directory: limits checked, table entries kept, the snapshot's folder found. */
async function surveyEntries(file: string, limits: ImportLimits): Promise<Survey> {
  const zip = await openZip(file);
  const all = new Map<string, Entry>();
  let total = 0;
  let count = 0;
  try {
    if (zip.entryCount > limits.maxEntries) {
      throw new EngineError("ImportTooLarge", `The ZIP has ${zip.entryCount} entries; the limit is ${limits.maxEntries}.`);
    }
    for await (const entry of zip.eachEntry()) {
      count += 1;
      if (count > limits.maxEntries) throw new EngineError("ImportTooLarge", `The ZIP has more than ${limits.maxEntries} entries.`);
      checkEntrySize(entry, limits);
      total += entry.uncompressedSize;
      if (total > limits.maxTotalBytes) {
        throw new EngineError(
          "ImportTooLarge",
          `The ZIP's entries add up to more than ${limits.maxTotalBytes} bytes decompressed (the import limit).`,
        );
      }
      if (entry.fileName.endsWith(".jsonl")) all.set(entry.fileName, entry);
    }
  } catch (e) {
    zip.close();
    throw asImportError(e);
  }
  // A snapshot zipped from its folder has every entry under one directory.
  const tablesEntry = [...all.keys()].find((n) => n === TABLES || n.endsWith(`/${TABLES}`));
  if (tablesEntry === undefined) {
    zip.close();
    throw new EngineError("InvalidImport", `Not a Convex snapshot ZIP: it has no ${TABLES}.`);
  }
  const prefix = tablesEntry.slice(0, tablesEntry.length - TABLES.length);
  const entries = new Map<string, Entry>();
  for (const [name, entry] of all) if (name.startsWith(prefix)) entries.set(name.slice(prefix.length), entry);
  return { zip, prefix, entries };
}

function checkEntrySize(entry: Entry, limits: ImportLimits): void {
  const name = JSON.stringify(entry.fileName);
  if (entry.uncompressedSize > limits.maxEntryBytes) {
    throw new EngineError(
      "ImportTooLarge",
      `ZIP entry ${name} is ${entry.uncompressedSize} bytes decompressed; the limit per entry is ${limits.maxEntryBytes}.`,
    );
  }
  const ratio = entry.uncompressedSize / Math.max(entry.compressedSize, 1);
  if (entry.uncompressedSize > RATIO_FREE_BYTES && ratio > limits.maxRatio) {
    throw new EngineError(
      "ImportTooLarge",
      `ZIP entry ${name} expands ${Math.round(ratio)}-fold (${entry.compressedSize} → ${entry.uncompressedSize} bytes), ` +
        `more than the ${limits.maxRatio}-fold any real data does: refused as a zip bomb.`,
    );
  }
  if (entry.isEncrypted()) throw new EngineError("InvalidImport", `ZIP entry ${name} is encrypted.`);
}

/** Each entry of the snapshot folder with the ZIP it came from; the ZIP closes when iteration ends. */
async function* entriesOf(zip: ZipFile, prefix: string): AsyncGenerator<{ zip: ZipFile; entry: Entry; name: string }> {
  try {
    for await (const entry of zip.eachEntry()) {
      if (entry.fileName.startsWith(prefix)) yield { zip, entry, name: entry.fileName.slice(prefix.length) };
    }
  } catch (e) {
    throw asImportError(e);
  } finally {
    zip.close();
  }
}

/** `_storage/<id>[.<ext>]` → the id; anything else → null. */
function storageFileId(name: string): string | null {
  const match = /^_storage\/([^/.]+)(?:\.[^/]*)?$/.exec(name);
  return match === null || match[1] === "documents" ? null : match[1]!;
}

function entryLines(zip: ZipFile, entry: Entry, name: string, limits: ImportLimits) {
  return readLines(lazy(() => readEntry(zip, entry, name)), limits.maxLineBytes, name);
}

/** An entry's decompressed bytes; yauzl errors (a lying size, bad data) become import errors. */
async function readEntry(zip: ZipFile, entry: Entry, name: string): Promise<AsyncIterable<Uint8Array>> {
  let stream: Readable;
  try {
    stream = await zip.openReadStreamPromise(entry);
  } catch (e) {
    throw asImportError(e, name);
  }
  return (async function* () {
    try {
      for await (const chunk of stream) yield chunk as Uint8Array;
    } catch (e) {
      throw asImportError(e, name);
    } finally {
      stream.destroy();
    }
  })();
}

async function* lazy(open: () => Promise<AsyncIterable<Uint8Array>>): AsyncGenerator<Uint8Array> {
  yield* await open();
}

function openZip(file: string): Promise<ZipFile> {
  return yauzl
    .openPromise(file, { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false })
    .catch((e: unknown) => {
      throw new EngineError("InvalidImport", `The file is not a readable ZIP: ${(e as Error).message}`);
    });
}

function asImportError(e: unknown, name?: string): unknown {
  if (e instanceof EngineError) return e;
  const where = name === undefined ? "The ZIP" : `ZIP entry ${JSON.stringify(name)}`;
  const message = (e as Error).message;
  // yauzl: "too many bytes in the stream" when an entry inflates past its declared size.
  const code = /too many bytes/.test(message) ? "ImportTooLarge" : "InvalidImport";
  return new EngineError(code, `${where} is broken or lies about its size: ${message}`);
}
