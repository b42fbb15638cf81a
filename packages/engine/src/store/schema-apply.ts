import type Database from "better-sqlite3";
import { keyAfter, MIN_KEY } from "../values/index-key-codec";
import type { ValidationContext } from "../values/validator";
import { isBuiltInIndex, userIndexFields, type Catalog } from "./catalog";
import { decodeDocument, documentIndexKey, type DecodedDocument } from "./document-codec";
import { schemaMismatch } from "./document-validation";
import { SchemaRefusal } from "./schema-refusal";
import type { SearchIndexes } from "./search-indexes";
import type { SchemaJson } from "./schema-json";

/**
 * Bringing the catalog in line with a schema, inside a transaction the caller opened and
 * will roll back if this throws: tables are created, existing documents are validated
 * (when the schema asks for it), then indexes are dropped and built.
 */

/** Documents read per batch while validating or backfilling. */
const BATCH = 500;

/** What applying a schema changed. */
export interface SchemaDiff {
  createdTables: string[];
  addedIndexes: string[];
  droppedIndexes: string[];
}

/**
 * Applies `schema` (null = none) to the catalog inside the caller's open transaction; ids in
 * existing documents are resolved through `context` (the store's, whose compiled checks are cached).
 */
export function applySchemaChanges(
  db: Database.Database,
  catalog: Catalog,
  search: SearchIndexes,
  schema: SchemaJson | null,
  context: ValidationContext,
): SchemaDiff {
  const diff: SchemaDiff = { createdTables: [], addedIndexes: [], droppedIndexes: [] };
  const tables = schema?.tables ?? [];
  for (const table of tables) {
    if (catalog.tableNumber(table.tableName) === null) {
      catalog.createTable(table.tableName);
      diff.createdTables.push(table.tableName);
    }
  }

  if (schema?.schemaValidation) {
    const refusal = new SchemaRefusal();
    for (const table of tables) {
      const documentType = table.documentType;
      if (documentType === undefined || documentType.type === "any") continue;
      forEachDocument(db, catalog, table.tableName, (doc) => {
        const reason = schemaMismatch(documentType, userFields(doc), context);
        if (reason !== null) refusal.add(table.tableName, doc, reason);
      });
    }
    const error = refusal.error();
    if (error !== null) throw error;
  }

  const wanted = new Map<string, { table: string; descriptor: string; fields: string[] }>();
  for (const table of tables) {
    for (const index of table.indexes) {
      wanted.set(`${table.tableName}.${index.indexDescriptor}`, {
        table: table.tableName,
        descriptor: index.indexDescriptor,
        fields: index.fields,
      });
    }
  }
  for (const { name: table } of catalog.tables()) {
    for (const index of catalog.indexesOf(table)) {
      if (isBuiltInIndex(index)) continue;
      const target = wanted.get(index.name);
      const sameFields = target !== undefined && sameList(index.fields, userIndexFields(target.fields));
      if (!sameFields) {
        catalog.dropIndex(index.name);
        diff.droppedIndexes.push(index.name);
      }
    }
  }
  const insertEntry = db.prepare("INSERT INTO index_entries (index_id, key, doc) VALUES (?, ?, ?)");
  for (const [name, target] of wanted) {
    if (catalog.index(name) !== undefined) continue;
    const index = catalog.createIndex(target.table, target.descriptor, target.fields);
    forEachDocument(db, catalog, target.table, (doc, seq) => {
      insertEntry.run(index.id, documentIndexKey(doc, index), seq);
    });
    diff.addedIndexes.push(name);
  }
  const searchDiff = search.applySchema(schema, (table, visit) => forEachDocument(db, catalog, table, visit));
  diff.addedIndexes.push(...searchDiff.added);
  diff.droppedIndexes.push(...searchDiff.dropped);
  return diff;
}

/** The document without `_id` and `_creationTime`, as schema validators see it. */
function userFields(doc: DecodedDocument): DecodedDocument {
  const { _id, _creationTime, ...fields } = doc;
  void _id;
  void _creationTime;
  return fields;
}

/** Visits every document of a table in `_id` order, in batches (no open iterator). */
function forEachDocument(
  db: Database.Database,
  catalog: Catalog,
  table: string,
  visit: (doc: DecodedDocument, seq: number) => void,
): void {
  const byId = catalog.index(`${table}.by_id`);
  if (byId === undefined) return;
  const page = db
    .prepare(
      "SELECT e.key, e.doc, d.value FROM index_entries e CROSS JOIN documents d ON d.seq = e.doc " +
        "WHERE e.index_id = ? AND e.key >= ? ORDER BY e.key LIMIT ?",
    )
    .raw();
  let from: Uint8Array = MIN_KEY;
  for (;;) {
    const rows = page.all(byId.id, from, BATCH) as [Buffer, number, string][];
    for (const [, seq, text] of rows) visit(decodeDocument(text), seq);
    if (rows.length < BATCH) return;
    from = keyAfter(rows[rows.length - 1][0]);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
