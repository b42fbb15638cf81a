import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";

/**
 * Lowers the OS scheduling priority of the calling thread by `niceness` (Linux, where a
 * thread is a task with an id of its own under /proc/thread-self; anywhere else, or if
 * the system refuses, nothing changes). Raising one's own nice value needs no privilege.
 * Returns true when it was applied. Runs on the thread it lowers.
 */
export function lowerThisThreadPriority(niceness: number): boolean {
  if (niceness <= 0 || process.platform !== "linux") return false;
  try {
    const tid = Number(readlinkSync("/proc/thread-self").split("/").pop());
    if (!Number.isSafeInteger(tid) || tid <= 0) return false;
    setPriority(tid, Math.min(19, niceness));
    return true;
  } catch {
    return false;
  }
}
