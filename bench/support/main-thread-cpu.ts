import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of this process's main thread (ms): the scheduler's nanosecond count for the
 * task whose id is the pid (Linux `schedstat`); NaN elsewhere. The engine's other threads
 * (query workers, the writer, GC helpers) are not in it.
 */
export function mainThreadCpuMs(): number {
  try {
    // schedstat: time on the CPU (ns), time waiting to run (ns), timeslices.
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
  } catch {
    return NaN;
  }
}

/** CPU time (ms) of this process's threads, split by role. */
export interface ThreadCpu {
  main: number;
  /**
   * Threads running at a lower priority than the main thread: the query workers, which
   * lower their own (`thread-priority.ts`, Linux); nothing else in the engine does.
   */
  queryWorkers: number;
  /** Everything else: the writer, V8's GC and compiler helpers, libuv's pool, the checkpointer. */
  other: number;
}

/**
 * CPU time of every live thread of this process (Linux `/proc/self/task`), split into
 * {@link ThreadCpu}; NaNs elsewhere. Threads that ended meanwhile drop out of later
 * readings, so take differences over stretches in which no worker is replaced.
 */
export function threadCpuMs(): ThreadCpu {
  const split: ThreadCpu = { main: 0, queryWorkers: 0, other: 0 };
  try {
    const niceOf = (tid: string) => Number(readFileSync(`/proc/self/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);
    const mainNice = niceOf(String(process.pid));
    for (const tid of readdirSync("/proc/self/task")) {
      let cpu: number;
      let nice: number;
      try {
        cpu = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, "utf8").split(" ")[0]) / 1e6;
        nice = niceOf(tid);
      } catch {
        continue; // the thread ended while we read
      }
      if (tid === String(process.pid)) split.main += cpu;
      else if (nice > mainNice) split.queryWorkers += cpu;
      else split.other += cpu;
    }
    return split;
  } catch {
    return { main: NaN, queryWorkers: NaN, other: NaN };
  }
}
