import type Database from "better-sqlite3";
import type { Value } from "convex/values";
import { EngineError } from "../errors";
import { encodeDocumentId, newInternalId, tableNumberOfId, tryDecodeDocumentId } from "../values/document-id";
import { systemTableNameOf } from "../values/table-names";
import type { ValidationContext } from "../values/validator";
import { indexKey, MAX_KEY } from "../values/index-key-codec";
import { createCatalog } from "./catalog";
import { nextCommitTs, nextCreationTime } from "./commit-clock";
import { checkUserFields, decodeDocument, documentIndexKey, encodeDocument, type DecodedDocument } from "./document-codec";
import { createDocumentValidation } from "./document-validation";
import { applySchemaChanges } from "./schema-apply";
import { parseSchemaJson, type SchemaJson } from "./schema-json";
import { openDatabase } from "./sqlite-layout";
import { createSearchIndexes } from "./search-indexes";
import { createSqliteStatements } from "./sqlite-statements";
import type { CommitResult, IndexRow, IndexKeyChange, SavepointId, Store, StoreOptions } from "./store";
import { createDocumentCache } from "./document-cache";
import { HexKeyedRow } from "./hex-keyed-row";
import { createWalCheckpointer } from "./wal-checkpointer";
import { createWriteLog, type WriteLogMark } from "./write-log";

/**
 * The store on better-sqlite3 (WAL). One connection, driven by one serial executor: an open
 * transaction's writes are visible to the reads that follow them and to nobody else.
 */

const REPLACE_SYSTEM_FIELDS: ReadonlySet<string> = new Set(["_id", "_creationTime"]);
const DEFAULT_DOCUMENT_CACHE_SIZE = 10_000;

interface SavepointFrame {
  log: WriteLogMark;
  catalogVersion: number;
}

