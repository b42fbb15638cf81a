import type { Store } from "../store/store.js";
import { keyAfter, MIN_KEY } from "../values/index-key-codec.js";
import { componentOfTable } from "../values/table-names.js";
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
 *
 * Every component has its own `_scheduled_functions` (`"pool/_scheduled_functions"`
 * in the store); each is read the same way, with its own last key.
 */

const BATCH = 500;

/** Every job table in the store: the app's and each component's. */
export function jobTables(store: Store): string[] {
  return store
    .listTables()
    .map((t) => t.name)
    .filter((name) => componentOfTable(name).table === SCHEDULED_FUNCTIONS_TABLE);
}

/** A job table's `by_creation_time` index, which the scheduler and the retention pass walk. */
export function jobsByCreation(table: string): string {
  return `${table}.by_creation_time`;
}

/**
 * Jobs created after the last key read of each job table (a table not in
 * `lastKeys` is read from the start), in creation order per table; the keys
 * are moved on.
 */
export function readNewJobs(store: Store, lastKeys: Map<string, Buffer | null>): JobEntry[] {
  const jobs: JobEntry[] = [];
  for (const table of jobTables(store)) {
    const component = componentOfTable(table).component;
    let lastKey = lastKeys.get(table) ?? null;
    for (;;) {
      const lo = lastKey === null ? MIN_KEY : keyAfter(lastKey);
      const rows = store.scan(jobsByCreation(table), { lo, hi: null }, "asc", BATCH);
      for (const row of rows) jobs.push(decodeJob(row.key, row.text, component));
      if (rows.length > 0) lastKey = rows[rows.length - 1].key;
      if (rows.length < BATCH) break;
    }
    lastKeys.set(table, lastKey);
  }
  return jobs;
}

function decodeJob(key: Buffer, text: string, tableComponent: string): JobEntry {
  const doc = JSON.parse(text) as { _id: string; name: string; scheduledTime: number; state: JobState; component?: string };
  // A job that runs another component's function says which (see `schedule-ops.ts`).
  const component = typeof doc.component === "string" ? doc.component : tableComponent;
  return { id: doc._id, name: doc.name, component, scheduledTime: Number(doc.scheduledTime), state: doc.state.kind, key };
}
