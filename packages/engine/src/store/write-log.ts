import { tableNumberOfId } from "../values/document-id";
import type { DocumentWrite } from "./write-set";

/**
 * Past this many document writes a transaction's write set is kept per table instead of per
 * document (`DocumentWrite.wholeTable`), so an import of millions of documents does not hold
 * every key and text until its commit. Above Convex's limit of 16,000 documents written per
 * mutation, so mutations never reach it; the cost is that readers of those tables re-run.
 */
export const WHOLE_TABLE_AFTER_WRITES = 16_384;

/**
 * Everything a transaction did that outlives SQLite's own undo: its writes (for the commit's
 * write set) and the mutation results to store with the commit ts. Savepoints remember the
 * log lengths so that `rollbackTo` can cut the log back exactly like SQLite cuts the data.
 */

/** A mutation result waiting for its transaction's commit ts. */
export interface PendingMutationResult {
  sessionId: string;
  requestId: number;
  result: string;
  recordedAt: number;
}

/** Log lengths at a savepoint. */
export interface WriteLogMark {
  writes: number;
  results: number;
}

/** The log of one open transaction. */
export interface WriteLog {
  /** Appends one document write (a single insert, replace or delete). */
  addWrite(write: DocumentWrite): void;
  addResult(result: PendingMutationResult): void;
  pendingResults(): readonly PendingMutationResult[];
  mark(): WriteLogMark;
  /**
   * Forgets everything logged after `mark`. Once per-table (see `wholeTables`) the tables
   * stay listed: a larger write set than needed only re-runs readers.
   */
  truncate(mark: WriteLogMark): void;
  /** True once this transaction's writes are kept per table. */
  wholeTables(): boolean;
  clear(): void;
  /**
   * The write set: one entry per document, first-seen order, holding the state before the
   * transaction and at its end. Intermediate states are dropped because nobody saw them.
   * A document written once is handed out as the log's own entry (no copy: the commit
   * takes the write set once, adds its text-index keys to it, then clears the log).
   */
  writeSet(): DocumentWrite[];
}

/** Creates an empty write log. */
export function createWriteLog(): WriteLog {
  let writes: DocumentWrite[] = [];
  let results: PendingMutationResult[] = [];
  /** Table → number, once the transaction is kept per table; null before. */
  let tables: Map<string, number> | null = null;

  return {
    addWrite(write) {
      if (tables !== null) {
        if (!tables.has(write.table)) tables.set(write.table, tableNumberOfId(write.id)!);
        return;
      }
      writes.push(write);
      if (writes.length > WHOLE_TABLE_AFTER_WRITES) {
        tables = new Map();
        for (const w of writes) if (!tables.has(w.table)) tables.set(w.table, tableNumberOfId(w.id)!);
        writes = [];
      }
    },
    wholeTables: () => tables !== null,
    addResult: (result) => void results.push(result),
    pendingResults: () => results,
    mark: () => ({ writes: writes.length, results: results.length }),
    truncate(mark) {
      if (tables === null) writes.length = mark.writes;
      results.length = mark.results;
    },
    clear() {
      writes = [];
      results = [];
      tables = null;
    },
    writeSet() {
      if (tables !== null) {
        return [...tables].map(([table, tableNumber]) => ({ id: "", table, oldText: null, newText: null, keys: [], wholeTable: { tableNumber } }));
      }
      const byId = new Map<string, DocumentWrite>();
      /** Entries already copied from the log (only a document written twice needs its own copy to coalesce into). */
      const copied = new Set<DocumentWrite>();
      for (const write of writes) {
        let earlier = byId.get(write.id);
        if (earlier === undefined) {
          byId.set(write.id, write);
          continue;
        }
        if (!copied.has(earlier)) {
          earlier = { ...earlier, keys: earlier.keys.map((k) => ({ ...k })) };
          copied.add(earlier);
          byId.set(write.id, earlier);
        }
        earlier.newText = write.newText;
        // A table's indexes cannot change inside a transaction, so the lists line up.
        for (let i = 0; i < earlier.keys.length; i++) earlier.keys[i].newKey = write.keys[i].newKey;
      }
      return [...byId.values()];
    },
  };
}
