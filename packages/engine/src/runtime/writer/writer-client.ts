import { Worker } from "node:worker_threads";
import { EngineError } from "../../errors.js";
import type { SynchronousMode } from "../../store/store-options.js";
import type { DocumentWrite } from "../../store/write-set.js";
import type { CallOutcome } from "../function-outcome.js";
import type { LogLevel } from "../log-capture.js";
import type { QueuedMutation } from "../mutation-batch.js";
import type { AppSource } from "../query-workers/worker-protocol.js";
import type { DeploymentInfo } from "../services.js";
import { canonicalUdfPath } from "../udf-path.js";
import { workerScript } from "../worker-script.js";
import { createWalSync, type FlushFile, type WalSync } from "./wal-sync.js";
import { WriterControl, WriterState, type FromWriter, type MutationJob, type ToWriter, type WireMutationOutcome, type WriterStart } from "./writer-protocol.js";

/** Settings of the writer thread. */
export interface WriterOptions {
  dbPath: string;
  synchronous?: SynchronousMode;
  deployment: DeploymentInfo;
  /** A mutation running longer than this is stopped (ms). */
  timeoutMs: number;
  /** A commit of the writer, in ts order, before any answer that depends on it. */
  onCommit(commit: WriterCommit): void;
  issueUploadToken(): string;
  onLog(path: string, level: LogLevel, line: string): void;
  logInternal(e: unknown): void;
  /** How the WAL is flushed before commits are acknowledged (tests inject a failing disk). */
  flushWal?: FlushFile;
}

/**
 * A batch handed to the writer: `executed` once the writer has run and committed it (it
 * can take the next batch), `done` once every item is answered (after the commit is durable).
 */
export interface BatchProgress {
  executed: Promise<void>;
  done: Promise<void>;
}

/** Counters of the writer's work since it started (the durable-likes benchmark reads them). */
export interface WriterStats {
  batches: number;
  mutations: number;
  /** Batches by size: key n counts batches of (n/2, n] mutations. */
  sizes: Record<number, number>;
  /** Time from sending a batch to its outcomes' arrival, summed (ms): the writer was busy with it. */
  executingMs: number;
  /** CPU time of the writer thread so far (ms; null where the OS does not tell; restarts with a new thread). */
  writerCpuMs: number | null;
  /** fdatasync calls on the WAL (one serves every commit made before it started). */
  syncs: number;
  /** Time in fdatasync of the WAL, summed (ms; it overlaps the next batch's execution). */
  syncMs: number;
}

/** A commit made by the writer, as the main thread announces it. */
export interface WriterCommit {
  ts: bigint;
  previousTs: bigint;
  writes: DocumentWrite[];
  deletedBlobs: string[];
  touchedScheduler: boolean;
}

/** A queued mutation that can cross to the writer. */
export type RemoteMutation = QueuedMutation & { remote: MutationJob };

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
  /** Null when the configured `synchronous` asks for no fsync per commit (OFF, NORMAL). */
  private readonly walSync: WalSync | null;
  /** Announcements and answers, in the order the writer reported them, each once durable. */
  private ordered: Promise<unknown> = Promise.resolve();
  /**
   * The sync that covers every commit the writer has reported so far (false: it failed).
   * Each commit message asks for one; an answer waits for the latest, asking for none:
   * the writer reports a commit before the answers that depend on it.
   */
  private synced: Promise<boolean> = Promise.resolve(true);
  private readonly counters = { batches: 0, mutations: 0, sizes: {} as Record<number, number>, executingMs: 0, writerCpuMs: null as number | null };

  constructor(private readonly options: WriterOptions) {
    const mode = options.synchronous ?? "FULL";
    this.walSync = mode === "FULL" || mode === "EXTRA" ? createWalSync(`${options.dbPath}-wal`, options.flushWal) : null;
  }

  /** Counters since the writer client was made. */
  stats(): WriterStats {
    const synced = this.walSync?.stats() ?? { flushes: 0, flushMs: 0 };
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
    const executed = this.executeBatch(items, clockOffsetMs, alone && this.walSync !== null, answered);
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
        this.counters.writerCpuMs = done.threadCpuMs;
        const outcomes = done.outcomes;
        // A success is told only once durable; if the sync failed, nobody knows whether it is.
        answered.push(this.whenDurable((durable) => batch.forEach((item, i) => item.resolve(durable || outcomes[i]!.status === "error" ? fromWire(outcomes[i]!) : unknownOutcome(item)))));
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
   * Runs `then` once every commit the writer has reported so far is durable, and after
   * everything queued before it; `durable` is false when the WAL could not be synced.
   */
  private whenDurable<T>(then: (durable: boolean) => T): Promise<T> {
    const step = Promise.all([this.ordered, this.synced]).then(([, durable]) => then(durable));
    this.ordered = step.catch((e: unknown) => this.options.logInternal(e));
    return step;
  }

  /** The writer reported a commit: a sync that covers it starts now, or after the running one. */
  private syncCommit(): void {
    if (this.walSync === null) return;
    this.synced = this.walSync.sync().then(
      () => true,
      (e: unknown) => {
        this.options.logInternal(e);
        return false;
      },
    );
  }

  /**
   * Runs a due scheduled mutation with its state flip on the writer; `{ error }` when it
   * was stopped before its transaction committed (the job is still pending).
   */
  async runScheduled(jobId: string, name: string, component: string, clockOffsetMs: number): Promise<"ran" | "skipped" | { error: string }> {
    let stoppedBy = "crash" as "timeout" | "crash";
    const done = await this.send((id) => ({ kind: "scheduled", id, jobId, name, component, clockOffsetMs }), null, (reason) => void (stoppedBy = reason));
    if (done?.kind === "scheduledDone") return this.whenDurable(() => done.result);
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
    await this.ordered;
    this.walSync?.close();
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
      // With a sync of its own here, the writer's COMMIT does not wait for the disk.
      synchronous: this.walSync !== null ? "NORMAL" : this.options.synchronous,
      deployment: this.options.deployment,
      app: this.app,
      timeoutMs: this.options.timeoutMs,
      control: this.control.buffer,
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
        // Announced (to subscribers, caches, query results that read it) only once durable.
        // A commit the writer synced itself covers every earlier one too (the WAL is appended in order).
        if (message.synced) this.synced = Promise.resolve(true);
        else this.syncCommit();
        void this.whenDurable(() => this.options.onCommit(message));
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

function fromWire(wire: WireMutationOutcome): CallOutcome {
  if (wire.status === "error") return wire;
  return { status: "success", value: JSON.parse(wire.valueText) as CallOutcome extends { value: infer V } ? V : never, valueText: wire.valueText, logLines: wire.logLines, ts: wire.ts };
}

function stopped(item: RemoteMutation, reason: "timeout" | "crash", timeoutMs: number): CallOutcome {
  const error =
    reason === "timeout"
      ? new EngineError("FunctionTimeout", `${item.remote.path} ran longer than ${timeoutMs / 1000} s and was stopped; its writes were discarded.`)
      : new EngineError("WriterStopped", "The engine's writer stopped before this mutation committed; nothing of it was written.", "transient");
  return { status: "error", errorMessage: error.message, logLines: item.logLines };
}

function unknownOutcome(item: RemoteMutation): CallOutcome {
  return { status: "error", errorMessage: "The engine's writer stopped while committing; retry to learn whether this mutation was applied.", logLines: item.logLines };
}
