import type { Worker } from "node:worker_threads";
import type { JSONValue } from "convex/values";
import { EngineError } from "../../errors.js";
import type { LogLevel } from "../log-capture.js";
import type { WireOutcome } from "../query-workers/worker-protocol.js";
import type { DeploymentInfo } from "../services.js";
import { actionTimeoutMessage, absoluteNow, RunClock, userTimeoutMessage } from "../run-clock.js";
import { WorkerPool } from "../worker-pool.js";
import { guardedStream } from "./response-body-streams.js";
import type { ActionRun, ActionWorkerStart, NewActionRun, FromActionWorker, ToActionWorker, WireOpError, WireResponseHead } from "./action-protocol.js";

/** Settings of an action worker pool. */
export interface ActionPoolOptions {
  /** Most worker threads, which is the most actions and HTTP actions running at once (one each). */
  size: number;
  deployment: DeploymentInfo;
  /** A run longer than this (wall time from the start of its own code) is stopped by terminating its worker (ms). */
  timeoutMs: number;
  /** Engine faults inside a worker. */
  logInternal(e: unknown): void;
}

/** What the main thread does for one run: answers its ops and takes its console lines. */
export interface RunBridge {
  /** Runs an op of the function (an async op's decoded arguments, or a JS op's raw ones). */
  op(op: string, args: unknown, js: boolean): Promise<unknown>;
  log(level: LogLevel, line: string): void;
  /** An HTTP action's response head; its body stream fails if the run is stopped while it streams. */
  response?(head: WireResponseHead): void;
}

/** How a run ended: with an outcome (an action, or an HTTP action that failed before it answered), or after its response. */
export type RunEnd = { outcome: WireOutcome } | { responded: true; error?: string };

interface Pending {
  run: ActionRun;
  /** Called by a running action (`ctx.runAction`): may start a worker beyond `size`, so nested calls never wait on their own callers. */
  nested: boolean;
  bridge: RunBridge;
  resolve(end: RunEnd): void;
  assignedAt: number;
  /** Fails the response body on this thread when the run is stopped mid-stream. */
  failBody: ((reason: string) => void) | null;
}

interface Slot {
  worker: Worker;
  clock: RunClock;
  pending: Pending | null;
  idleSince: number;
}

/** A worker whose code has not started its run after this long is stopped too (a hung app load). */
const START_ALLOWANCE_MS = 60_000;
/** Idle workers beyond the first are ended after this long, returning their memory. */
const IDLE_MS = 30_000;

/**
 * Actions and HTTP actions on worker threads (runs on the main thread). One run per worker
 * at a time: a CPU-bound action holds only its own thread, and stopping it at its time
 * limit (terminating that thread, the only way to interrupt a loop) ends nothing else.
 * Workers start as runs come, up to `size` (Convex's concurrent-action limit); runs beyond
 * it wait in order. An action is never run twice: a run whose worker died fails with a
 * message (the action may have done part of its work), it is not retried.
 */
export class ActionWorkerPool extends WorkerPool<Slot, Pending, FromActionWorker> {
  constructor(private readonly options: ActionPoolOptions) {
    super("action", options.logInternal);
  }

  /**
   * Runs an action or HTTP action on a worker (queued while every worker is busy); resolves
   * when it ended. `nested`: an action called by a running action, which holds a worker
   * while it waits; it goes first and may start a worker beyond `size` (else `size`
   * actions each calling another would wait on each other forever).
   */
  run(run: NewActionRun, bridge: RunBridge, nested = false): Promise<RunEnd> {
    if (this.closed) return Promise.resolve(failure("The engine is shutting down."));
    return new Promise((resolve) => {
      const pending: Pending = { run: { ...run, id: ++nextRunId } as ActionRun, nested, bridge, resolve, assignedAt: 0, failBody: null };
      if (nested) this.queue.unshift(pending);
      else this.queue.push(pending);
      this.dispatch();
    });
  }

  /** How many runs are waiting for a worker (all `size` are busy). */
  get waiting(): number {
    return this.queue.length;
  }

  protected dispatch(): void {
    while (this.queue.length > 0 && !this.closed) {
      const idle = this.slots.find((s) => s.pending === null);
      if (idle !== undefined) {
        this.assign(idle, this.queue.shift()!);
        continue;
      }
      if (this.slots.length >= this.options.size && !this.queue[0]!.nested) return;
      if (this.startWorker("The action executor could not start.") === null) return;
    }
  }

  protected newSlot() {
    const clock = new RunClock();
    const start: ActionWorkerStart = { deployment: this.options.deployment, app: this.app, clock: clock.buffer };
    return { workerData: start, slot: { clock, pending: null, idleSince: performance.now() } };
  }

  private assign(slot: Slot, pending: Pending): void {
    slot.pending = pending;
    pending.assignedAt = performance.now();
    const body = pending.run.kind === "httpAction" ? pending.run.body : null;
    slot.worker.postMessage({ kind: "run", run: pending.run } satisfies ToActionWorker, body === null ? [] : [body as never]);
    // One timer for all runs: stops a run's worker once it passes the time limit, and ends long-idle workers.
    this.armWatchdog(Math.max(5, Math.min(250, Math.floor(this.options.timeoutMs / 10))));
  }

