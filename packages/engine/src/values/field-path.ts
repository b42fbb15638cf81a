import { CommitTsPlaceholder, type JSONValue, type Value } from "convex/values";

/**
 * Reading a dotted field path (`"profile.name"`) out of a document, either a decoded Convex
 * value or its Convex JSON. Paths only descend into plain objects, never into arrays.
 */

/** Splits a dotted path once so that hot loops do not split it per document. */
export function splitFieldPath(path: string): string[] {
  return path.split(".");
}

/** The value at `path` in a decoded document, or undefined when a step is missing. */
export function getFieldValue(doc: Value | undefined, path: readonly string[]): Value | undefined {
  let current: Value | undefined = doc;
  for (const segment of path) {
    if (!isObjectValue(current)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/**
 * The Convex JSON at `path` in a document's Convex JSON, or undefined when missing. Encoded
 * scalars (`{"$integer": …}`) are never descended into: field names cannot start with `$`.
 */
export function getFieldJson(doc: JSONValue | undefined, path: readonly string[]): JSONValue | undefined {
  let current: JSONValue | undefined = doc;
  for (const segment of path) {
    if (current === null || typeof current !== "object" || Array.isArray(current)) return undefined;
    if (segment.startsWith("$") || !Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/** True for a Convex object: not null, an array, bytes or the commit-ts placeholder. */
export function isObjectValue(v: Value | undefined): v is { [key: string]: Value } {
  return (
    v !== null &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    !(v instanceof ArrayBuffer) &&
    !(v instanceof CommitTsPlaceholder)
  );
}
