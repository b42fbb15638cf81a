/**
 * How long a function on a worker thread has been running, shared with the main thread's
 * watchdog through memory: a worker busy in a CPU-bound loop answers no message, so the
 * watchdog must read its clock itself. The worker starts the clock when the function's own
 * code starts (after loading the app, so a cold worker does not eat into the limit) and
 * stops it when the function has ended. Actions are limited in wall time, as on Convex:
 * awaited calls count.
 *
 * Layout: one SharedArrayBuffer of 8 bytes, a float64 with the absolute start time in
 * milliseconds (0: nothing runs). An aligned float64 store is a single machine write.
 */
export class RunClock {
  private readonly slots: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.slots = new Float64Array(buffer, 0, 1);
  }

  /** Worker: the function's own code starts now. */
  start(): void {
    this.slots[0] = absoluteNow();
  }

  /** Worker: the function ended; nothing runs. */
  stop(): void {
    this.slots[0] = 0;
  }

  /** Main: how long the running function has run, or null when none runs. */
  read(now: number = absoluteNow()): { wallMs: number } | null {
    const started = this.slots[0]!;
    return started === 0 ? null : { wallMs: now - started };
  }
}

/** Wall time every thread agrees on (each thread's `performance.now()` has its own origin), untouched by a patched `Date.now`. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Convex's message for a function stopped at its time limit (the isolate's `UserTimeoutError`; Rust's `Duration` debug form). */
export function userTimeoutMessage(limitMs: number): string {
  return `Function execution timed out (maximum duration: ${durationText(limitMs)})`;
}

/** Convex's message for a Node.js action stopped at its time limit (its node executor's). */
export function actionTimeoutMessage(path: string, limitMs: number): string {
  return `Action \`${path}\` execution timed out (maximum duration ${Number((limitMs / 1000).toFixed(3))}s)`;
}

/** `1s`, `1.5s`, `600s`, `250ms`: as Rust prints a `Duration`. */
function durationText(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(3))}s` : `${Number(ms.toFixed(3))}ms`;
}
