import type { TableDefinitionJson } from "./store/schema-json.js";

/**
 * Indexes the engine itself needs on system tables, pushed with the app's
 * schema. None: the store refuses `_` tables in schema JSON
 * (`parseSchemaJson`), so the scheduler does without a "pending by time"
 * index on `_scheduled_functions` and instead reads that table once at start
 * and then only its tail (see `scheduler/job-table.ts`).
 */
export function systemSchemaTables(): TableDefinitionJson[] {
  return [];
}
