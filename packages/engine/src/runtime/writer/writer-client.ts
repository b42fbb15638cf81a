import { Worker } from "node:worker_threads";
import type { AppSource } from "../query-workers/worker-protocol.js";
import { canonicalUdfPath } from "../udf-path.js";
import { workerScript } from "../worker-script.js";
import { DurableOrder } from "./durable-order.js";
import { createWalSync } from "./wal-sync.js";
import { fromWire, stopped, unknownOutcome } from "./writer-outcomes.js";
import { WriterControl, WriterState, type FromWriter, type ToWriter, type WriterStart } from "./writer-protocol.js";
import type { BatchProgress, RemoteMutation, WriterOptions, WriterStats } from "./writer-types.js";

interface Running {
  id: number;
  settle(message: FromWriter & { kind: "batchDone" | "scheduledDone" }): void;
  /** The batch's items (null for a scheduled job), to answer and re-run after a kill. */
  items: RemoteMutation[] | null;
  fail(reason: "timeout" | "crash", index: number): void;
}

/**
 * The main thread's side of the writer worker (runs on the main thread; the caller holds
 * the runtime's lock while batches are in flight and until they are durable, so engine
 * writes on the main connection never overlap them and commits are announced in ts
 * order). Mutations cross as data and come back as outcomes; with `synchronous=FULL`
 * (the default) the writer commits without fsync and this thread makes the WAL durable
 * (`wal-sync.ts`) while the writer already runs the next batch; only then is the commit
 * announced (`onCommit`) and are its mutations answered. A mutation past its time limit is stopped by terminating the
 * worker, but only while the control word says user code runs (never during COMMIT): its
 * batch had not committed, so the mutation at fault is answered with a timeout and the
 * others of the batch run again in a new one (never lost, never applied twice).
 */
export class WriterClient {
  private worker: Worker | null = null;
  private control = new WriterControl();
  private app: AppSource | null = null;
  private running: Running | null = null;
  private nextId = 0;
  private watchdog: NodeJS.Timeout | null = null;
  private closed = false;
  /** Answers and announcements, each once its commit is durable. */
  private readonly durable: DurableOrder;
  private readonly counters = {
    batches: 0,
    mutations: 0,
    sizes: {} as Record<number, number>,
    executingMs: 0,
    writerCpuMs: null as number | null,
    writerRunDelayMs: null as number | null,
  };

  constructor(private readonly options: WriterOptions) {
    const mode = options.synchronous ?? "FULL";
    const walSync = mode === "FULL" || mode === "EXTRA" ? createWalSync(`${options.dbPath}-wal`, options.flushWal) : null;
    this.durable = new DurableOrder(walSync, options.logInternal);
  }

  /** Counters since the writer client was made. */
  stats(): WriterStats {
    const synced = this.durable.stats();
    return { ...this.counters, sizes: { ...this.counters.sizes }, syncs: synced.flushes, syncMs: synced.flushMs };
  }

  /** New code: the writer evaluates it before its next batch. */
  setApp(app: AppSource): void {
    this.app = app;
    this.worker?.postMessage({ kind: "app", app } satisfies ToWriter);
  }

  /** Tests: the writer's next COMMIT fails with `message` before writing anything (as a full disk would). */
  async failNextCommit(message: string): Promise<void> {
    (await this.start()).postMessage({ kind: "failNextCommit", message } satisfies ToWriter);
  }

  /** A commit of the main connection: the writer's document cache drops what it wrote. */
  committed(ts: bigint, previousTs: bigint | undefined, ids: string[]): void {
    this.worker?.postMessage({ kind: "commit", ts, previousTs: previousTs ?? -2n, ids } satisfies ToWriter);
  }

