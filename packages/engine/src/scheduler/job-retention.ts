import type { Runtime } from "../runtime/runtime.js";
import type { Store } from "../store/store.js";
import { keyAfter, MIN_KEY } from "../values/index-key-codec.js";
import { isFinished, type JobState } from "./job-state.js";
import { jobsByCreation, jobTables } from "./job-table.js";

/** Finished jobs are kept this long after they finish, as on Convex (7 days). */
const FINISHED_JOB_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

/** Jobs looked at per transaction, so a large clean-up never holds the lock long. */
const BATCH = 500;

/**
 * Deletes jobs that finished more than `retentionMs` before `now`, so
 * `_scheduled_functions` (which the scheduler reads in full at start) does
 * not grow forever. Only the part of the table created before the cutoff can
 * hold such jobs, and it is walked in creation order, one transaction per
 * batch; pending jobs scheduled far ahead are passed over. Returns how many
 * jobs were deleted.
 */
export async function pruneFinishedJobs(runtime: Runtime, store: Store, now: number, retentionMs = FINISHED_JOB_RETENTION_MS): Promise<number> {
  let deleted = 0;
  // Each component has its own job table; the table list is read under the lock.
  for (const table of await runtime.readFromAction(() => jobTables(store))) {
    deleted += await pruneTable(runtime, store, table, now - retentionMs);
  }
  return deleted;
}

async function pruneTable(runtime: Runtime, store: Store, table: string, cutoff: number): Promise<number> {
  let from: Uint8Array = MIN_KEY;
  let deleted = 0;
  for (;;) {
    const step = await runtime.transact(() => {
      const rows = store.scan(jobsByCreation(table), { lo: from, hi: null }, "asc", BATCH);
      let removed = 0;
      let reachedCutoff = rows.length < BATCH;
      for (const row of rows) {
        const doc = JSON.parse(row.text) as { _id: string; _creationTime: number; completedTime?: number; state: JobState };
        if (doc._creationTime >= cutoff) {
          reachedCutoff = true;
          break;
        }
        if (isFinished(doc.state.kind) && doc.completedTime !== undefined && doc.completedTime < cutoff) {
          runtime.db.remove(doc._id);
          removed += 1;
        }
      }
      const last = rows.at(-1);
      return { removed, reachedCutoff, next: last === undefined ? null : keyAfter(last.key) };
    });
    deleted += step.removed;
    if (step.reachedCutoff || step.next === null) return deleted;
    from = step.next;
  }
}
