import type { DocumentWrite } from "./store";

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
  /** Forgets everything logged after `mark`. */
  truncate(mark: WriteLogMark): void;
  clear(): void;
  /**
   * The write set: one entry per document, first-seen order, holding the state before the
   * transaction and at its end. Intermediate states are dropped because nobody saw them.
   */
  writeSet(): DocumentWrite[];
}

/** Creates an empty write log. */
export function createWriteLog(): WriteLog {
  let writes: DocumentWrite[] = [];
  let results: PendingMutationResult[] = [];

  return {
    addWrite: (write) => void writes.push(write),
    addResult: (result) => void results.push(result),
    pendingResults: () => results,
    mark: () => ({ writes: writes.length, results: results.length }),
    truncate(mark) {
      writes.length = mark.writes;
      results.length = mark.results;
    },
    clear() {
      writes = [];
      results = [];
    },
    writeSet() {
      const byId = new Map<string, DocumentWrite>();
      for (const write of writes) {
        const earlier = byId.get(write.id);
        if (earlier === undefined) {
          byId.set(write.id, { ...write, keys: write.keys.map((k) => ({ ...k })) });
          continue;
        }
        earlier.newText = write.newText;
        // A table's indexes cannot change inside a transaction, so the lists line up.
        for (let i = 0; i < earlier.keys.length; i++) earlier.keys[i].newKey = write.keys[i].newKey;
      }
      return [...byId.values()];
    },
  };
}
