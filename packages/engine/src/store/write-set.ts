/**
 * What a commit wrote, as the store reports it: subscriptions (read sets), the query cache and
 * the search indexes decide from it what a commit changed.
 */

/** How one written document moved in one index; null = not in the index before/after. */
export interface IndexKeyChange {
  index: string;
  oldKey: Buffer | null;
  newKey: Buffer | null;
}

/**
 * One document written by a transaction, coalesced over all its writes: the state before
 * the transaction (`old…`) and at commit (`new…`); null text = did not exist.
 */
export interface DocumentWrite {
  id: string;
  table: string;
  oldText: string | null;
  newText: string | null;
  /** One entry per index of the table, built-ins included. */
  keys: IndexKeyChange[];
  /**
   * Set instead of per-document detail when a transaction wrote too many documents to list
   * (an import): any document of `table` may have changed, so every read of the table —
   * any interval of its indexes, any id with this table number — is stale. `id` is then ""
   * and `keys` empty; there is one such entry per table written.
   */
  wholeTable?: { tableNumber: number };
}

/** What a commit returns. */
export interface CommitResult {
  /** The commit ts in nanoseconds since the epoch, strictly above every earlier one. */
  ts: bigint;
  /** The write set, one entry per written document. */
  writes: DocumentWrite[];
  /** The commit ts before this one (readers use it to tell whether they missed a commit). */
  previousTs: bigint;
}
