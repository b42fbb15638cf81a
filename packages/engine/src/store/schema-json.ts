import type { ValidatorJSON } from "convex/values";
import { EngineError } from "../errors";
import { isSystemTableName, isValidTableName } from "../values/table-names";
import { BUILT_IN_INDEX_FIELDS } from "./built-in-indexes";

/**
 * The JSON of `schema.export()` (docs/convex-interface.md §4.7), checked and reduced to
 * what the store acts on: tables, their database indexes and their document validators.
 */

/** One database index as `schema.export()` writes it. */
export interface IndexDefinitionJson {
  indexDescriptor: string;
  fields: string[];
}

/** One search (full-text) index as `schema.export()` writes it. */
export interface SearchIndexDefinitionJson {
  indexDescriptor: string;
  searchField: string;
  filterFields: string[];
}

/** One vector index as `schema.export()` writes it. */
export interface VectorIndexDefinitionJson {
  indexDescriptor: string;
  vectorField: string;
  dimensions: number;
  filterFields: string[];
}

/** One table as `schema.export()` writes it. */
export interface TableDefinitionJson {
  tableName: string;
  indexes: IndexDefinitionJson[];
  stagedDbIndexes?: IndexDefinitionJson[];
  searchIndexes?: SearchIndexDefinitionJson[];
  stagedSearchIndexes?: SearchIndexDefinitionJson[];
  vectorIndexes?: VectorIndexDefinitionJson[];
  stagedVectorIndexes?: VectorIndexDefinitionJson[];
  documentType?: ValidatorJSON;
}

/** The whole exported schema. */
export interface SchemaJson {
  tables: TableDefinitionJson[];
  schemaValidation: boolean;
}

const INDEX_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
const SYSTEM_FIELDS = new Set(["_id", "_creationTime"]);
/** Convex's limits (`crates/common/src/bootstrap_model/index`, `vector_index/dimensions.rs`). */
const MAX_FILTER_FIELDS = 16;
const MIN_VECTOR_DIMENSIONS = 2;
const MAX_VECTOR_DIMENSIONS = 4096;

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
  const searchIndexes = parseSearchIndexes(tableName, raw.searchIndexes ?? []);
  const stagedSearchIndexes = parseSearchIndexes(tableName, raw.stagedSearchIndexes ?? []);
  const vectorIndexes = parseVectorIndexes(tableName, raw.vectorIndexes ?? []);
  const stagedVectorIndexes = parseVectorIndexes(tableName, raw.stagedVectorIndexes ?? []);
  // Database, search and vector indexes share one namespace per table.
  const names = new Set<string>();
  for (const index of [...indexes, ...staged, ...searchIndexes, ...stagedSearchIndexes, ...vectorIndexes, ...stagedVectorIndexes]) {
    if (names.has(index.indexDescriptor)) throw invalid(`index "${tableName}.${index.indexDescriptor}" is defined twice`);
    names.add(index.indexDescriptor);
  }
  const documentType = raw.documentType as ValidatorJSON | undefined;
  if (documentType !== undefined && (!isRecord(documentType) || typeof documentType.type !== "string")) {
    throw invalid(`table "${tableName}" has a malformed documentType`);
  }
  return {
    tableName,
    indexes,
    stagedDbIndexes: staged,
    searchIndexes,
    stagedSearchIndexes,
    vectorIndexes,
    stagedVectorIndexes,
    documentType,
  };
}

function parseIndexes(tableName: string, raw: unknown): IndexDefinitionJson[] {
  return parseIndexList(tableName, raw, "index", (index, name) => {
    if (!Array.isArray(index.fields)) throw invalid(`table "${tableName}" has a malformed index`);
    if (index.fields.length === 0) throw invalid(`index "${name}" must have at least one field`);
    return { indexDescriptor: index.indexDescriptor as string, fields: checkFields(name, index.fields) };
  });
}

function parseSearchIndexes(tableName: string, raw: unknown): SearchIndexDefinitionJson[] {
  return parseIndexList(tableName, raw, "search index", (index, name) => ({
    indexDescriptor: index.indexDescriptor as string,
    searchField: checkFields(name, [index.searchField])[0],
    filterFields: checkFilterFields(name, index.filterFields),
  }));
}

function parseVectorIndexes(tableName: string, raw: unknown): VectorIndexDefinitionJson[] {
  return parseIndexList(tableName, raw, "vector index", (index, name) => {
    // Older exports spell it `dimension`.
    const dimensions = index.dimensions ?? index.dimension;
    if (
      typeof dimensions !== "number" ||
      !Number.isInteger(dimensions) ||
      dimensions < MIN_VECTOR_DIMENSIONS ||
      dimensions > MAX_VECTOR_DIMENSIONS
    ) {
      throw invalid(
        `vector index "${name}": Dimensions ${String(dimensions)} must be between ${MIN_VECTOR_DIMENSIONS} and ${MAX_VECTOR_DIMENSIONS}.`,
      );
    }
    return {
      indexDescriptor: index.indexDescriptor as string,
      vectorField: checkFields(name, [index.vectorField])[0],
      dimensions,
      filterFields: checkFilterFields(name, index.filterFields),
    };
  });
}

/** One of a table's index lists: each entry an object with a valid, unreserved `indexDescriptor`. */
function parseIndexList<T>(
  tableName: string,
  raw: unknown,
  what: string,
  parseOne: (index: Record<string, unknown>, name: string) => T,
): T[] {
  if (!Array.isArray(raw)) throw invalid(`table "${tableName}" has a malformed ${what} list`);
  return raw.map((index) => {
    if (!isRecord(index) || typeof index.indexDescriptor !== "string") throw invalid(`table "${tableName}" has a malformed ${what}`);
    return parseOne(index, checkIndexName(tableName, index.indexDescriptor));
  });
}

/** `"<table>.<descriptor>"`, after checking the descriptor (the built-in ones are reserved). */
function checkIndexName(tableName: string, descriptor: string): string {
  const name = `${tableName}.${descriptor}`;
  if (!INDEX_NAME.test(descriptor) || Object.hasOwn(BUILT_IN_INDEX_FIELDS, descriptor)) {
    throw invalid(`index name "${name}" is reserved or not a valid identifier`);
  }
  return name;
}

function checkFilterFields(name: string, raw: unknown): string[] {
  const fields = raw ?? [];
  if (!Array.isArray(fields)) throw invalid(`index "${name}" has a malformed filterFields list`);
  if (fields.length > MAX_FILTER_FIELDS) {
    throw invalid(`index "${name}": Search indexes may have up to ${MAX_FILTER_FIELDS} filter fields.`);
  }
  return checkFields(name, fields);
}

function checkFields(name: string, fields: unknown[]): string[] {
  const unique = new Set<string>();
  for (const field of fields) {
    if (typeof field !== "string" || field === "" || field.split(".").some((part) => part === "")) {
      throw invalid(`index "${name}" has a malformed field ${JSON.stringify(field)}`);
    }
    if (SYSTEM_FIELDS.has(field)) throw invalid(`index "${name}" may not list the system field "${field}"`);
    if (unique.has(field)) throw invalid(`index "${name}" lists "${field}" twice`);
    unique.add(field);
  }
  return fields as string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function invalid(detail: string): EngineError {
  return new EngineError("InvalidSchema", `Invalid schema: ${detail}`);
}
