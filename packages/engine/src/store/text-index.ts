import type Database from "better-sqlite3";
import type { Value } from "convex/values";
import { getFieldValue } from "../values/field-path";
import { tokenize } from "../values/text-tokenizer";
import type { SearchIndexRecord } from "./search-catalog";
import { filterValueBytes } from "./text-index-keys";
import { TEXT_SEARCH_MAX_CANDIDATES, type TextSearchCandidate, type TextSearchQuery } from "./search-types";

/**
 * Text indexes in SQLite FTS5, one contentless table per index (`text_index_<id>`), rowid =
 * the document's integer key, written in the same transaction as the document.
 *
 * The terms come from our tokenizer (`values/text-tokenizer.ts`, Convex's analyzer), stored
 * space-separated in `body` and read back by FTS5's `ascii` tokenizer, which splits only on
 * ASCII non-alphanumerics and treats every other character as part of a term: it therefore
 * finds exactly our terms again. Filter values are terms too, `f<i>x<hex>` in a `filters`
 * column, so an equality is an FTS5 AND and the index intersects posting lists instead of
 * filtering rows. Each entry's document id and creation time sit in a plain side table
 * (`text_rows_<id>`) to return and order results without touching the documents (FTS5's
 * own `contentless_unindexed` columns are left behind by DROP TABLE in SQLite 3.53).
 *
 * Relevance is FTS5's BM25 (k1 1.2, b 0.75) over `body` only (the filters column has weight
 * 0). Convex ranks with Tantivy's BM25 and boosts an exact hit of the prefix term over its
 * completions (1 vs 0.5); matching the prefix term both exactly and as a prefix counts an
 * exact hit twice, which gives the same 2:1 ratio. Ties go newest first, then by id.
 */

/** Creates the FTS5 table of a new text index. */
export function createTextIndexTable(db: Database.Database, record: SearchIndexRecord): void {
  db.exec(
    `CREATE VIRTUAL TABLE ${tableOf(record)} USING fts5(body, filters, content='', contentless_delete=1, tokenize='ascii');` +
      `CREATE TABLE ${rowsOf(record)} (doc INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, creation_time REAL NOT NULL);`,
  );
}

/** Drops a text index's tables. */
export function dropTextIndexTable(db: Database.Database, record: SearchIndexRecord): void {
  db.exec(`DROP TABLE IF EXISTS ${tableOf(record)}; DROP TABLE IF EXISTS ${rowsOf(record)};`);
}

/** Reads and writes the text indexes of one store connection (prepared statements are cached per index). */
export interface TextIndexes {
  /** Moves a document (key `docKey`) in one text index; null = absent before/after. */
  write(record: SearchIndexRecord, docKey: number, oldDoc: Record<string, Value> | null, newDoc: Record<string, Value> | null): void;
  /** The best candidates, best first (see `Store.textSearch`). */
  search(record: SearchIndexRecord, query: TextSearchQuery): TextSearchCandidate[];
  /** Forgets the statements of a dropped index. */
  forget(record: SearchIndexRecord): void;
}

interface Statements {
  insert: Database.Statement;
  insertRow: Database.Statement;
  remove: Database.Statement;
  removeRow: Database.Statement;
  search: Database.Statement;
}

/** Creates the text index access of one connection. */
export function createTextIndexes(db: Database.Database): TextIndexes {
  const statements = new Map<number, Statements>();
  function prepared(record: SearchIndexRecord): Statements {
    let s = statements.get(record.id);
    if (s === undefined) {
      const table = tableOf(record);
      const rows = rowsOf(record);
      s = {
        insert: db.prepare(`INSERT INTO ${table} (rowid, body, filters) VALUES (?, ?, ?)`),
        insertRow: db.prepare(`INSERT INTO ${rows} (doc, doc_id, creation_time) VALUES (?, ?, ?)`),
        remove: db.prepare(`DELETE FROM ${table} WHERE rowid = ?`),
        removeRow: db.prepare(`DELETE FROM ${rows} WHERE doc = ?`),
        // Ranked on rowids alone first, so only the kept entries are looked up.
        search: db
          .prepare(
            `SELECT d.doc_id, d.creation_time, r.rank FROM (SELECT rowid, bm25(${table}, 1.0, 0.0) AS rank ` +
              `FROM ${table} WHERE ${table} MATCH ? ORDER BY rank LIMIT ${TEXT_SEARCH_MAX_CANDIDATES}) AS r ` +
              `JOIN ${rows} AS d ON d.doc = r.rowid`,
          )
          .raw(),
      };
      statements.set(record.id, s);
    }
    return s;
  }

  return {
    write(record, docKey, oldDoc, newDoc) {
      const before = oldDoc === null ? null : entry(record, oldDoc);
      const after = newDoc === null ? null : entry(record, newDoc);
      // Most writes leave the text and filters alone (a like, a counter): nothing to do.
      if (before !== null && after !== null && before.body === after.body && before.filters === after.filters) return;
      const s = prepared(record);
      if (before !== null) {
        s.remove.run(docKey);
        s.removeRow.run(docKey);
      }
      if (after !== null) {
        s.insert.run(docKey, after.body, after.filters);
        s.insertRow.run(docKey, String(newDoc!._id), newDoc!._creationTime as number);
      }
    },
    search(record, query) {
      if (query.terms.length === 0) return [];
      const rows = prepared(record).search.all(matchExpression(record, query)) as [string, number, number][];
      const candidates = rows.map(([id, creationTime, rank]) => ({ id, creationTime, score: -rank }));
      candidates.sort(
        (a, b) => b.score - a.score || b.creationTime - a.creationTime || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
      return candidates;
    },
    forget: (record) => void statements.delete(record.id),
  };
}

function tableOf(record: SearchIndexRecord): string {
  return `text_index_${record.id}`;
}

function rowsOf(record: SearchIndexRecord): string {
  return `text_rows_${record.id}`;
}

/** What one document version puts into a text index. */
function entry(record: SearchIndexRecord, doc: Record<string, Value>): { body: string; filters: string } {
  const text = getFieldValue(doc, record.paths[0]);
  const body = typeof text === "string" ? tokenize(text).join(" ") : "";
  const filters = record.paths
    .slice(1)
    .map((path, i) => filterTerm(i, getFieldValue(doc, path)))
    .join(" ");
  return { body, filters };
}

/** The FTS5 term of filter field `i` holding `value`. */
function filterTerm(i: number, value: Value | undefined): string {
  return `f${i}x${filterValueBytes(value).toString("hex")}`;
}

/**
 * `{body}: ("a" OR "b" OR "c" OR "c"*) AND {filters}: "f0x…"`. Terms are alphanumeric, so
 * quoting them needs no escaping.
 */
function matchExpression(record: SearchIndexRecord, query: TextSearchQuery): string {
  const phrases = new Set<string>();
  for (const term of query.terms) {
    phrases.add(`"${term.token}"`);
    if (term.prefix) phrases.add(`"${term.token}"*`);
  }
  let expression = `{body} : (${[...phrases].join(" OR ")})`;
  for (const filter of query.filters) {
    const i = record.filterFields.indexOf(filter.field);
    expression += ` AND {filters} : "${filterTerm(i, filter.value)}"`;
  }
  return expression;
}
