/**
 * Table names and the table numbers encoded in document ids. The numbers follow the Convex
 * backend so that ids survive `npx convex export` / `import` between deployments.
 */

/** The first number given to a user table; later tables count up in creation order. */
export const FIRST_USER_TABLE_NUMBER = 10001;

/** Fixed numbers of the system tables the engine knows. */
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

/** True for names starting with `_`, which only the engine itself may write. */
export function isSystemTableName(name: string): boolean {
  return name.startsWith("_");
}

/**
 * True when `name` is a well-formed table name: a letter (after an optional `_` for system
 * tables), then letters, digits and `_`, at most 64 characters after the prefix.
 */
export function isValidTableName(name: string): boolean {
  return TABLE_NAME.test(name);
}
