import { currentSyscallTarget } from "../runtime/syscall-router.js";

/**
 * User code (and the `convex` package's `scheduler.runAfter`, which computes
 * `Date.now() + delay`) reads time through the process-wide `Date.now`. When a
 * deployment's clock runs ahead of the wall clock (after a drain moved it),
 * its functions must see that time too, or an app comparing `_creationTime`
 * with `Date.now()` (the orphan-upload sweep) would disagree with the engine.
 *
 * So `Date.now` is wrapped, lazily and once per process, the first time any
 * deployment's clock moves ahead: inside a function execution whose runtime
 * registered a clock it answers that clock, everywhere else the wall clock.
 * Processes whose clocks never move are never patched. `new Date()` without
 * arguments still reads the wall clock (a documented limitation).
 */

const wallNow: () => number = Date.now.bind(Date);

/** The wall clock, captured before any patch (the deployment clock must be built on this). */
export function wallClock(): number {
  return wallNow();
}

const clocks = new WeakMap<object, () => number>();
let patched = false;

/** Makes functions run by `runtime` see `clock` as `Date.now()` whenever it is ahead of the wall clock. */
export function registerFunctionClock(runtime: object, clock: () => number): void {
  clocks.set(runtime, clock);
}

/** Installs the `Date.now` wrapper (idempotent); called when a registered clock first moves ahead. */
export function enableFunctionClocks(): void {
  if (patched) return;
  patched = true;
  Date.now = function now(): number {
    const target = currentSyscallTarget() as { host?: object } | undefined;
    const clock = target?.host === undefined ? undefined : clocks.get(target.host);
    return clock === undefined ? wallNow() : clock();
  };
}
