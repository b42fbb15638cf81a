import type { TableDefinitionJson } from "./store/schema-json.js";

/**
 * Indexes the engine itself needs on system tables, pushed with the app's
 * schema. (None yet: the scheduler adds its queue index here.)
 */
export function systemSchemaTables(): TableDefinitionJson[] {
  return [];
}
