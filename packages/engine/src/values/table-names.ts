/**
 * Table names and the table numbers encoded in document ids. The numbers follow the Convex
 * backend so that ids survive `npx convex export` / `import` between deployments.
 *
 * Tables of a Convex component live in the same store under a namespaced name,
 * `<component path>/<table>` (`"rateLimiter/rateLimits"`,
 * `"rateLimiter/batchWorker/_scheduled_functions"`). Component names are identifiers, so
 * a `/` can never appear in a table name user code writes: the prefix cannot be forged,
 * and the layers that scope a component (`components/component-database.ts`) strip it
 * before user code sees a name.
 */

/** The first number given to a user table; later tables count up in creation order. */
export const FIRST_USER_TABLE_NUMBER = 10001;

/** Fixed numbers of the system tables the engine knows (the app's own; a component's are numbered like user tables). */
export const SYSTEM_TABLE_NUMBERS: Readonly<Record<string, number>> = Object.freeze({
  _scheduled_functions: 539,
  _storage: 540,
});

/**
 * The system table with this reserved number, or null. Ids of system tables resolve even
 * before the engine first writes such a table (the backend treats them as always present).
 */
export function systemTableNameOf(tableNumber: number): string | null {
  for (const [name, number] of Object.entries(SYSTEM_TABLE_NUMBERS)) if (number === tableNumber) return name;
  return null;
}

const TABLE_NAME = /^_?[A-Za-z][A-Za-z0-9_]{0,63}$/;
const COMPONENT_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;

/** True for names whose table part starts with `_`, which only the engine itself may write. */
export function isSystemTableName(name: string): boolean {
  return name.charCodeAt(name.lastIndexOf("/") + 1) === 0x5f;
}

/**
 * True when `name` is a well-formed table name: a letter (after an optional `_` for system
 * tables), then letters, digits and `_`, at most 64 characters after the prefix; optionally
 * namespaced by a component path (`comp/child/table`).
 */
export function isValidTableName(name: string): boolean {
  const slash = name.lastIndexOf("/");
  if (slash === -1) return TABLE_NAME.test(name);
  return TABLE_NAME.test(name.slice(slash + 1)) && isValidComponentPath(name.slice(0, slash));
}

/** True for a valid component name (`app.use(x, { name })`): an identifier of at most 64 characters. */
export function isValidComponentName(name: string): boolean {
  return COMPONENT_NAME.test(name);
}

/** True for `""` (the app itself) or component names joined by `/`. */
export function isValidComponentPath(path: string): boolean {
  return path === "" || path.split("/").every(isValidComponentName);
}

/** The store's name of `table` in a component (`""` is the app itself). */
export function tableInComponent(component: string, table: string): string {
  return component === "" ? table : `${component}/${table}`;
}

/** Splits a store table name into its component path (`""` for the app) and its own name. */
export function componentOfTable(name: string): { component: string; table: string } {
  const slash = name.lastIndexOf("/");
  return slash === -1 ? { component: "", table: name } : { component: name.slice(0, slash), table: name.slice(slash + 1) };
}
