import type Database from "better-sqlite3";
import { EngineError } from "../errors";
import { nextCommitTs } from "./commit-clock";
import { applySchemaChanges } from "./schema-apply";
import { parseSchemaJson } from "./schema-json";
import type { SqliteConnection } from "./sqlite-connection";
import type { SavepointId, Store } from "./store";
import type { CommitResult } from "./write-set";
import type { WriteLogMark } from "./write-log";

/**
 * The store's transactions on one connection: write transactions with savepoints, read
 * transactions and pinned snapshots, the commit clock, and catching up with what other
 * connections to the same file committed. Runs on the thread that owns the connection.
 */

export type SqliteTransactions = Pick<
  Store,
  | "applySchema"
  | "inTransaction"
  | "beginRead"
  | "beginSnapshot"
  | "observeCommit"
  | "forgetCachedDocuments"
  | "endRead"
  | "pauseRead"
  | "begin"
  | "commit"
  | "rollback"
  | "savepoint"
  | "release"
  | "rollbackTo"
  | "lastCommitTs"
  | "writeVersion"
>;

interface SavepointFrame {
  log: WriteLogMark;
  catalogVersion: number;
}

export function createSqliteTransactions(connection: SqliteConnection): SqliteTransactions {
  const { db, sql, catalog, search, log, cache, validation, checkpointer, commits, state } = connection;
  const savepoints: SavepointFrame[] = [];

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

  function endTransaction(): void {
    state.open = false;
    savepoints.length = 0;
    log.clear();
    connection.writtenInTransaction.clear();
  }

  /** Ends the read transaction `pauseRead()` left open, if any. */
  function endPausedRead(): void {
    if (!state.paused) return;
    state.paused = false;
    if (db.inTransaction) sql.commit.run();
  }

  function afterRollback(catalogVersion: number): void {
    if (catalog.version() !== catalogVersion) catalog.reload();
    state.version++;
  }

  /** Right after BEGIN: takes over what other connections committed since this one's last look. */
  function catchUp(): void {
    const diskTs = BigInt(sql.getState("last_ts") ?? "0");
    if (diskTs === state.syncedTs) return;
    // Commits nobody announced (`observeCommit`): any cached document may be stale.
    if (diskTs !== state.lastTs) cache.clear();
    state.lastCreationTime = Number(sql.getState("last_creation_time") ?? "0");
    reloadCatalogIfChanged();
    state.lastTs = state.syncedTs = diskTs;
  }

  /** Reloads catalog and schema when another connection committed a new catalog generation. */
  function reloadCatalogIfChanged(): void {
    const generation = sql.getState("catalog_version");
    if (generation === state.catalogGeneration) return;
    state.catalogGeneration = generation;
    catalog.reload();
    search.reload();
    state.schemaText = sql.getState("schema");
    state.schema = state.schemaText === null ? null : parseSchemaJson(state.schemaText);
    validation.setSchema(state.schema);
  }

  function stampCommit(catalogChanged: boolean): bigint {
    const ts = nextCommitTs(connection.now(), state.lastTs);
    sql.setState("last_ts", ts.toString());
    sql.setState("last_creation_time", String(state.lastCreationTime));
    // Readers on other connections (query workers) mirror the catalog too: a new
    // generation in the same commit tells them to reload it at that snapshot.
    if (catalogChanged) {
      state.catalogGeneration = ts.toString();
      sql.setState("catalog_version", state.catalogGeneration);
    }
    return ts;
  }

  function rollback(): void {
    if (!state.open) return;
    if (db.inTransaction) sql.rollback.run();
    endTransaction();
    afterRollback(state.catalogVersionAtBegin);
    // An abandoned import must not leave its creation times as the floor for later inserts.
    state.lastCreationTime = state.creationTimeAtBegin;
  }

  return {
    applySchema(input) {
      if (state.open || state.reading) throw new EngineError("TransactionOpen", "applySchema cannot run inside a transaction", "fatal");
      const next = input === null ? null : parseSchemaJson(input);
      const nextText = next === null ? null : JSON.stringify(next);
      if (nextText === state.schemaText) return { ts: state.lastTs, createdTables: [], addedIndexes: [], droppedIndexes: [] };
      const catalogVersion = catalog.version();
      endPausedRead();
      sql.begin.run();
      try {
        catchUp();
        const diff = applySchemaChanges(db, catalog, search, next, connection.validationContext);
        if (nextText === null) sql.deleteState.run("schema");
        else sql.setState("schema", nextText);
        const ts = stampCommit(true);
        sql.commit.run();
        commits?.bump();
        state.lastTs = state.syncedTs = ts;
        state.schema = next;
        state.schemaText = nextText;
        validation.setSchema(next);
        state.version++;
        return { ts, ...diff };
      } catch (e) {
        if (db.inTransaction) sql.rollback.run();
        afterRollback(catalogVersion);
        search.reload();
        throw e;
      }
    },

    inTransaction: () => state.open,
    beginRead() {
      if (state.open || state.reading) throw new EngineError("TransactionOpen", "A transaction is already open", "fatal");
      // SQLite's transaction starts with the first read (see `readFromSqlite`): a query
      // answered from the document cache alone costs no statement at all.
      endPausedRead();
      state.reading = true;
    },
    beginSnapshot() {
      if (state.open || state.reading) throw new EngineError("TransactionOpen", "A transaction is already open", "fatal");
      // No connection committed since the paused snapshot began (`commit-counter.ts`): it
      // is still the latest, with the same ts and catalog. SQLite may have ended the
      // transaction itself (after an I/O error): then a new one.
      if (state.paused && db.inTransaction && commits !== null && commits.read() === state.snapshotCount) {
        state.paused = false;
        state.reading = true;
        state.readOpen = true;
        return state.lastTs;
      }
      endPausedRead();
      // Read before BEGIN: a commit in between makes a later reuse fail, never pass.
      if (commits !== null) state.snapshotCount = commits.read();
      sql.beginRead.run();
      state.reading = true;
      state.readOpen = true;
      // The first read fixes the snapshot: the ts and catalog generation are the ones it sees.
      state.lastTs = BigInt(sql.getState("last_ts") ?? "0");
      const generation = sql.getState("catalog_version");
      if (generation !== state.catalogGeneration) {
        state.catalogGeneration = generation;
        catalog.reload();
        search.reload();
      }
      return state.lastTs;
    },
    observeCommit(ts, previousTs, ids) {
      if (ts <= state.lastTs) return;
      endPausedRead();
      if (previousTs === state.lastTs) for (const id of ids) cache.delete(id);
      else cache.clear();
      state.lastTs = ts;
      // Reads outside a transaction (the scheduler's, the admin API's) need tables the
      // other connection created; the rest of the state waits for the next begin().
      if (!state.open && !state.reading) reloadCatalogIfChanged();
    },
    forgetCachedDocuments(ids) {
      if (ids === null) cache.clear();
      else for (const id of ids) cache.delete(id);
    },
    endRead() {
      endPausedRead();
      if (!state.reading) return;
      state.reading = false;
      if (state.readOpen) {
        state.readOpen = false;
        if (db.inTransaction) sql.commit.run();
      }
    },
    pauseRead() {
      if (!state.reading) return;
      state.reading = false;
      if (!state.readOpen) return;
      state.readOpen = false;
      if (!db.inTransaction) return;
      if (commits === null) sql.commit.run();
      else state.paused = true;
    },
    begin() {
      if (state.open || state.reading) throw new EngineError("TransactionOpen", "A transaction is already open", "fatal");
      endPausedRead();
      sql.begin.run();
      try {
        catchUp();
      } catch (e) {
        sql.rollback.run();
        throw e;
      }
      state.open = true;
      state.catalogVersionAtBegin = catalog.version();
      state.creationTimeAtBegin = state.lastCreationTime;
      log.clear();
    },
    commit(): CommitResult {
      connection.requireTransaction("commit()");
      try {
        // A transaction that wrote no document, table or mutation result (a cron check that found
        // nothing due, a read-only mutation) keeps the current ts: the commit clock counts changes
        // to data, and subscribers have nothing to hear about. Meta rows it set are kept.
        const writes = log.writeSet();
        if (writes.length === 0 && log.pendingResults().length === 0 && catalog.version() === state.catalogVersionAtBegin) {
          sql.commit.run();
          return { ts: state.lastTs, previousTs: state.lastTs, writes };
        }
        const ts = stampCommit(catalog.version() !== state.catalogVersionAtBegin);
        for (const r of log.pendingResults()) {
          sql.putResult.run(r.sessionId, r.requestId, r.result, ts.toString(), r.recordedAt);
        }
        sql.commit.run();
        // Before anything about this commit is told: readers that saw the old count stop
        // reusing their snapshots (`commit-counter.ts`).
        commits?.bump();
        const previousTs = state.lastTs;
        state.lastTs = state.syncedTs = ts;
        checkpointer?.committed();
        // Text-index keys are derived from the coalesced write, once per document and commit.
        for (const write of writes) {
          const changes = search.keyChanges(write);
          if (changes.length > 0) write.keys.push(...changes);
        }
        return { ts, previousTs, writes };
      } catch (e) {
        rollback();
        throw e;
      } finally {
        endTransaction();
      }
    },
    rollback,
    savepoint() {
      connection.requireTransaction("savepoint()");
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
    lastCommitTs: () => state.lastTs,
    writeVersion: () => state.version,
  };
}

function frameOf(frames: SavepointFrame[], savepoint: SavepointId): SavepointFrame {
  const frame = frames[savepoint - 1];
  if (frame === undefined) throw new EngineError("UnknownSavepoint", `Savepoint ${savepoint} is not open`, "fatal");
  return frame;
}
