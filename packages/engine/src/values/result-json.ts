import type { JSONValue, Value } from "convex/values";
import { shapeOf } from "./object-shapes.js";

/**
 * A function's result as Convex JSON, the value `convexToJson` of `convex/values` makes,
 * for the query workers' result encoding (`worker-syscall-global.ts` `encodeResult`).
 *
 * Why by hand: upstream's `convexToJson` builds the error path of every value it visits
 * (`context + ".field"`, a string per field) and an entries array per object, which made
 * it ~8% of a feed re-run's CPU, for an error message that is almost never needed. This
 * walk does the same checks without that bookkeeping and hands every case it does not
 * take itself to upstream's function, passed in as `upstream`:
 *
 * * anything that fails a check (an `undefined` in an array, a field name upstream
 *   refuses, a class instance, Set, Map, function or symbol): upstream converts the whole
 *   value again and throws its own error, with its own path and wording;
 * * the leaves with an encoding of their own (bigint, bytes, NaN, ±Infinity, -0):
 *   upstream converts just that leaf (its messages for leaves name no path).
 *
 * Plain objects are those upstream accepts without its cross-realm fallback (a prototype
 * of `null` or `Object.prototype`); any other object goes to upstream whole, so its rule
 * applies there. Keys come out in upstream's order (sorted by UTF-16 code units), and
 * `undefined` fields are left out as upstream leaves them out.
 */
export function resultJson(result: Value, upstream: (value: Value) => JSONValue): JSONValue {
  try {
    return toJson(result, upstream);
  } catch (e) {
    if (e !== REFUSED) throw e;
    // Upstream's own error (or, were the walk stricter than upstream somewhere, its value).
    return upstream(result);
  }
}

/**
 * `result`'s JSON text as upstream writes it (`JSON.stringify(convexToJson(result))`)
 * and the JSON value that text holds, for the query workers' result encoding.
 *
 * A result that is already Convex JSON as it stands — strings, booleans, null, finite
 * numbers other than -0, arrays and plain objects of those, no `undefined` anywhere, every
 * field name one upstream takes — and whose objects list their keys in upstream's order
 * (documents as the database hands them out do) is its own JSON value: no copy is built,
 * and its text is `JSON.stringify` of it. Anything else takes `resultJson` (a property
 * list for `JSON.stringify` would order the keys without a copy, but measured slower
 * than the copy: V8 takes its slow path for every object then).
 *
 * The one difference from upstream: a getter in a returned object is read twice (by the
 * walk that checks the value, then by `JSON.stringify`).
 */
export function resultText(result: Value, upstream: (value: Value) => JSONValue): { text: string; json: JSONValue } {
  if (isOrderedJson(result)) return { text: JSON.stringify(result), json: result as JSONValue };
  const json = resultJson(result, upstream);
  return { text: JSON.stringify(json), json };
}

/** Whether `value` is Convex JSON whose objects' keys are in upstream's order (see `resultText`). */
function isOrderedJson(value: unknown): boolean {
  switch (typeof value) {
    case "string":
    case "boolean":
      return true;
    case "number":
      return Number.isFinite(value) && !Object.is(value, -0);
    case "object":
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      if (element === undefined || !isOrderedJson(element)) return false;
    }
    return true;
  }
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) return false;
  const shape = shapeOf(value);
  if (shape === null || !shape.printsInOrder) return false;
  for (const key of shape.keys) {
    const field: unknown = (value as Record<string, unknown>)[key];
    if (field === undefined || !isOrderedJson(field)) return false;
  }
  return true;
}

/** Thrown inside the walk for anything upstream must decide; never escapes `resultJson`. */
const REFUSED: unique symbol = Symbol("refused");

function toJson(value: unknown, upstream: (value: Value) => JSONValue): JSONValue {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      // NaN, ±Infinity and -0 have an encoding of their own ({ $float }).
      return Number.isFinite(value) && !Object.is(value, -0) ? value : upstream(value);
    case "bigint":
      return upstream(value);
    case "object":
      break;
    default:
      // undefined, functions, symbols: upstream's message.
      throw REFUSED;
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    const out: JSONValue[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) {
      const element: unknown = value[i];
      if (element === undefined) throw REFUSED;
      out[i] = toJson(element, upstream);
    }
    return out;
  }
  if (value instanceof ArrayBuffer) return upstream(value);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) throw REFUSED;
  const shape = shapeOf(value);
  if (shape === null) throw REFUSED;
  const keys = shape.order;
  const out: Record<string, JSONValue> = {};
  for (const key of keys) {
    const field: unknown = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    out[key] = toJson(field, upstream);
  }
  return out;
}
