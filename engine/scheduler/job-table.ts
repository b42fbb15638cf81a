import type { Store } from "../store/store.js";
import { keyAfter, MIN_KEY } from "../values/index-key-codec.js";
import { SCHEDULED_FUNCTIONS_TABLE } from "../runtime/syscalls/schedule-ops.js";
import type { JobEntry, JobState } from "./job-state.js";

/**
 * Reading `_scheduled_functions` in creation order. The store does not accept
 * indexes on system tables (schema JSON with `_` tables is refused), so the
 * scheduler has no "pending by time" index to ask. Instead it reads the table
 * once at start and then only its tail: jobs are only ever inserted (ids and
 * `_creationTime` never change, and creation times strictly increase across
 * commits), so every new job appears after the last key read. Callers must
 * hold the runtime lock, so no uncommitted write is visible.
 */

/** `_scheduled_functions` in creation order; the retention pass walks it too. */
export const JOBS_BY_CREATION = `${SCHEDULED_FUNCTIONS_TABLE}.by_creation_time`;
const BATCH = 500;

/** Jobs created after `after` (null: from the start), in creation order, and the last key seen. */
export function readJobsAfter(store: Store, after: Buffer | null): { jobs: JobEntry[]; lastKey: Buffer | null } {
  const jobs: JobEntry[] = [];
  let lastKey = after;
  for (;;) {
    const lo = lastKey === null ? MIN_KEY : keyAfter(lastKey);
    const rows = store.scan(JOBS_BY_CREATION, { lo, hi: null }, "asc", BATCH);
    for (const row of rows) jobs.push(decodeJob(row.key, row.text));
    if (rows.length > 0) lastKey = rows[rows.length - 1].key;
    if (rows.length < BATCH) return { jobs, lastKey };
  }
}

function decodeJob(key: Buffer, text: string): JobEntry {
  const doc = JSON.parse(text) as { _id: string; name: string; scheduledTime: number; state: JobState };
  return { id: doc._id, name: doc.name, scheduledTime: Number(doc.scheduledTime), state: doc.state.kind, key };
}