  /**
   * Runs mutations as one group-committed batch on the writer; answers every item once
   * its commit is durable. `executed` resolves as soon as the writer is free for the next
   * batch, which then runs while this one's WAL frames are synced.
   */
  runBatch(items: RemoteMutation[], clockOffsetMs: number, alone = false): BatchProgress {
    const answered: Promise<void>[] = [];
    // Alone (nothing else in flight or queued), the writer syncs in its COMMIT: the answer
    // then needs one thread hop instead of three (writer → main → thread pool → main).
    const executed = this.executeBatch(items, clockOffsetMs, alone && this.durable.syncsWal, answered);
    return { executed, done: executed.then(() => Promise.all(answered)).then(() => undefined) };
  }

  private async executeBatch(items: RemoteMutation[], clockOffsetMs: number, syncInline: boolean, answered: Promise<void>[]): Promise<void> {
    let todo = items;
    while (todo.length > 0) {
      const batch = todo;
      todo = [];
      const sentAt = performance.now();
      const done = await this.send(
        (id) => ({ kind: "batch", id, jobs: batch.map((i) => i.remote), clockOffsetMs, syncInline }),
        batch,
        (reason, index) => {
          // Nothing of the batch committed: the one at fault fails, the rest run again.
          batch.forEach((item, i) => {
            if (i === index || reason === "crash") item.resolve(stopped(item, reason, this.options.timeoutMs));
            else todo.push(item);
          });
        },
      );
      if (done?.kind === "batchDone") {
        this.count(batch.length, performance.now() - sentAt);
        this.counters.writerCpuMs = done.thread?.cpuMs ?? null;
        this.counters.writerRunDelayMs = done.thread?.runDelayMs ?? null;
        const outcomes = done.outcomes;
        // A success is told only once durable; if the sync failed, nobody knows whether it is.
        answered.push(this.durable.whenDurable((durable) => batch.forEach((item, i) => item.resolve(durable || outcomes[i]!.status === "error" ? fromWire(outcomes[i]!) : unknownOutcome(item)))));
      }
    }
  }

  private count(size: number, ms: number): void {
    const c = this.counters;
    c.batches += 1;
    c.mutations += size;
    c.executingMs += ms;
    const bucket = size <= 1 ? 1 : 2 ** Math.ceil(Math.log2(size));
    c.sizes[bucket] = (c.sizes[bucket] ?? 0) + 1;
  }

  /**
   * Runs a due scheduled mutation with its state flip on the writer; `{ error }` when it
   * was stopped before its transaction committed (the job is still pending).
   */
  async runScheduled(jobId: string, name: string, component: string, clockOffsetMs: number): Promise<"ran" | "skipped" | { error: string }> {
    let stoppedBy = "crash" as "timeout" | "crash";
    const done = await this.send((id) => ({ kind: "scheduled", id, jobId, name, component, clockOffsetMs }), null, (reason) => void (stoppedBy = reason));
    if (done?.kind === "scheduledDone") return this.durable.whenDurable(() => done.result);
    return {
      error:
        stoppedBy === "timeout"
          ? `${canonicalUdfPath(name)} ran longer than ${this.options.timeoutMs / 1000} s and was stopped; its writes were discarded.`
          : "The engine's writer stopped before this mutation committed; nothing of it was written.",
    };
  }

