import type { JSONValue } from "convex/values";
import { EngineError } from "../errors.js";
import { checkArgsLimits, checkResultLimits } from "../values/value-limits.js";
import type { ValidationContext } from "../values/validator.js";
import type { CallReporter } from "./call-reporting.js";
import { Execution, type ExecutionHost, type TransactionState } from "./execution.js";
import type { CallOutcome } from "./function-outcome.js";
import type { AppDefinition, RegisteredFunction, UdfKind } from "./function-registry.js";
import type { ReadRecorder } from "./runtime-database.js";
import type { CallRequest, RuntimeOptions } from "./runtime-types.js";
import type { Identity } from "./services.js";
import { runWithSyscalls } from "./syscall-router.js";
import { canonicalUdfPath } from "./udf-path.js";
import { checkArgs, checkReturns } from "./validation.js";
import { Watchdog } from "./watchdog.js";

/** How long a query or mutation may run unless `transactionTimeoutMs` says otherwise. */
export const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Running one function on the runtime's own thread: resolving its path, checking its
 * arguments and return value against Convex's limits and its validators, invoking it with
 * the syscall target installed, and stopping a transaction that runs past its time limit.
 * The main thread uses the checks for every call (workers then only run the function);
 * a writer thread's runtime runs its mutations here.
 */
export class FunctionCalls {
  /** How validators resolve `v.id(table)`; one object, so compiled validators are cached per runtime. */
  readonly validation: ValidationContext;
  private readonly watchdog: Watchdog;

  constructor(
    private readonly host: ExecutionHost,
    private readonly app: () => AppDefinition,
    private readonly reporter: CallReporter,
    private readonly options: RuntimeOptions,
  ) {
    this.validation = { tableNameOf: (n) => host.db.tableNameOfNumber(n) };
    this.watchdog = new Watchdog(options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS);
  }

  /** Resolves a path (of the app, or of `component`) to a function a caller may run, with Convex's messages. */
  resolve(rawPath: string, allowInternal: boolean, expectKind?: UdfKind, component = ""): RegisteredFunction {
    const path = canonicalUdfPath(rawPath);
    const scope = this.app().components.get(component);
    if (scope === undefined) {
      throw new EngineError("ComponentNotFound", `No component is installed at "${component}" (see convex.config.ts).`);
    }
    const fn = scope.functions.get(path);
    if (fn === undefined || (fn.visibility === "internal" && !allowInternal)) {
      const qualifier = allowInternal ? "" : "public ";
      if (component !== "") {
        throw new EngineError("FunctionNotFound", `Could not find ${qualifier}function for '${path}' in component "${component}".`);
      }
      throw new EngineError("FunctionNotFound", `Could not find ${qualifier}function for '${path}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`);
    }
    if (expectKind !== undefined && fn.kind !== expectKind) {
      throw new EngineError(
        "WrongFunctionKind",
        `Trying to execute ${path} as ${capitalize(expectKind)}, but it is defined as ${capitalize(fn.kind)}.`,
      );
    }
    return fn;
  }

  /** Decodes and validates arguments; returns the text the wrapper is invoked with. */
  decodeArgs(fn: RegisteredFunction, raw: JSONValue): string {
    const json = raw ?? {};
    checkArgsLimits(fn.path, json);
    checkArgs(fn, json, this.validation);
    return JSON.stringify([json]);
  }

  /** Checks a return value that crossed from a worker thread; returns it decoded. */
  checkResult(fn: RegisteredFunction, valueText: string): JSONValue {
    const value = JSON.parse(valueText) as JSONValue;
    // Convex's size and nesting limits first: they bound what the (recursive) validator walks.
    checkResultLimits(fn.path, value);
    checkReturns(fn, value, this.validation);
    return value;
  }

  /** Calls the wrapper with the syscall target installed, then checks the return value. */
  async invoke(fn: RegisteredFunction, exec: Execution, argsJson: string): Promise<{ value: JSONValue; text: string }> {
    const text = await runWithSyscalls(exec, () => fn.invoke(argsJson, exec.requestId));
    return { value: this.checkResult(fn, text), text };
  }

  /** Runs a query or mutation in `tx` under the time limit; never throws for the function's own errors. */
  async executeInTransaction(
    fn: RegisteredFunction,
    argsJson: string,
    request: CallRequest,
    logLines: string[],
    tx: TransactionState,
  ): Promise<CallOutcome> {
    const exec = new Execution(
      this.host,
      fn.kind,
      fn.path,
      callerIdentity(fn, request.identity),
      "",
      logLines,
      tx,
      request.scheduledJobId ?? null,
      fn.component,
    );
    try {
      const result = await this.withTimeout(exec, this.invoke(fn, exec, argsJson));
      return { status: "success", value: result.value, valueText: result.text, logLines };
    } catch (e) {
      return this.reporter.errorOutcome(e, logLines);
    } finally {
      exec.finish();
    }
  }

  newTx(writable: boolean, reads: ReadRecorder): TransactionState {
    return { writable, reads, afterCommit: [], touchedScheduler: false, journalIn: null, journalOut: null };
  }

  /** The deployment clock's offset from wall time, sent with every job to a worker thread. */
  clockOffset(): number {
    return this.options.clockOffsetMs?.() ?? 0;
  }

  private withTimeout<T>(exec: Execution, work: Promise<T>): Promise<T> {
    return this.watchdog.guard(work, () => {
      exec.finish();
      const limit = this.options.transactionTimeoutMs ?? DEFAULT_TIMEOUT_MS;
      return new EngineError("FunctionTimeout", `${exec.path} ran longer than ${limit / 1000} s and was stopped; its writes were discarded.`);
    });
  }
}

/**
 * The identity a function runs with. As on Convex, auth does not cross into
 * components: a component's functions see no user (`getUserIdentity()` is
 * null), and neither does anything they call.
 */
export function callerIdentity(fn: RegisteredFunction, identity: Identity | null): Identity | null {
  return fn.component === "" ? identity : null;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
