import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { createHash } from "node:crypto";
import { STORAGE_TABLE } from "../runtime/syscalls/storage-ops.js";
import { componentOfTable, isSystemTableName } from "../values/table-names.js";
import type { BlobStore } from "../storage/blob-store.js";
import type { Store } from "../store/store.js";
import { toExportJson } from "./export-json.js";
import { rowsInCreationOrder } from "./table-rows.js";
import { ZipFileWriter } from "./zip-writer.js";
import { extensionFor } from "./content-types.js";

/** What to export. */
export interface ExportOptions {
  store: Store;
  /** Needed with `includeStorage`. */
  blobs: BlobStore | null;
  /** Also write `_storage` rows and file bytes. */
  includeStorage: boolean;
  /** Target ZIP file. */
  file: string;
}

/** What an export wrote. */
export interface ExportSummary {
  tables: { name: string; documents: number }[];
  files: number;
}

/**
 * Writes a snapshot in the ZIP layout of `npx convex export` (§8.1): README,
 * `_tables`, each user table's documents (smallest table number first) with
 * its "uniform" marker, then `_storage`. A component's tables go under
 * `_components/<name>/` (nested for its own children), each component with
 * its own `_tables`, as Convex lays them out. The caller makes the store
 * quiet for the duration (the runtime lock) so the snapshot is consistent.
 */
export async function exportSnapshot(options: ExportOptions): Promise<ExportSummary> {
  const { store } = options;
  const zip = new ZipFileWriter(options.file);
  const userTables = store.listTables().filter((t) => !isSystemTableName(t.name));
  const summary: ExportSummary = { tables: [], files: 0 };
  zip.add("README.md", README);
  const byComponent = new Map<string, string[]>([["", []]]);
  for (const t of userTables) {
    const { component, table } = componentOfTable(t.name);
    const lines = byComponent.get(component) ?? [];
    lines.push(JSON.stringify({ name: table, id: t.number }) + "\n");
    byComponent.set(component, lines);
  }
  for (const component of [...byComponent.keys()].sort()) {
    zip.add(`${componentFolder(component)}_tables/documents.jsonl`, byComponent.get(component)!.join(""));
  }
  for (const table of userTables) {
    const { component, table: own } = componentOfTable(table.name);
    const folder = `${componentFolder(component)}${own}`;
    const push = zip.entry(`${folder}/documents.jsonl`);
    let count = 0;
    for (const doc of documentsOf(store, table.name)) {
      push(Buffer.from(toExportJson(doc) + "\n"), false);
      count += 1;
    }
    push(new Uint8Array(0), true);
    zip.add(`${folder}/generated_schema.jsonl`, '"uniform"\n');
    summary.tables.push({ name: table.name, documents: count });
  }
  if (options.includeStorage) {
    const push = zip.entry(`${STORAGE_TABLE}/documents.jsonl`);
    const files: { id: string; contentType: string | null }[] = [];
    for (const doc of documentsOf(store, STORAGE_TABLE)) {
      const id = doc._id as string;
      const contentType = typeof doc.contentType === "string" ? doc.contentType : null;
      const row = {
        _id: id,
        _creationTime: doc._creationTime as number,
        sha256: doc.sha256 as string,
        size: BigInt(Math.round(doc.size as number)),
        contentType,
        internalId: internalIdOf(id),
      };
      push(Buffer.from(toExportJson(row) + "\n"), false);
      files.push({ id, contentType });
    }
    push(new Uint8Array(0), true);
    for (const file of files) {
      const blob = await options.blobs?.open(file.id);
      if (!blob) continue;
      zip.add(`${STORAGE_TABLE}/${file.id}${extensionFor(file.contentType)}`, await blob.readAll());
      summary.files += 1;
    }
  }
  await zip.close();
  return summary;
}

/** Where a component's part of the snapshot lives: `""` for the app, `_components/a/_components/b/` for `a/b`. */
export function componentFolder(component: string): string {
  return component === "" ? "" : component.split("/").map((name) => `_components/${name}/`).join("");
}

/** Every document of a table in creation order. */
function* documentsOf(store: Store, table: string): Generator<Record<string, Value>> {
  for (const row of rowsInCreationOrder(store, table)) yield jsonToConvex(JSON.parse(row.text) as JSONValue) as Record<string, Value>;
}

/**
 * Convex keeps a separate internal UUID per file; this engine names files by
 * their `_storage` id, so a stable UUID is derived from it for the field.
 */
function internalIdOf(storageId: string): string {
  const h = createHash("sha256").update(storageId).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const README = `This is a snapshot of a Convex deployment's data, in the layout of \`npx convex export\`.

- _tables/documents.jsonl lists the tables and their numbers (ids embed them).
- <table>/documents.jsonl holds one document per line (export_json: integers are int64,
  numbers with a decimal point are float64).
- _storage/ holds stored files (when exported with file storage) and their metadata.
- _components/<name>/ holds the same layout for each installed component.

Import it with \`npx convex import\` on Convex, or \`npm run engine -- import --path <zip>\` here.
`;
