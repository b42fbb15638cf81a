import { AsyncLocalStorage } from "node:async_hooks";
import { installConsoleCapture, type LogSink } from "./log-capture.js";

/** What one running function answers syscalls with (see convex-interface.md §2.3). */
export interface SyscallTarget {
  syscall(op: string, argsJson: string): string;
  asyncSyscall(op: string, argsJson: string): Promise<string>;
  jsSyscall(op: string, args: unknown): unknown;
  /** Receives the function's console output. */
  log: LogSink;
}

const current = new AsyncLocalStorage<SyscallTarget>();

declare global {
  // The convex package looks this object up as a free global variable.
  // eslint-disable-next-line no-var
  var Convex: {
    syscall(op: string, argsJson: string): string;
    asyncSyscall(op: string, argsJson: string): Promise<string>;
    jsSyscall(op: string, args: unknown): unknown;
  };
}

const OUTSIDE =
  "The Convex database and auth objects are being used outside of a Convex function execution " +
  "(for example from a promise left running after the function returned).";

/**
 * Installs the process-wide `Convex` global once. Every engine in the process
 * shares it; each call finds the function it belongs to through
 * AsyncLocalStorage, because functions run concurrently in one thread.
 */
function installGlobal(): void {
  if (globalThis.Convex !== undefined) return;
  globalThis.Convex = {
    syscall(op, argsJson) {
      const target = current.getStore();
      if (!target) throw new Error(OUTSIDE);
      return target.syscall(op, argsJson);
    },
    asyncSyscall(op, argsJson) {
      const target = current.getStore();
      if (!target) return Promise.reject(new Error(OUTSIDE));
      return target.asyncSyscall(op, argsJson);
    },
    jsSyscall(op, args) {
      const target = current.getStore();
      if (!target) throw new Error(OUTSIDE);
      return target.jsSyscall(op, args);
    },
  };
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
