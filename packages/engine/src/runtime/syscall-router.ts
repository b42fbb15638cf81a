import { AsyncLocalStorage } from "node:async_hooks";
import type { JSONValue, Value } from "convex/values";
import { installConsoleCapture, type LogSink } from "./log-capture.js";

/** What one running function answers syscalls with (see convex-interface.md §2.3). */
export interface SyscallTarget {
  syscall(op: string, argsJson: string): string;
  asyncSyscall(op: string, argsJson: string): Promise<string>;
  jsSyscall(op: string, args: unknown): unknown;
  /** `syscall` with JSON values in and out: the protocol of the substituted `syscall.js` (`convex-shim/`). */
  syscallValue(op: string, args: JSONValue): JSONValue;
  /** `asyncSyscall` with JSON values in and out; `rejected` maps a failure's rejection (`Execution.asyncSyscallValue`). */
  asyncSyscallValue(op: string, args: JSONValue, rejected?: (rejection: unknown) => unknown): Promise<JSONValue>;
  /** Receives the function's console output. */
  log: LogSink;
}

const current = new AsyncLocalStorage<SyscallTarget>();

declare global {
  // The convex package looks this object up as a free global variable. The first three
  // methods are the official package's protocol; the `…Value` ones are the substituted
  // `syscall.js`'s (absent from other implementations, such as convex-test's).
  // eslint-disable-next-line no-var
  var Convex: {
    syscall(op: string, argsJson: string): string;
    asyncSyscall(op: string, argsJson: string): Promise<string>;
    jsSyscall(op: string, args: unknown): unknown;
    syscallValue?(op: string, args: JSONValue): JSONValue;
    asyncSyscallValue?(op: string, args: JSONValue): Promise<JSONValue>;
    /**
     * `asyncSyscallValue` whose failures already reject with the error user code sees
     * (upstream's `performAsyncSyscall` makes it; query workers), so the substituted
     * `syscall.js` returns its promise as it is.
     */
    asyncSyscallSettled?(op: string, args: JSONValue): Promise<JSONValue>;
    /** A function's result as JSON text, from its value and upstream's `convexToJson` (query workers; `convex-shim-plugin.ts`). */
    encodeResult?(result: Value, convexToJson: (value: Value) => JSONValue): string;
  };
}

const OUTSIDE =
  "The Convex database and auth objects are being used outside of a Convex function execution " +
  "(for example from a promise left running after the function returned).";

type ConvexGlobal = typeof globalThis.Convex;

let ours: ConvexGlobal | undefined;
/** Another implementation that was installed before ours (convex-test in a shared test process). */
let previous: ConvexGlobal | undefined;

/**
 * Installs the process-wide `Convex` global (again, if something replaced
 * it). Every engine in the process shares it; each call finds the function
 * it belongs to through AsyncLocalStorage, because functions run
 * concurrently in one thread. Calls from outside our executions go to the
 * implementation that was there before, so convex-test can share a process.
 */
function installGlobal(): void {
  if (ours !== undefined && globalThis.Convex === ours) return;
  if (globalThis.Convex !== undefined && globalThis.Convex !== ours) previous = globalThis.Convex;
  ours ??= {
    syscall(op, argsJson) {
      const target = current.getStore();
      if (target) return target.syscall(op, argsJson);
      if (previous) return previous.syscall(op, argsJson);
      throw new Error(OUTSIDE);
    },
    asyncSyscall(op, argsJson) {
      const target = current.getStore();
      if (target) return target.asyncSyscall(op, argsJson);
      if (previous) return previous.asyncSyscall(op, argsJson);
      return Promise.reject(new Error(OUTSIDE));
    },
    jsSyscall(op, args) {
      const target = current.getStore();
      if (target) return target.jsSyscall(op, args);
      if (previous) return previous.jsSyscall(op, args);
      throw new Error(OUTSIDE);
    },
    // The main thread loads the official package (text protocol); these serve a substituted
    // copy should one run here, and fall back to the text protocol of what was there before.
    syscallValue(op, args) {
      const target = current.getStore();
      if (target) return target.syscallValue(op, args);
      if (previous) return JSON.parse(previous.syscall(op, JSON.stringify(args))) as JSONValue;
      throw new Error(OUTSIDE);
    },
    asyncSyscallValue(op, args) {
      const target = current.getStore();
      if (target) return target.asyncSyscallValue(op, args);
      if (previous) return previous.asyncSyscall(op, JSON.stringify(args)).then((text) => JSON.parse(text) as JSONValue);
      return Promise.reject(new Error(OUTSIDE));
    },
  };
  globalThis.Convex = ours;
  installConsoleCapture(() => current.getStore()?.log);
}

/** Runs `fn` (which calls into user code) with `target` answering its syscalls. */
export function runWithSyscalls<T>(target: SyscallTarget, fn: () => T): T {
  installGlobal();
  return current.run(target, fn);
}

/** The syscall target of the function running in this async context, if any. */
export function currentSyscallTarget(): SyscallTarget | undefined {
  return current.getStore();
}
