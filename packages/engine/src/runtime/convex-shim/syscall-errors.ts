import { ConvexError, jsonToConvex, type JSONValue, type Value } from "convex/values";

/**
 * What a failed async syscall throws in user code, as upstream's `performAsyncSyscall`
 * makes it from the engine's rejection: a ConvexError when the rejection carries `data`
 * (Convex JSON), else an `Error` with its message. Shared by `syscall.ts` and the query
 * builder's `take()` (`query-impl.ts`), whose one synchronous syscall reports a failure
 * of its reading this way, as the async syscall that read before did.
 */
export function asyncSyscallError(rejection: unknown): Error {
  const failure = rejection as { message: string; data?: JSONValue };
  if (failure.data !== undefined) {
    const rethrown = new ConvexError<Value>(failure.message);
    rethrown.data = jsonToConvex(failure.data);
    return rethrown;
  }
  return new Error(failure.message);
}

/** The mark of the engine's `AsyncFailure` (`syscalls/op-types.ts`). */
const ASYNC_FAILURE = Symbol.for("convex-local.asyncFailure");

/** Whether `thrown` is the engine's `AsyncFailure`: a failure to throw as a failed async syscall. */
export function isAsyncFailure(thrown: unknown): thrown is { rejection: unknown } {
  return typeof thrown === "object" && thrown !== null && ASYNC_FAILURE in thrown;
}
