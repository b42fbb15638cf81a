import type { JSONValue } from "convex/values";
import type { SynchronousMode } from "../../store/store-options.js";
import type { DocumentWrite } from "../../store/write-set.js";
import type { LogLevel } from "../log-capture.js";
import type { AppSource, WireOutcome } from "../query-workers/worker-protocol.js";
import type { DeploymentInfo, Identity } from "../services.js";

/**
 * Messages between the main thread and the writer worker (`writer-main.ts`), which owns
 * the write connection that mutations commit on, and the control word they share.
 */

/** What the writer is started with (`workerData`). */
export interface WriterStart {
  dbPath: string;
  /** The engine's commit counter, bumped by this thread's connection at each commit; null: none. */
  commitCounter: SharedArrayBuffer | null;
  synchronous: SynchronousMode | undefined;
  deployment: DeploymentInfo;
  app: AppSource | null;
  /** A query or mutation running longer than this fails inside the worker (an awaited promise that never settles). */
  timeoutMs: number;
  /** The control word (`WriterControl`), shared with the main thread's watchdog. */
  control: SharedArrayBuffer;
  /** A `BroadcastChannel` to post each commit's written ids on for the query workers (`CommitNotice`); null: none. */
  commitChannel: string | null;
}

/** One mutation of a batch; the main thread has resolved its path and checked its arguments. */
export interface MutationJob {
  path: string;
  /** The component it belongs to (`""`: the app). */
  component: string;
  args: JSONValue;
  identity: Identity | null;
  idempotencyKey?: { sessionId: string; requestId: number };
  origin: "client" | "action" | "scheduler" | "admin";
}

/** Main → writer. */
export type ToWriter =
  | { kind: "app"; app: AppSource }
  /** Run these mutations in order in one group-committed transaction. */
  /** `syncInline`: the writer fdatasyncs the WAL in the COMMIT (else the main thread syncs it). */
  | { kind: "batch"; id: number; jobs: MutationJob[]; clockOffsetMs: number; syncInline: boolean }
  /** Run a due scheduled mutation in the transaction that flips its job's state. */
  | { kind: "scheduled"; id: number; jobId: string; name: string; component: string; clockOffsetMs: number }
  /** A commit of the main thread's own connection (engine writes). */
  | { kind: "commit"; ts: bigint; previousTs: bigint; ids: string[] }
  | { kind: "reply"; id: number; value?: string; error?: string }
  /** Tests: the next COMMIT fails with this message before it writes anything (as a full disk would). */
  | { kind: "failNextCommit"; message: string };

/** A mutation's outcome on the wire, with the commit ts it is durable at. */
export type WireMutationOutcome = WireOutcome & { ts?: bigint };

/** Writer → main. */
export type FromWriter =
  /** A durable commit, before any answer that depends on it. */
  | { kind: "commit"; ts: bigint; previousTs: bigint; writes: DocumentWrite[]; deletedBlobs: string[]; touchedScheduler: boolean; synced: boolean }
  /** `thread`: the writer thread's CPU and run-queue times so far (null where the OS does not tell). */
  | { kind: "batchDone"; id: number; outcomes: WireMutationOutcome[]; thread: ThreadTimes | null }
  | { kind: "scheduledDone"; id: number; result: "ran" | "skipped" }
  /** The writer needs the main thread (upload tokens live there). */
  | { kind: "request"; id: number; op: "issueUploadToken" }
  | { kind: "log"; path: string; level: LogLevel; line: string }
  | { kind: "internal"; text: string };

/** Wall time both threads agree on, untouched by the deployment clock's `Date.now`. */
function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Control word states: `state` slot. */
export const WriterState = { IDLE: 0, RUNNING: 1, COMMITTING: 2, KILLED: 3 } as const;

/**
 * The shared control word: `[0]` the state (the main thread may terminate the writer
 * only by moving it RUNNING → KILLED, and the writer commits only by moving it RUNNING →
 * COMMITTING, both with compareExchange, so a kill never lands during a COMMIT), `[1]`
 * the index in its batch of the mutation running, and a float64 at byte 8: when it
 * started (`performance.timeOrigin + performance.now()`).
 */
export class WriterControl {
  readonly words: Int32Array;
  private readonly started: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(16)) {
    this.words = new Int32Array(buffer, 0, 2);
    this.started = new Float64Array(buffer, 8, 1);
  }

  /** Writer: user code (or engine work before the commit) of item `index` starts now. */
  running(index: number): void {
    Atomics.store(this.words, 1, index);
    this.started[0] = absoluteNow();
    Atomics.store(this.words, 0, WriterState.RUNNING);
  }

  /** Writer: about to COMMIT; false when the main thread has already claimed a kill. */
  beginCommit(): boolean {
    return Atomics.compareExchange(this.words, 0, WriterState.RUNNING, WriterState.COMMITTING) === WriterState.RUNNING;
  }

  /**
   * Writer: the COMMIT is done (or failed). The state goes to IDLE, not back to RUNNING:
   * no user code of the batch runs after its commit, and a kill claimed now would make
   * the main thread re-run mutations that are already durable.
   */
  endCommit(): void {
    Atomics.compareExchange(this.words, 0, WriterState.COMMITTING, WriterState.IDLE);
  }

  /** Writer: nothing runs. */
  idle(): void {
    Atomics.store(this.words, 0, WriterState.IDLE);
  }

  /** Main: the running item's index and how long it has run (ms), or null when the writer is not running user code. */
  runningFor(): { index: number; ms: number } | null {
    if (Atomics.load(this.words, 0) !== WriterState.RUNNING) return null;
    return { index: Atomics.load(this.words, 1), ms: absoluteNow() - this.started[0]! };
  }

  /** Main: claims the kill; true only if the writer was running user code (never mid-COMMIT). */
  claimKill(): boolean {
    return Atomics.compareExchange(this.words, 0, WriterState.RUNNING, WriterState.KILLED) === WriterState.RUNNING;
  }

  /** Main: the state right now. */
  state(): number {
    return Atomics.load(this.words, 0);
  }
}

/** A thread's CPU time, and the time it was ready to run but waited for a core (ms since it started). */
export interface ThreadTimes {
  cpuMs: number;
  runDelayMs: number;
}