  /**
   * Stops the writer at once, even in the middle of a runaway mutation (SIGTERM must stop
   * the engine): a COMMIT in progress is let finish, user code is cut off, and a batch
   * that had not committed is answered with an error (nothing of it was written).
   */
  async close(): Promise<void> {
    this.closed = true;
    if (this.watchdog !== null) clearInterval(this.watchdog);
    const deadline = performance.now() + 10_000;
    // User code is cut off at once; a COMMIT in progress, or answers already on their way, are waited for.
    while (this.worker !== null && this.running !== null && performance.now() < deadline) {
      if (this.control.state() === WriterState.RUNNING && this.control.claimKill()) break;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
    this.running?.fail("crash", -1);
    // Batches already run are answered once their sync ends.
    await this.durable.close();
  }

  private async send(
    message: (id: number) => ToWriter,
    items: RemoteMutation[] | null,
    onStopped: (reason: "timeout" | "crash", index: number) => void,
  ): Promise<(FromWriter & { kind: "batchDone" | "scheduledDone" }) | null> {
    if (this.closed) {
      items?.forEach((item) => item.resolve(stopped(item, "crash", 0)));
      return null;
    }
    const worker = await this.start();
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.running = {
        id,
        items,
        settle: (done) => {
          this.running = null;
          resolve(done);
        },
        fail: (reason, index) => {
          this.running = null;
          onStopped(reason, index);
          resolve(null);
        },
      };
      worker.postMessage(message(id));
      this.armWatchdog();
    });
  }

  private async start(): Promise<Worker> {
    if (this.worker !== null) return this.worker;
    const script = await workerScript("writer");
    this.control = new WriterControl();
    const start: WriterStart = {
      dbPath: this.options.dbPath,
      commitCounter: this.options.commitCounter ?? null,
      // With a sync of its own here, the writer's COMMIT does not wait for the disk.
      synchronous: this.durable.syncsWal ? "NORMAL" : this.options.synchronous,
      deployment: this.options.deployment,
      app: this.app,
      timeoutMs: this.options.timeoutMs,
      control: this.control.buffer,
      commitChannel: this.options.commitChannel ?? null,
    };
    const worker = new Worker(script, { workerData: start });
    worker.unref();
    worker.on("message", (message: FromWriter) => this.onMessage(worker, message));
    worker.on("error", (e) => this.options.logInternal(e));
    worker.on("exit", () => this.exited(worker));
    this.worker = worker;
    return worker;
  }

  private onMessage(worker: Worker, message: FromWriter): void {
    if (worker !== this.worker) return;
    switch (message.kind) {
      case "commit":
        // Readers of the file see it already: caches that follow them hear of it now.
        this.options.onCommitWritten?.(message);
        // Announced (to subscribers, the query cache, query results that read it) only once durable.
        this.durable.commitReported(message.synced);
        void this.durable.whenDurable(() => this.options.onCommit(message));
        return;
      case "batchDone":
      case "scheduledDone":
        if (this.running?.id === message.id) this.running.settle(message);
        return;
      case "request": {
        let reply: ToWriter;
        try {
          reply = { kind: "reply", id: message.id, value: this.options.issueUploadToken() };
        } catch (e) {
          reply = { kind: "reply", id: message.id, error: e instanceof Error ? e.message : String(e) };
        }
        worker.postMessage(reply);
        return;
      }
      case "log":
        this.options.onLog(message.path, message.level, message.line);
        return;
      case "internal":
        this.options.logInternal(new Error(`writer: ${message.text}`));
        return;
    }
  }

  /** The writer died on its own (not by our kill): its batch's outcome is unknown if it was committing. */
  private exited(worker: Worker): void {
    if (worker !== this.worker) return;
    this.worker = null;
    const running = this.running;
    if (running === null) return;
    // Died mid-COMMIT: the batch may or may not be durable (the first answer given wins).
    if (this.control.state() === WriterState.COMMITTING) running.items?.forEach((item) => item.resolve(unknownOutcome(item)));
    running.fail("crash", -1);
  }

  private armWatchdog(): void {
    if (this.watchdog !== null) return;
    const tick = Math.max(1, Math.min(250, Math.floor(this.options.timeoutMs / 10)));
    this.watchdog = setInterval(() => this.check(), tick);
    this.watchdog.unref();
  }

  private check(): void {
    const running = this.running;
    if (running === null) {
      if (this.watchdog !== null) clearInterval(this.watchdog);
      this.watchdog = null;
      return;
    }
    const now = this.control.runningFor();
    if (now === null || now.ms < this.options.timeoutMs) return;
    // Only while user code runs: a COMMIT in progress is never interrupted.
    if (!this.control.claimKill()) return;
    const worker = this.worker!;
    this.worker = null;
    void worker.terminate().then(() => running.fail("timeout", now.index));
  }
}
