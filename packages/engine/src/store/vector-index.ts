import type Database from "better-sqlite3";
import type { Value } from "convex/values";
import { getLoadablePath } from "sqlite-vec";
import { EngineError } from "../errors";
import { getFieldValue } from "../values/field-path";
import type { SearchIndexRecord, VectorIndexRecord } from "./search-catalog";
import { filterValueBytes } from "./text-index-keys";
import type { VectorMatch, VectorSearchQuery } from "./search-types";

/**
 * Vector indexes in sqlite-vec `vec0` tables (`vector_index_<id>`), one per index, rowid =
 * the document's integer key, written in the same transaction as the document. Chosen by
 * measurement (`bench/vector-search`, README): vec0's exact k-nearest scan runs in C over
 * float32 chunks, 2.9x (10k vectors) to 4.1x (100k) less CPU than exact search in JavaScript
 * over the same floats stored as blobs, and about as fast as JavaScript over floats held in
 * memory — without holding them: a query reads the connection's own snapshot and nothing else.
 *
 * Like Convex, a document is indexed only when its vector field is an array of exactly
 * `dimensions` float64 numbers; vectors are stored as float32. Filter fields are vec0
 * metadata columns `f0…f15` holding the hex of the value's filter bytes. A vec0 KNN query
 * accepts ANDed constraints only, and Convex's filters are alternatives (an OR of
 * equalities, possibly over several fields), so a filtered search runs one KNN per field
 * (`fi IN (…)`) and merges them: the best k of a union is among the best k of its parts.
 */

/** Every connection that reads or writes a vector index must have loaded sqlite-vec first. */
export function loadVectorExtension(db: Database.Database): void {
  try {
    db.loadExtension(getLoadablePath());
  } catch (e) {
    throw new EngineError(
      "VectorSearchUnavailable",
      `Vector indexes need the sqlite-vec extension, which could not be loaded on this platform: ${(e as Error).message}`,
      "fatal",
    );
  }
}

/**
 * Creates the vec0 table of a new vector index; taking the connection's `VectorIndexes`
 * proves the extension is loaded.
 */
export function createVectorIndexTable(db: Database.Database, _loaded: VectorIndexes, record: VectorIndexRecord): void {
  const filters = record.filterFields.map((_, i) => `f${i} text`).join(", ");
  db.exec(
    `CREATE VIRTUAL TABLE ${tableOf(record)} USING vec0(id integer primary key, ${filters}${filters ? ", " : ""}` +
      `+doc_id text, embedding float[${record.dimensions}] distance_metric=cosine)`,
  );
}

/** Drops a vector index's table and its shadow tables. */
export function dropVectorIndexTable(db: Database.Database, record: SearchIndexRecord): void {
  db.exec(`DROP TABLE IF EXISTS ${tableOf(record)}`);
}

/** Reads and writes the vector indexes of one store connection. */
export interface VectorIndexes {
  /** Moves a document (key `docKey`) in one vector index; null = absent before/after. */
  write(record: SearchIndexRecord, docKey: number, oldDoc: Record<string, Value> | null, newDoc: Record<string, Value> | null): void;
  /** The best matches (see `Store.vectorSearch`). */
  search(record: VectorIndexRecord, query: VectorSearchQuery): VectorMatch[];
  /** Forgets the statements of a dropped index. */
  forget(record: SearchIndexRecord): void;
}

/** Creates the vector index access of one connection (the extension must be loaded). */
export function createVectorIndexes(db: Database.Database): VectorIndexes {
  const statements = new Map<string, Database.Statement>();
  function prepared(record: SearchIndexRecord, kind: string, sql: () => string): Database.Statement {
    const key = `${record.id}:${kind}`;
    let statement = statements.get(key);
    if (statement === undefined) statements.set(key, (statement = db.prepare(sql())));
    return statement;
  }

  return {
    write(record, docKey, oldDoc, newDoc) {
      const before = oldDoc === null ? null : entry(record as VectorIndexRecord, oldDoc);
      const after = newDoc === null ? null : entry(record as VectorIndexRecord, newDoc);
      if (before === null && after === null) return;
      if (before !== null && after !== null && before.filters.every((f, i) => f === after.filters[i]) && before.vector.equals(after.vector)) {
        return;
      }
      const table = tableOf(record);
      if (before !== null) prepared(record, "delete", () => `DELETE FROM ${table} WHERE id = ?`).run(BigInt(docKey));
      if (after !== null) {
        const columns = record.filterFields.map((_, i) => `f${i}, `).join("");
        const marks = record.filterFields.map(() => "?, ").join("");
        prepared(record, "insert", () => `INSERT INTO ${table} (id, ${columns}doc_id, embedding) VALUES (?, ${marks}?, ?)`).run(
          BigInt(docKey),
          ...after.filters,
          String(newDoc!._id),
          after.vector,
        );
      }
    },
    search(record, query) {
      const vector = Buffer.from(new Float32Array(query.vector).buffer);
      const table = tableOf(record);
      const knn = `SELECT doc_id, distance FROM ${table} WHERE embedding MATCH ? AND k = ?`;
      const runs: [string, number][][] = [];
      if (query.filters.length === 0) {
        runs.push(prepared(record, "knn", () => knn).raw().all(vector, query.limit) as [string, number][]);
      } else {
        const byField = new Map<number, string[]>();
        for (const filter of query.filters) {
          const i = record.filterFields.indexOf(filter.field);
          const values = byField.get(i) ?? [];
          values.push(filterValueBytes(filter.value).toString("hex"));
          byField.set(i, values);
        }
        for (const [i, values] of byField) {
          const sql = () => `${knn} AND f${i} IN (${values.map(() => "?").join(", ")})`;
          runs.push(prepared(record, `knn:${i}:${values.length}`, sql).raw().all(vector, query.limit, ...values) as [string, number][]);
        }
      }
      const best = new Map<string, number>();
      for (const rows of runs) {
        // vec0 computes the cosine distance in float32; the score is kept at that precision, as Convex's is.
        for (const [id, distance] of rows) best.set(id, Math.fround(1 - distance));
      }
      // Ties: the larger id first, as Convex orders (score, internal id) descending.
      return [...best]
        .map(([id, score]) => ({ id, score }))
        .sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
        .slice(0, query.limit);
    },
    forget(record) {
      for (const key of [...statements.keys()]) if (key.startsWith(`${record.id}:`)) statements.delete(key);
    },
  };
}

function tableOf(record: SearchIndexRecord): string {
  return `vector_index_${record.id}`;
}

/** What one document version puts into a vector index, or null when it is not indexed. */
function entry(record: VectorIndexRecord, doc: Record<string, Value>): { vector: Buffer; filters: string[] } | null {
  const value = getFieldValue(doc, record.paths[0]);
  if (!Array.isArray(value) || value.length !== record.dimensions) return null;
  const vector = new Float32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const x = value[i];
    // NaN or an infinity would make every score with this vector NaN.
    if (typeof x !== "number" || !Number.isFinite(x)) return null;
    vector[i] = x;
  }
  const filters = record.paths.slice(1).map((path) => filterValueBytes(getFieldValue(doc, path)).toString("hex"));
  return { vector: Buffer.from(vector.buffer), filters };
}
