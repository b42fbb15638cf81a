import type { JSONValue } from "convex/values";
import { EngineError } from "../../errors.js";
import type { Execution } from "../execution.js";
import type { LogLevel } from "../log-capture.js";
import type { SyscallTarget } from "../syscall-router.js";
import { STORAGE_JS_OPS } from "../syscalls/storage-ops.js";
import type { FromActionWorker, WireOpError } from "./action-protocol.js";

/**
 * Ops an action's worker answers itself: they need only the run's own facts (identity,
 * path, request id) and the worker's copy of the app. Every other op goes to the main
 * thread, which runs it with the same handlers as for a function running there.
 */
const LOCAL_OPS = new Set(["1.0/getUserIdentity", "1.0/getFunctionMetadata", "1.0/getDeploymentMetadata", "1.0/getRequestMetadata", "1.0/createFunctionHandle"]);

/**
 * Runs on the action worker. Answers one run's syscalls: local ops through its `Execution`,
 * the others as messages to the main thread, settled by `opResult`. Console lines go to the
 * main thread as they come.
 */
export class RunTarget implements SyscallTarget {
  exec: Execution | null = null;
  private nextOpId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(e: unknown): void }>();
  private finished = false;

  constructor(
    readonly runId: number,
    private readonly post: (message: FromActionWorker) => void,
  ) {}

  readonly log = (level: LogLevel, line: string): void => {
    if (!this.finished) this.post({ kind: "log", runId: this.runId, level, line });
  };

  syscall(op: string, argsJson: string): string {
    // Synchronous ops are the database's, which actions do not have: the execution refuses them.
    return this.execution(op).syscall(op, argsJson);
  }

  syscallValue(op: string, args: JSONValue): JSONValue {
    return this.execution(op).syscallValue(op, args);
  }

  /** The official text protocol (the app's own copy of `convex`, when it is not the substituted one). */
  asyncSyscall(op: string, argsJson: string): Promise<string> {
    try {
      return this.asyncSyscallValue(op, JSON.parse(argsJson) as JSONValue).then((value) => JSON.stringify(value));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The substituted `syscall.js`'s protocol (`convex-shim/`): JSON values in and out. */
  asyncSyscallValue(op: string, args: JSONValue): Promise<JSONValue> {
    try {
      const exec = this.execution(op);
      if (LOCAL_OPS.has(op)) return exec.asyncSyscallValue(op, args);
      return this.forward(op, args, false) as Promise<JSONValue>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  jsSyscall(op: string, args: unknown): unknown {
    const exec = this.execution(op);
    // Only the storage ops need the engine (and answer with a promise); the others (refused
    // features, unknown ops) are answered here, as synchronously as the package expects.
    if (!(op in STORAGE_JS_OPS)) return exec.jsSyscall(op, args);
    return this.forward(op, args, true);
  }

  settle(opId: number, value: unknown, error: WireOpError | undefined): void {
    const waiter = this.pending.get(opId);
    if (waiter === undefined) return;
    this.pending.delete(opId);
    if (error === undefined) waiter.resolve(value);
    // What the `convex` package's syscall wrapper reads of a rejection: message and data (§2.3).
    else waiter.reject(Object.assign(new Error(error.message), error.data === undefined ? {} : { data: error.data as JSONValue }));
  }

  /** The run ended: later syscalls fail as on the main thread, and answers still in flight are dropped. */
  finish(): void {
    this.finished = true;
    this.exec?.finish();
    this.pending.clear();
  }

  private execution(op: string): Execution {
    if (this.exec === null) throw new EngineError("NoFunctions", `${op} was called before the function started.`, "transient");
    if (this.finished) this.exec.assertLive(op);
    return this.exec;
  }

  private forward(op: string, args: unknown, js: boolean): Promise<unknown> {
    const opId = ++this.nextOpId;
    return new Promise((resolve, reject) => {
      this.pending.set(opId, { resolve, reject });
      try {
        this.post({ kind: "op", runId: this.runId, opId, op, args, js });
      } catch (e) {
        // Arguments that cannot cross a thread (a function, a class instance holding one).
        this.pending.delete(opId);
        reject(new EngineError("InvalidArgument", `${op}: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
  }
}
