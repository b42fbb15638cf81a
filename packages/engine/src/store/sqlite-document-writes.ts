import type { Value } from "convex/values";
import { EngineError } from "../errors";
import { encodeDocumentId, newInternalId, tryDecodeDocumentId } from "../values/document-id";
import { nextCreationTime } from "./commit-clock";
import { checkUserFields, decodeDocument, documentIndexKey, encodeDocument, sameScalarFields, type DecodedDocument } from "./document-codec";
import type { SqliteConnection } from "./sqlite-connection";
import type { Store } from "./store";
import type { IndexKeyChange } from "./write-set";

/**
 * The store's document writes inside the open write transaction of one connection: each moves
 * the document in every index of its table, tells the search indexes, and logs the write for
 * the commit's write set. Runs on the thread that owns the connection.
 */

export type SqliteDocumentWrites = Pick<Store, "insert" | "ensureTable" | "insertWithId" | "replace" | "delete">;

const REPLACE_SYSTEM_FIELDS: ReadonlySet<string> = new Set(["_id", "_creationTime"]);

export function createSqliteDocumentWrites(
  connection: SqliteConnection,
  /** The number of documents in a table (`Store.count`). */
  count: (table: string) => number,
): SqliteDocumentWrites {
  const { sql, catalog, search, log, cache, validation, now, randomBytes, state } = connection;

  /** Moves one document in every index of its table and logs the write. */
  function writeDocument(
    id: string,
    table: string,
    seq: number,
    oldDoc: DecodedDocument | null,
    newDoc: DecodedDocument | null,
    oldText: string | null,
    newText: string | null,
  ): void {
    const keys: IndexKeyChange[] = [];
    for (const index of catalog.indexesOf(table)) {
      // A patch mostly leaves an index's fields alone (a counter): the same scalars make the same key.
      if (oldDoc !== null && newDoc !== null && sameScalarFields(oldDoc, newDoc, index.paths)) {
        const key = documentIndexKey(newDoc, index);
        keys.push({ index: index.name, oldKey: key, newKey: key });
        continue;
      }
      const oldKey = oldDoc === null ? null : documentIndexKey(oldDoc, index);
      const newKey = newDoc === null ? null : documentIndexKey(newDoc, index);
      const unchanged = oldKey !== null && newKey !== null && oldKey.equals(newKey);
      if (!unchanged) {
        if (oldKey !== null) sql.deleteEntry.run(index.id, oldKey);
        if (newKey !== null) sql.insertEntry.run(index.id, newKey, seq);
      }
      keys.push({ index: index.name, oldKey, newKey });
    }
    search.onWrite(table, seq, oldDoc, newDoc);
    log.addWrite({ id, table, oldText, newText, keys });
    cache.delete(id);
    // Once the log is kept per table, `get` bypasses the cache for the whole transaction
    // instead of remembering every id written (an import would keep millions).
    if (log.wholeTables()) connection.writtenInTransaction.clear();
    else connection.writtenInTransaction.add(id);
    state.version++;
  }

  function loadForWrite(id: string): { seq: number; table: string; text: string; doc: DecodedDocument } {
    connection.requireTransaction("A write");
    const entry = connection.byIdEntry(id);
    const table = entry === null ? null : entry.table;
    const row = entry === null ? undefined : sql.getForWrite.get(entry.index, entry.key);
    if (table === null || row === undefined) {
      throw new EngineError("DocumentNotFound", `Document with ID "${id}" does not exist`);
    }
    return { seq: row.seq, table, text: row.value, doc: decodeDocument(row.value) };
  }

  return {
    insert(table, fields: Record<string, Value>) {
      connection.requireTransaction("insert()");
      checkUserFields(fields);
      validation.check(table, fields);
      let tableNumber = catalog.tableNumber(table);
      if (tableNumber === null) {
        // Encode once before creating the table, so a value error cannot leave behind an
        // empty table when user code catches the error and the mutation goes on.
        encodeDocument(fields);
        tableNumber = catalog.createTable(table);
      }
      const wallClock = now();
      state.lastCreationTime = nextCreationTime(wallClock, state.lastCreationTime);
      const id = encodeDocumentId(tableNumber, newInternalId(randomBytes, wallClock));
      const doc: DecodedDocument = { ...fields, _id: id, _creationTime: state.lastCreationTime };
      const text = encodeDocument(doc);
      const seq = Number(sql.insertDocument.run(tableNumber, text).lastInsertRowid);
      writeDocument(id, table, seq, null, doc, null, text);
      return id;
    },
    ensureTable(table, tableNumber) {
      connection.requireTransaction("ensureTable()");
      const current = catalog.tableNumber(table);
      if (current === tableNumber) return;
      if (current === null) {
        catalog.createTable(table, tableNumber);
        return;
      }
      // Ids embed the table number, so an empty table can take the imported
      // number; a table with documents cannot change its number.
      if (count(table) > 0) {
        throw new EngineError(
          "TableNumberTaken",
          `Table "${table}" has number ${current} here but ${tableNumber} in the import, and already holds documents; import with --replace.`,
        );
      }
      catalog.renumberTable(table, tableNumber);
    },
    insertWithId(table, doc) {
      connection.requireTransaction("insertWithId()");
      const { _id: givenId, _creationTime: givenCreationTime, ...fields } = doc;
      const tableNumber = catalog.tableNumber(table);
      if (tableNumber === null) throw new EngineError("TableNotFound", `Table "${table}" does not exist.`);
      const wallClock = now();
      const id = givenId === undefined ? encodeDocumentId(tableNumber, newInternalId(randomBytes, wallClock)) : givenId;
      if (typeof id !== "string" || tryDecodeDocumentId(id)?.tableNumber !== tableNumber) {
        throw new EngineError("InvalidId", `Document id ${JSON.stringify(id)} is not an id of table "${table}".`);
      }
      const creationTime = givenCreationTime === undefined ? nextCreationTime(wallClock, state.lastCreationTime) : givenCreationTime;
      if (typeof creationTime !== "number" || !Number.isFinite(creationTime)) {
        throw new EngineError("InvalidDocument", `Document ${id} has no valid _creationTime.`);
      }
      if (connection.readDocument(id) !== null) {
        throw new EngineError("DocumentExists", `A document with id ${id} already exists.`);
      }
      checkUserFields(fields);
      validation.check(table, fields);
      const full: DecodedDocument = { ...fields, _id: id, _creationTime: creationTime };
      const text = encodeDocument(full);
      const seq = Number(sql.insertDocument.run(tableNumber, text).lastInsertRowid);
      writeDocument(id, table, seq, null, full, null, text);
      state.lastCreationTime = Math.max(state.lastCreationTime, creationTime);
      return id;
    },
    replace(id, fields) {
      const old = loadForWrite(id);
      checkUserFields(fields, REPLACE_SYSTEM_FIELDS);
      const { _id, _creationTime, ...rest } = fields;
      if ((_id !== undefined && _id !== id) || (_creationTime !== undefined && _creationTime !== old.doc._creationTime)) {
        throw new EngineError("InvalidDocument", "_id and _creationTime can only be given with their current values");
      }
      validation.check(old.table, rest);
      const doc: DecodedDocument = { ...rest, _id: id, _creationTime: old.doc._creationTime };
      const text = encodeDocument(doc);
      sql.updateDocument.run(text, old.seq);
      writeDocument(id, old.table, old.seq, old.doc, doc, old.text, text);
      return text;
    },
    delete(id) {
      const old = loadForWrite(id);
      writeDocument(id, old.table, old.seq, old.doc, null, old.text, null);
      sql.deleteDocument.run(old.seq);
      return old.text;
    },
  };
}
