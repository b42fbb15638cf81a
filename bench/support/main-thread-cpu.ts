import { readFileSync } from "node:fs";

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
