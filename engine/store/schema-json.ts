import type { ValidatorJSON } from "convex/values";
import { EngineError } from "../errors";
import { isSystemTableName, isValidTableName } from "../values/table-names";
import { BUILT_IN_INDEX_FIELDS } from "./catalog";

/**
 * The JSON of `schema.export()` (docs/convex-interface.md §4.7), checked and reduced to
 * what the store acts on: tables, their database indexes and their document validators.
 */

/** One database index as `schema.export()` writes it. */
export interface IndexDefinitionJson {
  indexDescriptor: string;
  fields: string[];
}

/** One table as `schema.export()` writes it; search and vector indexes are kept but unused. */
export interface TableDefinitionJson {
  tableName: string;
  indexes: IndexDefinitionJson[];
  stagedDbIndexes?: IndexDefinitionJson[];
  searchIndexes?: unknown[];
  stagedSearchIndexes?: unknown[];
  vectorIndexes?: unknown[];
  stagedVectorIndexes?: unknown[];
  documentType?: ValidatorJSON;
}

/** The whole exported schema. */
export interface SchemaJson {
  tables: TableDefinitionJson[];
  schemaValidation: boolean;
}

const INDEX_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const SYSTEM_FIELDS = new Set(["_id", "_creationTime"]);

/** Parses and checks schema JSON (text or already parsed); throws `EngineError("InvalidSchema")`. */
export function parseSchemaJson(input: string | SchemaJson): SchemaJson {
  let raw: unknown = input;
  if (typeof input === "string") {
    try {
      raw = JSON.parse(input);
    } catch (e) {
      throw invalid(`schema JSON does not parse: ${(e as Error).message}`);
    }
  }
  if (!isRecord(raw) || !Array.isArray(raw.tables)) throw invalid("expected an object with a `tables` array");
  const seen = new Set<string>();
  const tables = raw.tables.map((table) => {
    const parsed = parseTable(table);
    if (seen.has(parsed.tableName)) throw invalid(`table "${parsed.tableName}" is defined twice`);
    seen.add(parsed.tableName);
    return parsed;
  });
  return { tables, schemaValidation: raw.schemaValidation !== false };
}

function parseTable(raw: unknown): TableDefinitionJson {
  if (!isRecord(raw) || typeof raw.tableName !== "string") throw invalid("every table needs a `tableName`");
  const tableName = raw.tableName;
  if (!isValidTableName(tableName) || isSystemTableName(tableName)) {
    throw invalid(`"${tableName}" is not a valid table name (letters, digits and _, starting with a letter)`);
  }
  const indexes = parseIndexes(tableName, raw.indexes ?? []);
  const staged = parseIndexes(tableName, raw.stagedDbIndexes ?? []);
  const names = new Set<string>();
  for (const index of [...indexes, ...staged]) {
    if (names.has(index.indexDescriptor)) throw invalid(`index "${tableName}.${index.indexDescriptor}" is defined twice`);
    names.add(index.indexDescriptor);
  }
  const documentType = raw.documentType as ValidatorJSON | undefined;
  if (documentType !== undefined && (!isRecord(documentType) || typeof documentType.type !== "string")) {
    throw invalid(`table "${tableName}" has a malformed documentType`);
  }
  return { ...(raw as unknown as TableDefinitionJson), tableName, indexes, stagedDbIndexes: staged, documentType };
}

function parseIndexes(tableName: string, raw: unknown): IndexDefinitionJson[] {
  if (!Array.isArray(raw)) throw invalid(`table "${tableName}" has a malformed index list`);
  return raw.map((index): IndexDefinitionJson => {
    if (!isRecord(index) || typeof index.indexDescriptor !== "string" || !Array.isArray(index.fields)) {
      throw invalid(`table "${tableName}" has a malformed index`);
    }
    const name = `${tableName}.${index.indexDescriptor}`;
    // The built-in descriptors every table has are reserved.
    if (!INDEX_NAME.test(index.indexDescriptor) || Object.hasOwn(BUILT_IN_INDEX_FIELDS, index.indexDescriptor)) {
      throw invalid(`index name "${name}" is reserved or not a valid identifier`);
    }
    const fields = index.fields as unknown[];
    if (fields.length === 0) throw invalid(`index "${name}" must have at least one field`);
    const unique = new Set<string>();
    for (const field of fields) {
      if (typeof field !== "string" || field === "" || field.split(".").some((part) => part === "")) {
        throw invalid(`index "${name}" has a malformed field ${JSON.stringify(field)}`);
      }
      if (SYSTEM_FIELDS.has(field)) throw invalid(`index "${name}" may not list the system field "${field}"`);
      if (unique.has(field)) throw invalid(`index "${name}" lists "${field}" twice`);
      unique.add(field);
    }
    return { indexDescriptor: index.indexDescriptor, fields: fields as string[] };
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function invalid(detail: string): EngineError {
  return new EngineError("InvalidSchema", `Invalid schema: ${detail}`);
}