/** Opens (or creates) a store in the SQLite file `options.path`. */
export function createSqliteStore(options: StoreOptions): Store {
  const { now } = options;
  const randomBytes = pooledRandomBytes(options.randomBytes);
  const readOnly = options.readOnly === true;
  const db = openDatabase(options.path, options.synchronous ?? "FULL", readOnly, options.notice);
  // A reader never writes WAL frames, so it has nothing to checkpoint.
  const checkpointer = readOnly ? null : createWalCheckpointer(options.path, options.synchronous ?? "FULL");
  const sql = createSqliteStatements(db);
  const catalog = createCatalog(db);
  const search = createSearchIndexes(db);
  const log = createWriteLog();
  const tableName = (n: number) => catalog.tableName(n) ?? systemTableNameOf(n);
  const validationContext: ValidationContext = { tableNameOf: tableName };
  const validation = createDocumentValidation(validationContext);
  const cache = createDocumentCache(options.documentCacheSize ?? DEFAULT_DOCUMENT_CACHE_SIZE);
  /** Ids written by the open transaction: their uncommitted text must never be cached. */
  const writtenInTransaction = new Set<string>();

  let lastTs = BigInt(sql.getState("last_ts") ?? "0");
  /**
   * The commit whose state (creation-time clock, catalog, schema) this connection mirrors.
   * Another connection may commit too (the writer worker beside the main thread's engine
   * writes, serialized by the runtime's lock): `catchUp` reloads what it changed.
   */
  let syncedTs = lastTs;
  let lastCreationTime = Number(sql.getState("last_creation_time") ?? "0");
  /** The catalog generation this connection loaded (readers reload when the writer moved it). */
  let catalogGeneration = sql.getState("catalog_version");
  let creationTimeAtBegin = lastCreationTime;
  let schemaText = sql.getState("schema");
  let schema: SchemaJson | null = schemaText === null ? null : parseSchemaJson(schemaText);
  validation.setSchema(schema);
  let open = false;
  /** A read transaction (`beginRead`) is open; `readOpen` once SQLite's part of it has begun. */
  let reading = false;
  let readOpen = false;
  let catalogVersionAtBegin = 0;
  const savepoints: SavepointFrame[] = [];
  let version = 0;

  /** Prepared SAVEPOINT statements by nesting depth: every mutation of a group commit opens one. */
  const savepointStatements: { open: Database.Statement; release: Database.Statement; rollbackTo: Database.Statement }[] = [];
  function savepointSql(depth: number) {
    let statements = savepointStatements[depth];
    if (statements === undefined) {
      const name = `sp_${depth}`;
      statements = {
        open: db.prepare(`SAVEPOINT ${name}`),
        release: db.prepare(`RELEASE ${name}`),
        rollbackTo: db.prepare(`ROLLBACK TO ${name}`),
      };
      savepointStatements[depth] = statements;
    }
    return statements;
  }

  /** Called before every SQLite read: starts the read transaction's SQLite part on first use. */
  function readFromSqlite(): void {
    if (reading && !readOpen) {
      sql.beginRead.run();
      readOpen = true;
    }
  }

  function requireTransaction(what: string): void {
    if (!open) throw new EngineError("NoTransaction", `${what} needs an open transaction`, "fatal");
  }

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
    if (log.wholeTables()) writtenInTransaction.clear();
    else writtenInTransaction.add(id);
    version++;
  }

  /**
   * Where a document is found by id: its table's `by_id` index and the id's key there, or
   * null when the id names no table of this store (then no such document exists).
   */
  function byIdEntry(id: string): { table: string; index: number; key: Buffer } | null {
    const tableNumber = tableNumberOfId(id);
    const table = tableNumber === null ? null : catalog.tableName(tableNumber);
    const byId = table === null ? undefined : catalog.index(`${table}.by_id`);
    return byId === undefined ? null : { table: table!, index: byId.id, key: indexKey([id]) };
  }

  /** The committed-or-pending text of document `id`, read from SQLite (no cache). */
  function readDocument(id: string): string | null {
    const entry = byIdEntry(id);
    return entry === null ? null : (sql.getDocument.get(entry.index, entry.key) ?? null);
  }

  function loadForWrite(id: string): { seq: number; table: string; text: string; doc: DecodedDocument } {
    requireTransaction("A write");
    const entry = byIdEntry(id);
    const table = entry === null ? null : entry.table;
    const row = entry === null ? undefined : sql.getForWrite.get(entry.index, entry.key);
    if (table === null || row === undefined) {
      throw new EngineError("DocumentNotFound", `Document with ID "${id}" does not exist`);
    }
    return { seq: row.seq, table, text: row.value, doc: decodeDocument(row.value) };
  }

  function endTransaction(): void {
    open = false;
    savepoints.length = 0;
    log.clear();
    writtenInTransaction.clear();
  }

  function afterRollback(catalogVersion: number): void {
    if (catalog.version() !== catalogVersion) catalog.reload();
    version++;
  }

  /** Right after BEGIN: takes over what other connections committed since this one's last look. */
  function catchUp(): void {
    const diskTs = BigInt(sql.getState("last_ts") ?? "0");
    if (diskTs === syncedTs) return;
    // Commits nobody announced (`observeCommit`): any cached document may be stale.
    if (diskTs !== lastTs) cache.clear();
    lastCreationTime = Number(sql.getState("last_creation_time") ?? "0");
    reloadCatalogIfChanged();
    lastTs = syncedTs = diskTs;
  }

  /** Reloads catalog and schema when another connection committed a new catalog generation. */
  function reloadCatalogIfChanged(): void {
    const generation = sql.getState("catalog_version");
    if (generation === catalogGeneration) return;
    catalogGeneration = generation;
    catalog.reload();
    search.reload();
    schemaText = sql.getState("schema");
    schema = schemaText === null ? null : parseSchemaJson(schemaText);
    validation.setSchema(schema);
  }

  function stampCommit(catalogChanged: boolean): bigint {
    const ts = nextCommitTs(now(), lastTs);
    sql.setState("last_ts", ts.toString());
    sql.setState("last_creation_time", String(lastCreationTime));
    // Readers on other connections (query workers) mirror the catalog too: a new
    // generation in the same commit tells them to reload it at that snapshot.
    if (catalogChanged) {
      catalogGeneration = ts.toString();
      sql.setState("catalog_version", catalogGeneration);
    }
    return ts;
  }

  const store: Store = {
    tableNumber: (table) => catalog.tableNumber(table),
    tableName,
    listTables: () => catalog.tables(),
    resolveIndex: (name) => catalog.resolve(name),
    listIndexes: (table) => catalog.indexesOf(table).map(({ name, table: t, fields }) => ({ name, table: t, fields })),
    searchIndex: (name) => search.info(name),
    schema: () => schema,

    applySchema(input) {
      if (open || reading) throw new EngineError("TransactionOpen", "applySchema cannot run inside a transaction", "fatal");
      const next = input === null ? null : parseSchemaJson(input);
      const nextText = next === null ? null : JSON.stringify(next);
      if (nextText === schemaText) return { ts: lastTs, createdTables: [], addedIndexes: [], droppedIndexes: [] };
      const catalogVersion = catalog.version();
      sql.begin.run();
      try {
        catchUp();
        const diff = applySchemaChanges(db, catalog, search, next, validationContext);
        if (nextText === null) sql.deleteState.run("schema");
        else sql.setState("schema", nextText);
        const ts = stampCommit(true);
        sql.commit.run();
        lastTs = syncedTs = ts;
        schema = next;
        schemaText = nextText;
        validation.setSchema(next);
        version++;
        return { ts, ...diff };
      } catch (e) {
        if (db.inTransaction) sql.rollback.run();
        afterRollback(catalogVersion);
        search.reload();
        throw e;
      }
    },

    inTransaction: () => open,
    beginRead() {
      if (open || reading) throw new EngineError("TransactionOpen", "A transaction is already open", "fatal");
      // SQLite's transaction starts with the first read (see `readFromSqlite`): a query
      // answered from the document cache alone costs no statement at all.
      reading = true;
    },
    beginSnapshot() {
      if (open || reading) throw new EngineError("TransactionOpen", "A transaction is already open", "fatal");
      sql.beginRead.run();
      reading = true;
      readOpen = true;
      // The first read fixes the snapshot: the ts and catalog generation are the ones it sees.
      lastTs = BigInt(sql.getState("last_ts") ?? "0");
      const generation = sql.getState("catalog_version");
      if (generation !== catalogGeneration) {
        catalogGeneration = generation;
        catalog.reload();
        search.reload();
      }
      return lastTs;
    },
    observeCommit(ts, previousTs, ids) {
      if (ts <= lastTs) return;
      if (previousTs === lastTs) for (const id of ids) cache.delete(id);
      else cache.clear();
      lastTs = ts;
      // Reads outside a transaction (the scheduler's, the admin API's) need tables the
      // other connection created; the rest of the state waits for the next begin().
      if (!open && !reading) reloadCatalogIfChanged();
    },
    forgetCachedDocuments(ids) {
      if (ids === null) cache.clear();
      else for (const id of ids) cache.delete(id);
    },
    endRead() {
      if (!reading) return;
      reading = false;
      if (readOpen) {
        readOpen = false;
        if (db.inTransaction) sql.commit.run();
      }
    },
    begin() {
      if (open || reading) throw new EngineError("TransactionOpen", "A transaction is already open", "fatal");
      sql.begin.run();
      try {
        catchUp();
      } catch (e) {
        sql.rollback.run();
        throw e;
      }
      open = true;
      catalogVersionAtBegin = catalog.version();
      creationTimeAtBegin = lastCreationTime;
      log.clear();
    },
    commit(): CommitResult {
      requireTransaction("commit()");
      try {
        // A transaction that wrote no document, table or mutation result (a cron check that found
        // nothing due, a read-only mutation) keeps the current ts: the commit clock counts changes
        // to data, and subscribers have nothing to hear about. Meta rows it set are kept.
        const writes = log.writeSet();
        if (writes.length === 0 && log.pendingResults().length === 0 && catalog.version() === catalogVersionAtBegin) {
          sql.commit.run();
          return { ts: lastTs, previousTs: lastTs, writes };
        }
        const ts = stampCommit(catalog.version() !== catalogVersionAtBegin);
        for (const r of log.pendingResults()) {
          sql.putResult.run(r.sessionId, r.requestId, r.result, ts.toString(), r.recordedAt);
        }
        sql.commit.run();
        const previousTs = lastTs;
        lastTs = syncedTs = ts;
        checkpointer?.committed();
        // Text-index keys are derived from the coalesced write, once per document and commit.
        for (const write of writes) {
          const changes = search.keyChanges(write);
          if (changes.length > 0) write.keys.push(...changes);
        }
        return { ts, previousTs, writes };
      } catch (e) {
        store.rollback();
        throw e;
      } finally {
        endTransaction();
      }
    },
    rollback() {
      if (!open) return;
      if (db.inTransaction) sql.rollback.run();
      endTransaction();
      afterRollback(catalogVersionAtBegin);
      // An abandoned import must not leave its creation times as the floor for later inserts.
      lastCreationTime = creationTimeAtBegin;
    },
    savepoint() {
      requireTransaction("savepoint()");
      const depth = savepoints.length + 1;
      savepointSql(depth).open.run();
      savepoints.push({ log: log.mark(), catalogVersion: catalog.version() });
      return depth as SavepointId;
    },
    release(savepoint) {
      frameOf(savepoints, savepoint);
      savepointSql(savepoint).release.run();
      savepoints.length = savepoint - 1;
    },
    rollbackTo(savepoint) {
      const frame = frameOf(savepoints, savepoint);
      const statements = savepointSql(savepoint);
      statements.rollbackTo.run();
      statements.release.run();
      savepoints.length = savepoint - 1;
      log.truncate(frame.log);
      afterRollback(frame.catalogVersion);
    },
    lastCommitTs: () => lastTs,
    writeVersion: () => version,

    get(id) {
      const written = writtenInTransaction.has(id) || log.wholeTables();
      if (!written) {
        const cached = cache.get(id);
        if (cached !== undefined) return cached;
      }
      readFromSqlite();
      const text = readDocument(id);
      if (!written) cache.set(id, text);
      return text;
    },

    insert(table, fields: Record<string, Value>) {
      requireTransaction("insert()");
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
      lastCreationTime = nextCreationTime(wallClock, lastCreationTime);
      const id = encodeDocumentId(tableNumber, newInternalId(randomBytes, wallClock));
      const doc: DecodedDocument = { ...fields, _id: id, _creationTime: lastCreationTime };
      const text = encodeDocument(doc);
      const seq = Number(sql.insertDocument.run(tableNumber, text).lastInsertRowid);
      writeDocument(id, table, seq, null, doc, null, text);
      return id;
    },
    ensureTable(table, tableNumber) {
      requireTransaction("ensureTable()");
      const current = catalog.tableNumber(table);
      if (current === tableNumber) return;
      if (current === null) {
        catalog.createTable(table, tableNumber);
        return;
      }
      // Ids embed the table number, so an empty table can take the imported
      // number; a table with documents cannot change its number.
      if (store.count(table) > 0) {
        throw new EngineError(
          "TableNumberTaken",
          `Table "${table}" has number ${current} here but ${tableNumber} in the import, and already holds documents; import with --replace.`,
        );
      }
      catalog.renumberTable(table, tableNumber);
    },
    insertWithId(table, doc) {
      requireTransaction("insertWithId()");
      const { _id: givenId, _creationTime: givenCreationTime, ...fields } = doc;
      const tableNumber = catalog.tableNumber(table);
      if (tableNumber === null) throw new EngineError("TableNotFound", `Table "${table}" does not exist.`);
      const wallClock = now();
      const id = givenId === undefined ? encodeDocumentId(tableNumber, newInternalId(randomBytes, wallClock)) : givenId;
      if (typeof id !== "string" || tryDecodeDocumentId(id)?.tableNumber !== tableNumber) {
        throw new EngineError("InvalidId", `Document id ${JSON.stringify(id)} is not an id of table "${table}".`);
      }
      const creationTime = givenCreationTime === undefined ? nextCreationTime(wallClock, lastCreationTime) : givenCreationTime;
      if (typeof creationTime !== "number" || !Number.isFinite(creationTime)) {
        throw new EngineError("InvalidDocument", `Document ${id} has no valid _creationTime.`);
      }
      if (readDocument(id) !== null) {
        throw new EngineError("DocumentExists", `A document with id ${id} already exists.`);
      }
      checkUserFields(fields);
      validation.check(table, fields);
      const full: DecodedDocument = { ...fields, _id: id, _creationTime: creationTime };
      const text = encodeDocument(full);
      const seq = Number(sql.insertDocument.run(tableNumber, text).lastInsertRowid);
      writeDocument(id, table, seq, null, full, null, text);
      lastCreationTime = Math.max(lastCreationTime, creationTime);
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
    scan(index, range, order, limit): IndexRow[] {
      const record = catalog.index(index);
      if (record === undefined || limit <= 0) return [];
      readFromSqlite();
      const hi = range.hi ?? MAX_KEY;
      if (limit === 1) {
        const row = (order === "desc" ? sql.scanFirstDesc : sql.scanFirstAsc).get(record.id, range.lo, hi);
        return row === undefined ? [] : [new HexKeyedRow(row[0], row[1])];
      }
      const rows = (order === "desc" ? sql.scanDesc : sql.scanAsc).all(record.id, range.lo, hi, limit);
      return rows.map(([keyHex, text]) => new HexKeyedRow(keyHex, text));
    },
    textSearch(index, query) {
      readFromSqlite();
      return search.textSearch(index, query);
    },
    vectorSearch(index, query) {
      readFromSqlite();
      return search.vectorSearch(index, query);
    },
    count(table) {
      const byId = catalog.index(`${table}.by_id`);
      if (byId === undefined) return 0;
      readFromSqlite();
      return sql.countEntries.get(byId.id)!;
    },

    getMeta: (key) => sql.getMeta.get(key) ?? null,
    setMeta(key, value) {
      if (value === null) sql.deleteMeta.run(key);
      else sql.putMeta.run(key, value);
    },
    getMutationResult(sessionId, requestId) {
      const row = sql.getResult.get(sessionId, requestId);
      return row === undefined ? null : { result: row.result, ts: BigInt(row.ts) };
    },
    recordMutationResult(sessionId, requestId, result) {
      requireTransaction("recordMutationResult()");
      log.addResult({ sessionId, requestId, result, recordedAt: now() });
    },
    pruneMutationResults: (maxAgeMs) => sql.pruneResults.run(now() - maxAgeMs).changes,

    close() {
      store.endRead();
      store.rollback();
      checkpointer?.close();
      db.close();
    },
  };
  return store;
}

/** Random bytes come from `source` a few kilobytes at a time: one call per id costs more than the id. */
function pooledRandomBytes(source: (n: number) => Uint8Array): (n: number) => Uint8Array {
  const POOL_BYTES = 4096;
  let pool: Uint8Array = new Uint8Array(0);
  let used = 0;
  return (n) => {
    if (used + n > pool.length) {
      pool = source(Math.max(POOL_BYTES, n));
      used = 0;
    }
    const bytes = pool.subarray(used, used + n);
    used += n;
    return bytes;
  };
}

function frameOf(frames: SavepointFrame[], savepoint: SavepointId): SavepointFrame {
  const frame = frames[savepoint - 1];
  if (frame === undefined) throw new EngineError("UnknownSavepoint", `Savepoint ${savepoint} is not open`, "fatal");
  return frame;
}
