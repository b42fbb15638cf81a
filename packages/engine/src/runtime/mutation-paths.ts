import type { CallReporter } from "./call-reporting.js";
import type { CommitAnnouncer } from "./commit-announcer.js";
import type { FunctionCalls } from "./function-calls.js";
import type { CallOutcome } from "./function-outcome.js";
import type { RegisteredFunction } from "./function-registry.js";
import { MutationBatcher, type QueueStats } from "./mutation-batch.js";
import type { RuntimeDatabase } from "./runtime-database.js";
import type { CallRequest, RuntimeOptions } from "./runtime-types.js";
import type { SerialLock } from "./serial-lock.js";
import type { WriterClient } from "./writer/writer-client.js";
import type { RemoteMutation, WriterStats } from "./writer/writer-types.js";

/**
 * Where a mutation runs, seen from the runtime's thread: queued and group-committed
 * (`mutation-batch.ts`), each batch under the lock, on the writer thread when it has the
 * app's code (handed over as data) or else on this thread's connection.
 */
export class MutationPaths {
  private readonly batcher: MutationBatcher;

  constructor(
    private readonly db: RuntimeDatabase,
    private readonly lock: SerialLock,
    private readonly calls: FunctionCalls,
    reporter: CallReporter,
    announcer: CommitAnnouncer,
    /** The writer thread, or null to run mutations on this one. */
    private readonly writer: WriterClient | null,
    /** True while the writer has the loaded app's code. */
    private readonly writerHasApp: () => boolean,
    private readonly options: RuntimeOptions,
  ) {
    this.batcher = new MutationBatcher(
      lock,
      {
        db,
        // Mutations take no read set: with one writer there is nothing to validate it against.
        newTx: () => calls.newTx(true, db.discardedReads),
        committed: (commit, txs) => announcer.committed(commit, txs),
        errorOutcome: (e, logLines) => reporter.errorOutcome(e, logLines),
        logInternal: (e) => options.logInternal?.(e),
      },
      () => (this.onWriter ? (items, alone) => writer!.runBatch(items as RemoteMutation[], calls.clockOffset(), alone) : null),
    );
  }

  /** The writer thread's client (tests inject faults through it), or null without one. */
  get writerThread(): WriterClient | null {
    return this.writer;
  }

  /** The writer's batch counters and how long mutations queued for it (benchmarks read them); null without a writer thread. */
  writerStats(): (WriterStats & QueueStats) | null {
    return this.writer === null ? null : { ...this.writer.stats(), ...this.batcher.queueStats };
  }

  /** True when mutations run on the writer thread (it has the loaded app's code). */
  get onWriter(): boolean {
    return this.writer !== null && this.writerHasApp();
  }

  /** Queues a resolved, argument-checked mutation for the next batch; resolves once its batch committed. */
  submit(fn: RegisteredFunction, argsJson: string, request: CallRequest, logLines: string[]): Promise<CallOutcome> {
    return this.batcher.submit({
      run: (tx) => {
        this.options.onMutationStart?.(request);
        return this.calls.executeInTransaction(fn, argsJson, request, logLines, tx);
      },
      idempotencyKey: request.idempotencyKey,
      logLines,
      remote: {
        path: fn.path,
        component: fn.component,
        args: request.args ?? {},
        identity: request.identity,
        idempotencyKey: request.idempotencyKey,
        origin: request.origin,
      },
    } as Omit<RemoteMutation, "resolve">);
  }

  /** A due scheduled mutation with its state flip, on the writer thread (see `runMutationJob`). */
  runScheduled(jobId: string, name: string, component: string): Promise<"ran" | "skipped" | { error: string }> {
    return this.lock.run(() => this.writer!.runScheduled(jobId, name, component, this.calls.clockOffset()));
  }
}
