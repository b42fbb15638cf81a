import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { EngineError } from "../errors";
import { getFieldValue } from "../values/field-path";
import { resultJson } from "../values/result-json";
import { indexKey } from "../values/index-key-codec";
import type { IndexRecord } from "./catalog";

/**
 * Converting documents between their stored Convex JSON text and decoded values, and
 * deriving their index keys.
 */

/** A decoded document: user fields plus `_id` and `_creationTime`. */
export type DecodedDocument = Record<string, Value>;

/**
 * The stored text of a document: `convexToJson` (keys sorted) as compact JSON. Converted by
 * `resultJson`, which makes the same JSON in one cheaper walk and leaves upstream's
 * `convexToJson` every leaf with an encoding of its own and every refusal, so errors stay
 * upstream's (runs on the thread of the store's connection: the writer for mutations).
 */
export function encodeDocument(doc: DecodedDocument): string {
  let json: JSONValue;
  try {
    json = resultJson(doc, convexToJson);
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
 * True when every field at `paths` holds the same scalar (string, number, boolean, bigint,
 * null, or missing) in both documents, so their keys in an index on those fields are
 * equal without encoding both. `Object.is` keeps 0 and -0 apart, as their keys are.
 * Objects, arrays and bytes answer false: the caller then compares the encoded keys.
 */
export function sameScalarFields(a: DecodedDocument, b: DecodedDocument, paths: readonly (readonly string[])[]): boolean {
  for (const path of paths) {
    const x = getFieldValue(a, path);
    if (x !== null && typeof x === "object") return false;
    if (!Object.is(x, getFieldValue(b, path))) return false;
  }
  return true;
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
