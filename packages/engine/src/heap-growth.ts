import { setFlagsFromString } from "node:v8";
import { EngineError } from "./errors.js";

/**
 * How far V8 lets a heap's old generation grow past what survived its last full collection
 * before it starts the next one, for the whole process (V8 flags are process-wide: the main
 * thread, the query workers and the writer alike).
 *
 * Left to itself, V8 picks the factor after each full collection from how fast it marked
 * against how fast the program allocated, between 1.1 and 4. It counts only the time the
 * JavaScript thread spent, not its helper threads' concurrent marking. The engine's main
 * thread holds every session's subscriptions (~61 MB live for 1,000 signed-in feed viewers)
 * and promotes a few MB of per-subscriber results in each fan-out, so V8 judges marking cheap,
 * keeps the limit a few MB above the live heap and marks all of it about once per like,
 * freeing 2-5 MB each time: on a machine whose cores are busy with the fan-out itself, that
 * marking is CPU taken from the queries. Measured in `bench/sync-fanout.bench.ts` (1,000
 * distinct subscribers, 8 likes, --trace-gc, one loaded run each): V8's own factor made 8 full
 * collections of the main heap during the likes, each after 80-211 ms of incremental marking,
 * 7 of them freeing 2-5 MB of 64-67; with 2, two; the threads besides the main thread and the
 * query workers (V8's helpers) 31-277 against 26-138 ms of CPU per like, the engine's median
 * 874 against 686 ms. A fixed factor of 2 bounds what the heap may hold to twice its live
 * size. A process started with its own `--heap-growing-percent` keeps it. Written here because
 * no library sets V8 flags: `node:v8` is the one way to do it from inside.
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 100;

/**
 * The V8 flag `percent` asks for, or null when there is none to set: 0 (V8's own
 * heuristic), or a process whose command line already chose (`execArgv`; NODE_OPTIONS may
 * not carry this flag).
 */
export function heapGrowingFlag(percent: number, execArgv: readonly string[]): string | null {
  if (!Number.isSafeInteger(percent) || percent < 0 || percent > 1000) {
    throw new EngineError("InvalidOption", `heapGrowingPercent must be an integer from 0 to 1000, not ${percent}.`);
  }
  if (percent === 0) return null;
  if (execArgv.some((arg) => /^--heap[-_]growing[-_]percent(=|$)/.test(arg))) return null;
  return `--heap-growing-percent=${percent}`;
}

/** Sets `heapGrowingFlag`'s flag for this process, if any (on the thread that starts the engine). */
export function applyHeapGrowth(percent: number = DEFAULT_HEAP_GROWING_PERCENT): void {
  const flag = heapGrowingFlag(percent, process.execArgv);
  if (flag !== null) setFlagsFromString(flag);
}
