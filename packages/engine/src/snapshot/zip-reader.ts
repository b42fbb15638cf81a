import type { Readable } from "node:stream";
import yauzl, { type Entry, type ZipFile } from "yauzl";
import { EngineError } from "../errors.js";
import { tableInComponent } from "../values/table-names.js";
import { STORAGE_TABLE } from "../runtime/syscalls/storage-ops.js";
import { RATIO_FREE_BYTES, type ImportLimits } from "./import-limits.js";
import type { ImportUnit } from "./import-units.js";
import { parseDocumentText } from "./json-document.js";
import { readLines } from "./line-reader.js";

const TABLES = "_tables/documents.jsonl";

/**
 * Reads a snapshot ZIP in the layout of `npx convex export` (convex-interface.md
 * §8.1) from a file, as a stream of import units: the table list (the app's
 * and its components', `_components/<name>/…`), each user table's documents,
 * the `_storage` rows, then each stored file's bytes.
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
    const tables = await readTablesLists(zip, wanted.entries, limits);
    const storageRows = wanted.entries.get(`${STORAGE_TABLE}/documents.jsonl`);
    yield { kind: "tables", tables: tables.map(({ name, number }) => ({ name, number })), storage: storageRows !== undefined };

    for (const { name: table, folder } of tables) {
      const schemaEntry = wanted.entries.get(`${folder}/generated_schema.jsonl`);
      let uniform = false;
      if (schemaEntry !== undefined) {
        for await (const { text } of entryLines(zip, schemaEntry, `${folder}/generated_schema.jsonl`, limits)) {
          uniform = text.trim() === '"uniform"';
          break;
        }
      }
      const name = `${folder}/documents.jsonl`;
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
  // A snapshot zipped from its folder has every entry under one directory. The
  // app's own `_tables`, not a component's (`…/_components/<name>/_tables/…`).
  const tablesEntry = [...all.keys()].find((n) => (n === TABLES || n.endsWith(`/${TABLES}`)) && !n.includes("_components/"));
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

/** A `_tables` list: the app's (`_tables/`), or a component's (`_components/<a>/_components/<b>/_tables/`). */
const TABLES_LIST = /^((?:_components\/[A-Za-z][A-Za-z0-9_]*\/)*)_tables\/documents\.jsonl$/;

/** A user table of the snapshot: its store name, the number its ids embed, and its folder in the ZIP. */
interface SnapshotTable {
  name: string;
  number: number;
  folder: string;
}

/**
 * User tables with their numbers and folders, from the app's `_tables` list
 * and every component's; a component's tables get that component's store
 * names (`pool/work`). System tables are skipped, as Convex skips them. Ids
 * embed table numbers and this engine numbers every component's tables in one
 * space, so a snapshot giving two tables one number (Convex numbers each
 * component's tables on their own) cannot keep its ids here and is refused.
 */
async function readTablesLists(zip: ZipFile, entries: Map<string, Entry>, limits: ImportLimits): Promise<SnapshotTable[]> {
  const out: SnapshotTable[] = [];
  const byNumber = new Map<number, string>();
  // The app's list first, then components by path.
  const lists = [...entries.keys()].filter((e) => TABLES_LIST.test(e)).sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  for (const list of lists) {
    const prefix = TABLES_LIST.exec(list)![1]!;
    const component = prefix.split("/").filter((part, i) => i % 2 === 1 && part !== "").join("/");
    for await (const { text, line } of entryLines(zip, entries.get(list)!, list, limits)) {
      if (text.trim() === "") continue;
      const row = parseDocumentText(text, false, limits.maxDepth, `${list} line ${line}`) as { name?: unknown; id?: unknown };
      if (typeof row.name !== "string" || typeof row.id !== "number" || !Number.isInteger(row.id) || row.id <= 0) {
        throw new EngineError("InvalidImport", `${list} line ${line} needs a table name and id: ${text.slice(0, 200)}`);
      }
      if (row.name.startsWith("_")) continue;
      const name = tableInComponent(component, row.name);
      const taken = byNumber.get(row.id);
      if (taken !== undefined) {
        throw new EngineError(
          "InvalidImport",
          `Tables "${taken}" and "${name}" both have number ${row.id} in this snapshot; this engine numbers all components' tables in one space, so their ids cannot be kept.`,
        );
      }
      byNumber.set(row.id, name);
      out.push({ name, number: row.id, folder: `${prefix}${row.name}` });
    }
  }
  return out;
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