  protected onMessage(slot: Slot, message: FromActionWorker): void {
    if (message.kind === "internal") {
      this.options.logInternal(new Error(`action worker: ${message.text}`));
      return;
    }
    const pending = slot.pending;
    // A message of a run that was already stopped (or answered) is late: dropped.
    if (pending === null || pending.run.id !== message.runId) return;
    switch (message.kind) {
      case "op":
        pending.bridge.op(message.op, message.args, message.js).then(
          (value) => this.reply(slot, pending, { kind: "opResult", runId: message.runId, opId: message.opId, value }),
          (e: unknown) => this.reply(slot, pending, { kind: "opResult", runId: message.runId, opId: message.opId, error: wireError(e) }),
        );
        return;
      case "log":
        pending.bridge.log(message.level, message.line);
        return;
      case "done":
        this.finish(slot, { outcome: message.outcome });
        return;
      case "response": {
        const head = message.head;
        if (head.body !== null) {
          const guarded = guardedStream(head.body);
          pending.failBody = guarded.fail;
          head.body = guarded.stream;
        }
        pending.bridge.response?.(head);
        return;
      }
      case "responseEnd":
        this.finish(slot, message.error === undefined ? { responded: true } : { responded: true, error: message.error });
        return;
    }
  }

  private reply(slot: Slot, pending: Pending, message: ToActionWorker): void {
    if (slot.pending !== pending || !this.slots.includes(slot)) return;
    try {
      slot.worker.postMessage(message);
    } catch (e) {
      // A value that cannot cross (none of the ops answers one); the run learns of it as a failed op.
      if (message.kind === "opResult") slot.worker.postMessage({ ...message, value: undefined, error: wireError(e) });
    }
  }

  private finish(slot: Slot, end: RunEnd): void {
    const pending = slot.pending!;
    slot.pending = null;
    slot.idleSince = performance.now();
    pending.resolve(end);
    this.dispatch();
  }

  /** A worker exited on its own (a crash; our kills take the slot out first): its run fails, never runs again. */
  protected lost(slot: Slot): void {
    const pending = slot.pending;
    slot.pending = null;
    if (pending !== null) this.stop(pending, `The action executor running ${describe(pending.run)} stopped unexpectedly; the function may have done part of its work.`);
    this.dispatch();
  }

  protected fail(pending: Pending, message: string): void {
    pending.resolve(failure(message));
  }

  protected closing(slot: Slot): void {
    const pending = slot.pending;
    slot.pending = null;
    if (pending !== null) this.stop(pending, "The engine stopped while this function ran.");
  }

  /** Answers a stopped run: with an error outcome, or (its response already under way) by failing its body. */
  private stop(pending: Pending, message: string): void {
    if (pending.failBody !== null) {
      pending.failBody(message);
      pending.resolve({ responded: true, error: message });
    } else pending.resolve(failure(message));
  }

  /** Stops the runs past their time limit (or whose code never started) and ends long-idle workers. */
  protected watch(now: number): boolean {
    const absolute = absoluteNow();
    let busy = false;
    for (const slot of [...this.slots]) {
      const pending = slot.pending;
      if (pending === null) {
        if (now - slot.idleSince > IDLE_MS && this.slots.filter((s) => s.pending === null).length > 1) this.stopWorker(slot);
        continue;
      }
      busy = true;
      const ran = slot.clock.read(absolute)?.wallMs ?? 0;
      const hung = now - pending.assignedAt > this.options.timeoutMs + START_ALLOWANCE_MS;
      if (ran < this.options.timeoutMs && !hung) continue;
      slot.pending = null;
      this.stopWorker(slot);
      this.stop(pending, timeoutMessage(pending.run, this.options.timeoutMs));
    }
    return busy || this.slots.length > 1;
  }
}

let nextRunId = 0;

/** Convex's message for the kind of run: a Node.js action's, or the isolate's for an HTTP action. */
function timeoutMessage(run: ActionRun, limitMs: number): string {
  return run.kind === "action" ? actionTimeoutMessage(run.path, limitMs) : userTimeoutMessage(limitMs);
}

function describe(run: ActionRun): string {
  return run.kind === "action" ? run.path : `${run.method} ${run.routedPath}`;
}

function failure(message: string): RunEnd {
  return { outcome: { status: "error", errorMessage: message, logLines: [] } };
}

/** A rejection as the worker's syscall wrapper reads it: message, and ConvexError data (§2.3). */
function wireError(e: unknown): WireOpError {
  if (typeof e === "object" && e !== null && "message" in e) {
    const { message, data } = e as { message: unknown; data?: unknown };
    const wire: WireOpError = { message: String(message) };
    if (data !== undefined && !(e instanceof EngineError)) wire.data = data as JSONValue;
    return wire;
  }
  return { message: String(e) };
}
