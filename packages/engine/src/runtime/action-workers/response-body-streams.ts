import { EngineError } from "../../errors.js";
import { runWithSyscalls, type SyscallTarget } from "../syscall-router.js";

/**
 * An HTTP action's response body on its way from the action worker to the main thread: a
 * web stream transferred between the threads. Each end wraps it: the worker reads the
 * user's stream in the run's syscall context and learns when it ended (`watchedBody`); the
 * main thread can fail it when the worker is stopped mid-stream (`guardedStream`).
 */

/**
 * Runs on the action worker. A response body as the stream that crosses to the main
 * thread, and when it has been read to its end, cancelled or failed (the error's text).
 * Pull-based: the user's stream is read only as fast as the main thread writes to the
 * socket. Each read runs in the run's syscall context, so code producing the body can still
 * use `ctx` (its pulls are called from the stream's message events, outside the handler's
 * async context).
 */
export function watchedBody(source: ReadableStream<Uint8Array>, target: SyscallTarget): { stream: ReadableStream<Uint8Array>; ended: Promise<string | undefined> } {
  const reader = source.getReader();
  let settle!: (error: string | undefined) => void;
  const ended = new Promise<string | undefined>((resolve) => (settle = resolve));
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await runWithSyscalls(target, () => reader.read());
        if (done) {
          controller.close();
          settle(undefined);
        } else controller.enqueue(value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBufferLike));
      } catch (e) {
        controller.error(e);
        settle(e instanceof Error ? e.message : String(e));
      }
    },
    async cancel(reason) {
      settle(undefined);
      await reader.cancel(reason).catch(() => {});
    },
  });
  return { stream, ended };
}

/**
 * Runs on the main thread. A transferred stream as this thread reads it, and a way to fail
 * it: a stream whose other end was on a terminated worker never settles by itself.
 */
export function guardedStream(source: ReadableStream<Uint8Array>): { stream: ReadableStream<Uint8Array>; fail(reason: string): void } {
  const reader = source.getReader();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let failed = false;
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    async pull(c) {
      const { done, value } = await reader.read();
      if (failed) return;
      if (done) c.close();
      else c.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return {
    stream,
    fail(reason) {
      if (failed) return;
      failed = true;
      controller.error(new EngineError("FunctionStopped", reason));
    },
  };
}
