import { Worker } from "node:worker_threads";
import type { AppSource } from "./query-workers/worker-protocol.js";
import { workerScript, type WorkerProgram } from "./worker-script.js";

/** One worker thread of a pool, with what the pool keeps about it. */
export interface PoolSlot {
  readonly worker: Worker;
}

/**
 * What a pool of worker threads shares, whatever runs on them (runs on the main thread):
 * the worker script, loaded once; workers started on demand, each unref'd so it never keeps
 * the process alive by itself; the loaded app's source, sent to every worker; one watchdog
 * timer for all of them; stopping a worker (out of the pool first, so its exit is not taken
 * for a crash); and closing. A worker that exits on its own leaves the pool and its work is
 * the subclass's to answer (`lost`). What a worker runs, when a job may wait, and what a
 * timeout means are the subclass's.
 *
 * `S` is a slot, `P` a job waiting in `queue`, `M` a message from a worker.
 */
export abstract class WorkerPool<S extends PoolSlot, P, M> {
  protected readonly slots: S[] = [];
  protected readonly queue: P[] = [];
  /** The loaded app's source, sent to every worker (and to new ones as they start). */
  protected app: AppSource | null = null;
  protected closed = false;
  private version = 0;
  private script: string | null = null;
  private scriptLoading = false;
  private watchdog: NodeJS.Timeout | null = null;

  constructor(
    private readonly program: WorkerProgram,
    /** Engine faults (a worker's `error` event, a script that does not build). */
    protected readonly logInternal: (e: unknown) => void,
  ) {}

  /** New code or env vars: workers evaluate them before their next job (one in progress finishes on its code). */
  setApp(source: Omit<AppSource, "version">): void {
    this.app = { ...source, version: ++this.version };
    this.broadcast({ kind: "app", app: this.app });
  }

  /** Stops every worker; waiting jobs and the ones running are answered with an error. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopWatchdog();
    for (const pending of this.queue.splice(0)) this.fail(pending, "The engine is shutting down.");
    await Promise.all(
      this.slots.splice(0).map(async (slot) => {
        this.closing(slot);
        await slot.worker.terminate();
      }),
    );
  }

  /** Assigns waiting jobs to workers, starting workers as the subclass allows. */
  protected abstract dispatch(): void;
  /** The data a new worker starts with, and the rest of its slot. */
  protected abstract newSlot(): { workerData: unknown; slot: Omit<S, "worker"> };
  protected abstract onMessage(slot: S, message: M): void;
  /** A worker exited on its own (a crash): it has left the pool; answer or requeue its work. */
  protected abstract lost(slot: S): void;
  /** Answers a job with an error (the pool is closing, or the worker script failed). */
  protected abstract fail(pending: P, message: string): void;
  /** The pool is closing: answer what `slot` is running (the worker is terminated next). */
  protected abstract closing(slot: S): void;
  /** A watchdog tick: stop what ran too long; returns whether the watchdog should keep ticking. */
  protected abstract watch(now: number): boolean;

  /**
   * Starts one more worker; null while the worker script is still being built (`dispatch`
   * runs again once it is, or every waiting job fails with `failedStart`).
   */
  protected startWorker(failedStart: string): S | null {
    if (this.script !== null) return this.spawn(this.script);
    if (!this.scriptLoading) {
      this.scriptLoading = true;
      workerScript(this.program).then(
        (script) => {
          this.script = script;
          this.dispatch();
        },
        (e: unknown) => {
          this.scriptLoading = false;
          this.logInternal(e);
          for (const pending of this.queue.splice(0)) this.fail(pending, failedStart);
        },
      );
    }
    return null;
  }

  /** Starts one more worker now, waiting for the script if need be. */
  protected async startWorkerNow(): Promise<S> {
    this.script ??= await workerScript(this.program);
    return this.spawn(this.script);
  }

  /** Ends a worker the pool gave up on (past its time limit, or idle): out of the pool first, so its exit is no crash. */
  protected stopWorker(slot: S): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    void slot.worker.terminate();
  }

  protected broadcast(message: unknown): void {
    for (const slot of this.slots) slot.worker.postMessage(message);
  }

  /** Starts the one watchdog timer for all workers, ticking every `tickMs`, unless it runs. */
  protected armWatchdog(tickMs: number): void {
    if (this.watchdog !== null) return;
    this.watchdog = setInterval(() => {
      if (!this.watch(performance.now())) this.stopWatchdog();
      this.dispatch();
    }, tickMs);
    this.watchdog.unref();
  }

  private stopWatchdog(): void {
    if (this.watchdog === null) return;
    clearInterval(this.watchdog);
    this.watchdog = null;
  }

  private spawn(script: string): S {
    const { workerData, slot: fields } = this.newSlot();
    const worker = new Worker(script, { workerData });
    // Workers never keep the process alive by themselves; `close()` ends them.
    worker.unref();
    const slot = { ...fields, worker } as S;
    this.slots.push(slot);
    worker.on("message", (message: M) => this.onMessage(slot, message));
    worker.on("error", (e) => this.logInternal(e));
    worker.on("exit", () => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return;
      this.slots.splice(at, 1);
      this.lost(slot);
    });
    return slot;
  }
}
