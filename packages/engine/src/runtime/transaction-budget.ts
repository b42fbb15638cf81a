import { EngineError } from "../errors.js";
import { formatBytes } from "../values/value-limits.js";
import type { TransactionState } from "./execution-context.js";

/**
 * Convex's per-transaction limits (docs: production/state/limits,
 * "Transactions"; the backend's `database` crate for the messages), counted
 * per query or mutation transaction and shared by the functions it calls
 * (`ctx.runQuery`/`runMutation` run in the same transaction, as on Convex).
 *
 * Counted at the syscall boundary: documents and bytes a query returns to
 * the function (documents a `.filter` drops inside the scan are not seen
 * here, so this is a lower bound of Convex's "scanned"), `db.get`/`db.query`
 * calls as index ranges, documents and bytes written, functions scheduled.
 * Bytes read are the documents' JSON text length, close to Convex's size.
 *
 * Self-contained on purpose: the budget hangs off the transaction's state
 * object, so whichever thread runs the transaction counts its own.
 */

/** Documents one transaction may read. */
export const MAX_DOCUMENTS_READ = 32_000;
/** Bytes one transaction may read. */
export const MAX_BYTES_READ = 1 << 24;
/** `db.get` and `db.query` calls one transaction may make. */
export const MAX_INDEX_RANGES_READ = 4096;
/** Documents one transaction may write. */
export const MAX_DOCUMENTS_WRITTEN = 16_000;
/** Bytes one transaction may write. */
export const MAX_BYTES_WRITTEN = 1 << 24;
/** Functions one mutation may schedule. */
export const MAX_FUNCTIONS_SCHEDULED = 1000;
/** Total size of the arguments of the functions one mutation schedules. */
export const MAX_SCHEDULED_ARGS_BYTES = 1 << 24;

const OVER_LIMIT_HELP =
  "Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.";

/** What one transaction has used so far. */
export class TransactionBudget {
  private documentsRead = 0;
  private bytesRead = 0;
  private rangesRead = 0;
  private documentsWritten = 0;
  private bytesWritten = 0;
  private scheduled = 0;
  private scheduledBytes = 0;

  /** One `db.get` or `db.query`. */
  indexRange(): void {
    this.rangesRead += 1;
    if (this.rangesRead > MAX_INDEX_RANGES_READ) {
      throw new EngineError("TooManyReads", `Too many reads in a single function execution (limit: ${MAX_INDEX_RANGES_READ}). ${OVER_LIMIT_HELP}`);
    }
  }

  /** A document read, `bytes` long. */
  documentRead(bytes: number): void {
    this.documentsRead += 1;
    this.bytesRead += bytes;
    if (this.documentsRead > MAX_DOCUMENTS_READ) {
      throw new EngineError(
        "TooManyDocumentsRead",
        `Too many documents read in a single function execution (limit: ${MAX_DOCUMENTS_READ}). ${OVER_LIMIT_HELP}`,
      );
    }
    if (this.bytesRead > MAX_BYTES_READ) {
      throw new EngineError(
        "TooManyBytesRead",
        `Too many bytes read in a single function execution (limit: ${MAX_BYTES_READ} bytes). ${OVER_LIMIT_HELP}`,
      );
    }
  }

  /** A document inserted, replaced, patched or deleted; `bytes` is its new size. */
  documentWritten(bytes: number): void {
    this.documentsWritten += 1;
    this.bytesWritten += bytes;
    if (this.documentsWritten > MAX_DOCUMENTS_WRITTEN) {
      throw new EngineError("TooManyWrites", `Too many writes in a single function execution (limit: ${MAX_DOCUMENTS_WRITTEN})`);
    }
    if (this.bytesWritten > MAX_BYTES_WRITTEN) {
      throw new EngineError(
        "TooManyBytesWritten",
        `Too many bytes written in a single function execution (limit: ${formatBytes(MAX_BYTES_WRITTEN)})`,
      );
    }
  }

  /** A function scheduled with arguments of `argsBytes` (Convex size). */
  functionScheduled(argsBytes: number): void {
    if (this.scheduled >= MAX_FUNCTIONS_SCHEDULED) {
      throw new EngineError("TooManyFunctionsScheduled", `Too many functions scheduled by this mutation (limit: ${MAX_FUNCTIONS_SCHEDULED})`);
    }
    if (this.scheduledBytes + argsBytes > MAX_SCHEDULED_ARGS_BYTES) {
      throw new EngineError(
        "ScheduledFunctionsArgumentsTooLarge",
        `Too large total size of the arguments of scheduled functions from this mutation (limit: ${MAX_SCHEDULED_ARGS_BYTES} bytes)`,
      );
    }
    this.scheduled += 1;
    this.scheduledBytes += argsBytes;
  }
}

const budgets = new WeakMap<TransactionState, TransactionBudget>();

/** The budget of a transaction, created on first use. */
export function budgetOf(tx: TransactionState): TransactionBudget {
  let budget = budgets.get(tx);
  if (budget === undefined) {
    budget = new TransactionBudget();
    budgets.set(tx, budget);
  }
  return budget;
}
