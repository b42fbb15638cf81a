import type { JSONValue, ValidatorJSON } from "convex/values";
import { EngineError } from "../errors.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Store } from "../store/store.js";
import type { PageRequest } from "./document-page.js";

/** One filter clause of the dashboard: `field op value` (value as Convex JSON). */
interface FilterClause {
  field: string;
  op: FilterOp;
  value: JSONValue;
}

const OPS = { eq: "$eq", neq: "$neq", lt: "$lt", lte: "$lte", gt: "$gt", gte: "$gte" } as const;
type FilterOp = keyof typeof OPS;
const MAX_CLAUSES = 8;
/** Documents one filtered page may examine; a sparse filter over a big table then returns a short page and a cursor. */
const MAX_ROWS_READ = 20_000;

/**
 * A page of a table sorted by one of its indexes and filtered by field
 * clauses, run by the query engine exactly as a function's
 * `withIndex(index).order(order).filter(…).paginate()` would be, under the
 * lock at one snapshot. Comparisons use Convex's total order of values.
 */
export async function queryDocuments(
  runtime: Runtime,
  table: string,
  index: string | null,
  filterJson: string | null,
  page: PageRequest,
): Promise<{ documents: unknown[]; nextCursor: string | null; total: null }> {
  const clauses = parseFilter(filterJson);
  const indexName = `${table}.${index ?? "by_creation_time"}`;
  const query = {
    source: { type: "IndexRange", indexName, range: [], order: page.order },
    operators: clauses.length === 0 ? [] : [{ filter: { $and: clauses.map((c) => ({ [OPS[c.op]]: [{ $field: c.field }, { $literal: c.value }] })) } }],
  };
  const result = await runtime.readFromAction((tx) =>
    runtime.db.page(query, { cursor: page.cursor, endCursor: null, pageSize: page.limit, maximumRowsRead: MAX_ROWS_READ, maximumBytesRead: null, previousEndCursor: null }, tx.reads),
  );
  return { documents: result.page.map((text) => JSON.parse(text) as unknown), nextCursor: result.isDone ? null : result.continueCursor, total: null };
}

function parseFilter(json: string | null): FilterClause[] {
  if (json === null || json === "") return [];
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new EngineError("BadRequest", "filter must be JSON: [{\"field\": \"author\", \"op\": \"eq\", \"value\": \"ada\"}].");
  }
  if (!Array.isArray(raw) || raw.length > MAX_CLAUSES) throw new EngineError("BadRequest", `filter must be a list of at most ${MAX_CLAUSES} clauses.`);
  return raw.map((clause): FilterClause => {
    const { field, op, value } = (clause ?? {}) as Record<string, unknown>;
    if (typeof field !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(field)) {
      throw new EngineError("BadRequest", `A filter needs a field name, got ${JSON.stringify(field)}.`);
    }
    if (typeof op !== "string" || !(op in OPS)) throw new EngineError("BadRequest", `A filter's op is one of ${Object.keys(OPS).join(", ")}.`);
    return { field, op: op as FilterOp, value: (value ?? null) as JSONValue };
  });
}

/** A table as the schema view shows it: its document validator (null: any) and its indexes with their fields. */
export interface TableSchema {
  name: string;
  documentType: ValidatorJSON | null;
  /** Declared in schema.ts (false for tables only data created). */
  inSchema: boolean;
  indexes: { name: string; fields: readonly string[]; builtIn: boolean }[];
}

/** The applied schema with every table's indexes. The caller holds the runtime lock. */
export function tableSchema(store: Store): { schemaValidation: boolean; hasSchema: boolean; tables: TableSchema[] } {
  const schema = store.schema();
  const declared = new Map((schema?.tables ?? []).map((t) => [t.tableName, t]));
  const names = new Set([...declared.keys(), ...store.listTables().map((t) => t.name)]);
  const tables = [...names]
    .sort((a, b) => Number(a.startsWith("_")) - Number(b.startsWith("_")) || a.localeCompare(b))
    .map((name): TableSchema => ({
      name,
      documentType: declared.get(name)?.documentType ?? null,
      inSchema: declared.has(name),
      indexes: store.listIndexes(name).map((i) => {
        const short = i.name.slice(i.table.length + 1);
        return { name: short, fields: i.fields, builtIn: short === "by_id" || short === "by_creation_time" };
      }),
    }));
  return { schemaValidation: schema?.schemaValidation ?? false, hasSchema: schema !== null, tables };
}
