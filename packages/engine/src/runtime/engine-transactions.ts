import type { CommitAnnouncer } from "./commit-announcer.js";
import type { TransactionState } from "./execution.js";
import type { FunctionCalls } from "./function-calls.js";
import type { CallOutcome } from "./function-outcome.js";
import type { RuntimeDatabase } from "./runtime-database.js";
import type { CallRequest } from "./runtime-types.js";
import type { SerialLock } from "./serial-lock.js";

/**
 * Transactions the engine's own services open on the runtime's connection (the main thread's,
 * for the engine), serialized with mutation batches by the lock: actions' scheduling and
 * storage deletes, scheduler state, uploads, imports, and a scheduled mutation run together
 * with its job's state flip. Their commits are announced like a mutation's.
 */
export class EngineTransactions {
  constructor(
    private readonly db: RuntimeDatabase,
    private readonly lock: SerialLock,
    private readonly calls: FunctionCalls,
    private readonly announcer: CommitAnnouncer,
  ) {}

  /** A read under the lock, so it never sees a mutation's uncommitted writes (actions, engine services). */
  async readFromAction<T>(fn: (tx: TransactionState) => T): Promise<T> {
    return this.lock.run(async () => fn(this.calls.newTx(false, this.db.discardedReads)));
  }

  /**
   * Runs writes in a transaction of their own under the lock (an action's
   * scheduling or storage delete, scheduler state changes, uploads, imports)
   * with the same commit path as a mutation, so subscribers see them.
   */
  async transact<T>(fn: (tx: TransactionState) => T | Promise<T>): Promise<T> {
    return this.lock.run(async () => {
      const tx = this.calls.newTx(true, this.db.discardedReads);
      this.db.begin();
      let result: T;
      try {
        result = await fn(tx);
      } catch (e) {
        this.db.rollback();
        throw e;
      }
      this.announcer.committed(this.db.commit(), [tx]);
      return result;
    });
  }

  /**
   * Runs a function in a mutation transaction that the caller controls; used
   * by the scheduler to flip a job's state in the same transaction as the job.
   */
  async runMutationInOpenTransaction(request: CallRequest, tx: TransactionState, logLines: string[]): Promise<CallOutcome> {
    const fn = this.calls.resolve(request.path, true, "mutation", request.component);
    const argsJson = this.calls.decodeArgs(fn, request.args);
    return this.calls.executeInTransaction(fn, argsJson, request, logLines, tx);
  }
}
