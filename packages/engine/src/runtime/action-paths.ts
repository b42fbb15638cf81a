import type { JSONValue } from "convex/values";
import type { CallReporter } from "./call-reporting.js";
import { Execution, type ExecutionHost } from "./execution.js";
import { callerIdentity, type FunctionCalls } from "./function-calls.js";
import { newRequestId, type CallOutcome } from "./function-outcome.js";
import type { RegisteredFunction } from "./function-registry.js";
import type { ActionWorkerPool, RunBridge, RunEnd } from "./action-workers/action-pool.js";
import type { HttpActionJob } from "./action-workers/action-protocol.js";
import type { CallRequest, RuntimeOptions } from "./runtime-types.js";
import type { Identity } from "./services.js";

/** What the action paths share with the runtime that owns them. */
export interface ActionPathDeps {
  /** The host the actions' executions answer their ops through (the runtime). */
  readonly host: ExecutionHost;
  /** Actions and HTTP actions on worker threads, or null to run them on this thread. */
  readonly actionPool: ActionWorkerPool | null;
  readonly calls: FunctionCalls;
  readonly reporter: CallReporter;
  readonly options: RuntimeOptions;
  /** True while the action pool has the loaded app's code. */
  poolHasApp(): boolean;
}

/**
 * Actions and HTTP actions, seen from the runtime's thread (the main thread): they run
 * concurrently, outside the lock, on an action worker when the pool has the app (this
 * thread answers their ops on an `Execution` of its own) or else here.
 */
export class ActionPaths {
  constructor(private readonly deps: ActionPathDeps) {}

  async runAction(fn: RegisteredFunction, argsJson: string, request: CallRequest, logLines: string[]): Promise<CallOutcome> {
    if (this.deps.poolHasApp()) return this.actionOnWorker(fn, argsJson, request, logLines);
    const exec = new Execution(
      this.deps.host,
      "action",
      fn.path,
      callerIdentity(fn, request.identity),
      newRequestId(this.deps.options.random),
      logLines,
      null,
      request.scheduledJobId ?? null,
      fn.component,
    );
    try {
      const result = await this.deps.calls.invoke(fn, exec, argsJson);
      return { status: "success", value: result.value, valueText: result.text, logLines };
    } catch (e) {
      return this.deps.reporter.errorOutcome(e, logLines);
    } finally {
      exec.finish();
    }
  }

  /**
   * An HTTP action on a worker thread (`http-action-runner.ts` found its route): `exec`
   * answers its ops here, `response` receives its response head. Resolves when it ended.
   */
  httpActionOnWorker(run: Omit<HttpActionJob, "id" | "clockOffsetMs">, exec: Execution, response: NonNullable<RunBridge["response"]>): Promise<RunEnd> {
    return this.deps.actionPool!.run({ ...run, clockOffsetMs: this.deps.calls.clockOffset() }, { ...workerBridge(exec), response });
  }

  /** A fresh execution for an HTTP action (no transaction; concurrent). */
  newHttpActionExecution(path: string, identity: Identity | null, logLines: string[]): Execution {
    return new Execution(this.deps.host, "httpAction", path, identity, newRequestId(this.deps.options.random), logLines, null);
  }

  /**
   * An action on a worker thread. This thread resolved it and checked its arguments; it
   * answers the action's ops on an execution of its own (the same handlers as for an
   * action running here: `runQuery` to the query workers, `runMutation` to the writer,
   * the scheduler, storage) and checks the return value.
   */
  private async actionOnWorker(fn: RegisteredFunction, argsJson: string, request: CallRequest, logLines: string[]): Promise<CallOutcome> {
    const { calls } = this.deps;
    const identity = callerIdentity(fn, request.identity);
    const requestId = newRequestId(this.deps.options.random);
    const scheduledJobId = request.scheduledJobId ?? null;
    const exec = new Execution(this.deps.host, "action", fn.path, identity, requestId, logLines, null, scheduledJobId, fn.component);
    try {
      const end = await this.deps.actionPool!.run(
        { kind: "action", path: fn.path, component: fn.component, argsJson, identity, requestId, scheduledJobId, clockOffsetMs: calls.clockOffset() },
        workerBridge(exec),
        request.origin === "action",
      );
      const outcome = "outcome" in end ? end.outcome : { status: "error" as const, errorMessage: end.error ?? "The action ended without an outcome.", logLines: [] };
      if (outcome.status === "error") return { ...outcome, logLines };
      const value = calls.checkResult(fn, outcome.valueText);
      return { status: "success", value, valueText: outcome.valueText, logLines };
    } catch (e) {
      return this.deps.reporter.errorOutcome(e, logLines);
    } finally {
      exec.finish();
    }
  }
}

/** How the action pool reaches a run's execution on this thread: its ops and its console lines. */
function workerBridge(exec: Execution): RunBridge {
  return {
    op(op, args, js) {
      if (!js) return exec.asyncSyscallValue(op, args as JSONValue);
      try {
        return Promise.resolve(exec.jsSyscall(op, args));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    log: (level, line) => exec.log(level, line),
  };
}
