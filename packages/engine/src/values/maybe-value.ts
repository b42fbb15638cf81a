import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { EngineError } from "../errors";

/**
 * `{"$undefined": null}` is how the package encodes a missing value in index ranges, filter
 * literals and patches. `jsonToConvex` rejects it, so it is recognised here first.
 */

/** True for the exact JSON `{"$undefined": null}`. */
function isUndefinedMarker(json: unknown): boolean {
  if (json === null || typeof json !== "object" || Array.isArray(json)) return false;
  const keys = Object.keys(json);
  return keys.length === 1 && keys[0] === "$undefined" && (json as Record<string, unknown>).$undefined === null;
}

/** Decodes Convex JSON that may be `{"$undefined": null}` (meaning "missing"). */
export function decodeMaybeValue(json: JSONValue): Value | undefined {
  if (isUndefinedMarker(json)) return undefined;
  return decodeValue(json);
}

/** Decodes Convex JSON with `jsonToConvex`, turning its errors into `EngineError("InvalidValue")`. */
export function decodeValue(json: JSONValue): Value {
  try {
    return jsonToConvex(json);
  } catch (e) {
    throw new EngineError("InvalidValue", (e as Error).message);
  }
}

/**
 * Decodes the argument of `db.patch` (`1.0/shallowMerge`): an object whose top-level fields
 * are Convex JSON, where `{"$undefined": null}` means "delete this field" and comes back as
 * `undefined`.
 */
export function decodePatchValue(json: JSONValue): Record<string, Value | undefined> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw new EngineError("InvalidValue", "A patch must be an object");
  }
  const out: Record<string, Value | undefined> = {};
  for (const [name, field] of Object.entries(json)) {
    out[name] = isUndefinedMarker(field) ? undefined : decodeValue(field);
  }
  // Field-name rules (no `$`, printable ASCII) are checked by decoding the kept fields
  // together, so a patch obeys the same rules as a whole document.
  const kept = Object.fromEntries(Object.entries(json).filter(([, f]) => !isUndefinedMarker(f)));
  decodeValue(kept);
  return out;
}
