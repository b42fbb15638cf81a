import { AsyncLocalStorage } from "node:async_hooks";
import type { Execution } from "../execution.js";
import { installConsoleCapture } from "../log-capture.js";
import type { SyscallTarget } from "../syscall-router.js";
import { resultText } from "../../values/result-json.js";
import { checkedResultText, type ResultChecks } from "../../values/result-encoder.js";
import { asyncSyscallError } from "../convex-shim/syscall-errors.js";

/**
 * The `Convex` global of a query worker thread (see `syscall-router.ts` for the main
 * thread's). The worker runs one query at a time, so the execution answering syscalls is
 * a plain variable, not AsyncLocalStorage: only a nested `ctx.runQuery` (rare in queries)
 * enters an AsyncLocalStorage scope, so that its syscalls and its caller's overlapping
 * ones each reach their own execution.
 */

/** The execution of the query this worker runs (one at a time). */
let current: Execution | null = null;
/** Set only inside a nested `ctx.runQuery`, whose syscalls may interleave with its caller's. */
const nested = new AsyncLocalStorage<SyscallTarget>();

/** The checks of each running query's result, run as its wrapper encodes it (see `encodeResult`), and what they found. */
const checks = new WeakMap<SyscallTarget, ResultChecks>();
const checked = new WeakMap<SyscallTarget, { failure: unknown }>();

/**
 * Has `resultChecks` run on `exec`'s result when its wrapper encodes it through this
 * global: at once, before any other code of the query can run (the JSON value checked may
 * be the result object itself, which a stray promise could change later).
 */
export function checkResultAsEncoded(exec: Execution, resultChecks: ResultChecks): void {
  checks.set(exec, resultChecks);
}

/** Whether `exec`'s result was checked as it was encoded, and the error the check threw (undefined if none). */
export function checkedAsEncoded(exec: Execution): { failure: unknown } | undefined {
  const outcome = checked.get(exec);
  checked.delete(exec);
  checks.delete(exec);
  return outcome;
}

/** Runs `call` with `exec` answering the syscalls of the top-level query. */
export async function asCurrent<T>(exec: Execution, call: () => Promise<T>): Promise<T> {
  const outer = current;
  current = exec;
  try {
    return await call();
  } finally {
    current = outer;
  }
}

/** Runs `call` (a nested `ctx.runQuery`) with `exec` answering its syscalls. */
export function asNested<T>(exec: Execution, call: () => Promise<T>): Promise<T> {
  return nested.run(exec, call);
}

/** True while a query runs (functions see the deployment's clock only then). */
export function isRunning(): boolean {
  return current !== null;
}

function target(): SyscallTarget {
  const t = nested.getStore() ?? current;
  if (t === null || t === undefined) {
    throw new Error("The Convex database and auth objects are being used outside of a Convex function execution.");
  }
  return t;
}

/** Installs the worker's `Convex` global and console capture (once per worker). */
export function installWorkerGlobal(): void {
  globalThis.Convex = {
    syscall: (op, argsJson) => target().syscall(op, argsJson),
    asyncSyscall: (op, argsJson) => asPromise(() => target().asyncSyscall(op, argsJson)),
    jsSyscall: (op, args) => target().jsSyscall(op, args),
    // The worker's copy of `convex/server` is the substituted one (`convex-shim/`): values, not text.
    syscallValue: (op, args) => target().syscallValue(op, args),
    asyncSyscallValue: (op, args) => {
      // Inline rather than through `asPromise`: no closure per call.
      try {
        return target().asyncSyscallValue(op, args);
      } catch (e) {
        return Promise.reject(e);
      }
    },
    // The substituted `syscall.js` takes this one: the error user code sees is made where
    // a syscall fails, so an answer (nearly every one is a value at once) is no more than
    // `Promise.resolve` of it, without a `then` per call to map failures.
    asyncSyscallSettled: (op, args) => {
      try {
        return target().asyncSyscallValue(op, args, asyncSyscallError);
      } catch (e) {
        return Promise.reject(asyncSyscallError(e));
      }
    },
    // The wrapper's result, as upstream encodes it. Its value is checked here and now (see
    // `checkResultAsEncoded`), by the walk that encodes it as far as that proves, else by
    // the usual checks, limits first; an error is kept for `WorkerQueryHost.invoke` to
    // throw, as when it checked the parsed text.
    encodeResult: (result, convexToJson) => {
      const exec = target();
      const resultChecks = checks.get(exec);
      if (resultChecks === undefined) return resultText(result, convexToJson).text;
      const { text, failure } = checkedResultText(result, convexToJson, resultChecks);
      checked.set(exec, { failure });
      return text;
    },
  };
  installConsoleCapture(() => (nested.getStore() ?? current)?.log);
}

/** An async syscall's promise; a synchronous throw (no execution running) becomes its rejection. */
function asPromise<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (e) {
    return Promise.reject(e);
  }
}
