import type { SynchronousMode } from "../../store/store-options.js";
import type { DocumentWrite } from "../../store/write-set.js";
import type { LogLevel } from "../log-capture.js";
import type { QueuedMutation } from "../mutation-batch.js";
import type { DeploymentInfo } from "../services.js";
import type { FlushFile } from "./wal-sync.js";
import type { MutationJob } from "./writer-protocol.js";

// What the main thread's side of the writer (`writer-client.ts`) is given and gives back.

/** Settings of the writer thread. */
export interface WriterOptions {
  dbPath: string;
  /** The engine's commit counter (`StoreOptions.commitCounter`): the writer's connection bumps it at each commit. */
  commitCounter?: SharedArrayBuffer;
  synchronous?: SynchronousMode;
  deployment: DeploymentInfo;
  /** A mutation running longer than this is stopped (ms). */
  timeoutMs: number;
  /** A commit of the writer, in ts order, once durable and before any answer that depends on it. */
  onCommit(commit: WriterCommit): void;
  /**
   * The same commit as soon as the writer reports it, before it is durable (ts order): for
   * caches that follow what readers of the file can see, never for answers or announcements.
   */
  onCommitWritten?(commit: WriterCommit): void;
  issueUploadToken(): string;
  onLog(path: string, level: LogLevel, line: string): void;
  logInternal(e: unknown): void;
  /** A `BroadcastChannel` the writer posts each commit's written ids on, for the query workers' caches. */
  commitChannel?: string;
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
  /** Time the writer thread was ready to run but waited for a core, so far (ms; null as above). */
  writerRunDelayMs: number | null;
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
