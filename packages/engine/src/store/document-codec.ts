import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { EngineError } from "../errors";
import { getFieldValue } from "../values/field-path";
import { indexKey } from "../values/index-key-codec";
import type { IndexRecord } from "./catalog";

/**
 * Converting documents between their stored Convex JSON text and decoded values, and
 * deriving their index keys.
 */

/** A decoded document: user fields plus `_id` and `_creationTime`. */
export type DecodedDocument = Record<string, Value>;

/** The stored text of a document: `convexToJson` (keys sorted) as compact JSON. */
export function encodeDocument(doc: DecodedDocument): string {
  let json: JSONValue;
  try {
    json = convexToJson(doc);
  } catch (e) {
    throw new EngineError("InvalidValue", (e as Error).message);
  }
  const text = JSON.stringify(json);
  if (text.includes('"$commitTs"')) {
    throw new EngineError("NotSupported", "db.vars.commitTs placeholders in documents are not supported by this engine.");
  }
  return text;
}

/** Decodes stored document text. */
export function decodeDocument(text: string): DecodedDocument {
  return jsonToConvex(JSON.parse(text) as JSONValue) as DecodedDocument;
}

/** The key of a document in an index: its fields' sort keys concatenated. */
export function documentIndexKey(doc: DecodedDocument, index: IndexRecord): Buffer {
  return indexKey(index.paths.map((path) => getFieldValue(doc, path)));
}

/**
 * Checks the top level of user-supplied fields: a plain object whose field names do not
 * start with `_` (reserved for system fields). `allowed` lists system fields the caller
 * will check itself.
 */
export function checkUserFields(fields: unknown, allowed: ReadonlySet<string> = NO_FIELDS): asserts fields is DecodedDocument {
  if (fields === null || typeof fields !== "object" || Array.isArray(fields) || fields instanceof ArrayBuffer) {
    throw new EngineError("InvalidDocument", "A document must be an object");
  }
  for (const name of Object.keys(fields)) {
    if (name.startsWith("_") && !allowed.has(name)) {
      throw new EngineError(
        "InvalidDocument",
        `Field name ${name} starts with a '_', which is reserved for system fields.`,
      );
    }
  }
}

const NO_FIELDS: ReadonlySet<string> = new Set();
