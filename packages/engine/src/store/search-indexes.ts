import type Database from "better-sqlite3";
import type { Value } from "convex/values";
import { EngineError } from "../errors";
import { decodeDocument } from "./document-codec";
import { createSearchCatalog, type SearchIndexRecord, type VectorIndexRecord } from "./search-catalog";
import type { SchemaJson } from "./schema-json";
import type { SearchIndexInfo, TextSearchCandidate, TextSearchQuery, VectorMatch, VectorSearchQuery } from "./search-types";
import type { DocumentWrite, IndexKeyChange } from "./write-set";
import { createTextIndexTable, createTextIndexes, dropTextIndexTable } from "./text-index";
import { textIndexKeyChanges } from "./text-index-keys";
import { createVectorIndexTable, createVectorIndexes, dropVectorIndexTable, loadVectorExtension, type VectorIndexes } from "./vector-index";

/**
 * Search and vector indexes as the store sees them: the hooks `sqlite-store.ts` calls from
 * its write path, commit and schema apply, and the two search reads. Everything here runs
 * on the connection's thread inside its current transaction or read snapshot.
 */
export interface SearchIndexes {
  info(name: string): SearchIndexInfo | null;
  /** Keeps every built index of `table` in step with one document write. */
  onWrite(table: string, docKey: number, oldDoc: Record<string, Value> | null, newDoc: Record<string, Value> | null): void;
  /** The text-index key changes of a coalesced write, for the commit's write set. */
  keyChanges(write: DocumentWrite): IndexKeyChange[];
  /**
   * Brings the indexes in line with `schema` inside the caller's transaction: drops removed
   * or redefined ones, records staged ones unbuilt, builds and backfills the others.
   */
  applySchema(schema: SchemaJson | null, forEachDocument: (table: string, visit: (doc: Record<string, Value>, docKey: number) => void) => void): { added: string[]; dropped: string[] };
  /** Re-reads the catalog (after a rolled-back schema change). */
  reload(): void;
  textSearch(name: string, query: TextSearchQuery): TextSearchCandidate[];
  vectorSearch(name: string, query: VectorSearchQuery): VectorMatch[];
}

/** Creates the hooks for one store connection. */
export function createSearchIndexes(db: Database.Database): SearchIndexes {
  const catalog = createSearchCatalog(db);
  const text = createTextIndexes(db);
  let vectors: VectorIndexes | null = null;
  // sqlite-vec is loaded only once a vector index exists, so that a platform without it
  // runs every app that has none.
  const vectorIndexes = (): VectorIndexes => {
    if (vectors === null) {
      loadVectorExtension(db);
      vectors = createVectorIndexes(db);
    }
    return vectors;
  };
  if (catalog.all().some((r) => r.kind === "vector" && !r.staged)) vectorIndexes();

  function built(name: string, kind: "text" | "vector"): SearchIndexRecord {
    const record = catalog.get(name);
    if (record === undefined || record.kind !== kind || record.staged) {
      throw new EngineError("IndexNotFound", `Index ${name} not found.`, "fatal");
    }
    return record;
  }

  function drop(record: SearchIndexRecord): void {
    if (!record.staged) {
      if (record.kind === "text") {
        text.forget(record);
        dropTextIndexTable(db, record);
      } else {
        vectorIndexes().forget(record);
        dropVectorIndexTable(db, record);
      }
    }
    catalog.remove(record.name);
  }

  function info(name: string): SearchIndexInfo | null {
    const record = catalog.get(name);
    if (record === undefined) return null;
    const { id: _id, paths: _paths, ...rest } = record;
    return rest as SearchIndexInfo;
  }

  return {
    info,
    onWrite(table, docKey, oldDoc, newDoc) {
      for (const record of catalog.builtOf(table)) {
        if (record.kind === "text") text.write(record, docKey, oldDoc, newDoc);
        else vectorIndexes().write(record, docKey, oldDoc, newDoc);
      }
    },
    keyChanges(write) {
      const indexes = catalog.builtOf(write.table).filter((r) => r.kind === "text");
      if (indexes.length === 0) return [];
      const oldDoc = write.oldText === null ? null : decodeDocument(write.oldText);
      const newDoc = write.newText === null ? null : decodeDocument(write.newText);
      return indexes.flatMap((record) => textIndexKeyChanges(record, oldDoc, newDoc));
    },
    applySchema(schema, forEachDocument) {
      const wanted = new Map<string, SearchIndexInfo>();
      for (const info of declaredIndexes(schema)) wanted.set(info.name, info);
      const added: string[] = [];
      const dropped: string[] = [];
      for (const record of catalog.all()) {
        const target = wanted.get(record.name);
        if (target !== undefined && canonical(target) === canonical(info(record.name)!)) continue;
        drop(record);
        dropped.push(record.name);
      }
      for (const [name, definition] of wanted) {
        if (catalog.get(name) !== undefined) continue;
        const record = catalog.add(definition);
        added.push(name);
        if (record.staged) continue;
        if (record.kind === "text") createTextIndexTable(db, record);
        else createVectorIndexTable(db, vectorIndexes(), record as VectorIndexRecord);
        forEachDocument(record.table, (doc, docKey) => {
          if (record.kind === "text") text.write(record, docKey, null, doc);
          else vectorIndexes().write(record, docKey, null, doc);
        });
      }
      return { added, dropped };
    },
    reload: () => catalog.reload(),
    textSearch: (name, query) => text.search(built(name, "text"), query),
    vectorSearch: (name, query) => vectorIndexes().search(built(name, "vector") as VectorIndexRecord, query),
  };
}

/** Definition text with sorted keys, to tell a redefined index from an unchanged one. */
function canonical(info: SearchIndexInfo): string {
  return JSON.stringify(info, Object.keys(info).sort());
}

/** The search and vector indexes a schema declares, in a stable shape for comparing. */
function declaredIndexes(schema: SchemaJson | null): SearchIndexInfo[] {
  const out: SearchIndexInfo[] = [];
  for (const table of schema?.tables ?? []) {
    const t = table.tableName;
    for (const [list, staged] of [
      [table.searchIndexes ?? [], false],
      [table.stagedSearchIndexes ?? [], true],
    ] as const) {
      for (const i of list) {
        out.push({ kind: "text", name: `${t}.${i.indexDescriptor}`, table: t, searchField: i.searchField, filterFields: i.filterFields, staged });
      }
    }
    for (const [list, staged] of [
      [table.vectorIndexes ?? [], false],
      [table.stagedVectorIndexes ?? [], true],
    ] as const) {
      for (const i of list) {
        out.push({
          kind: "vector",
          name: `${t}.${i.indexDescriptor}`,
          table: t,
          vectorField: i.vectorField,
          dimensions: i.dimensions,
          filterFields: i.filterFields,
          staged,
        });
      }
    }
  }
  return out;
}
