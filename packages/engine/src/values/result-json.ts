import type { JSONValue, Value } from "convex/values";
import { isConvexFieldName } from "./field-name-rule.js";

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
  const keys = sortedKeys(value);
  if (keys === null) throw REFUSED;
  const out: Record<string, JSONValue> = {};
  for (const key of keys) {
    const field: unknown = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    out[key] = toJson(field, upstream);
  }
  return out;
}

/** Recent object shapes: an object's keys as `Object.keys` gives them, and the same in upstream's order. */
interface Shape {
  keys: string[];
  order: string[];
}
const SHAPES = 16;
const shapes: Shape[] = [];
let nextShape = 0;

/**
 * `object`'s keys in upstream's order (sorted by UTF-16 code units), or null when one of
 * them is a field name upstream refuses. A result repeats a few shapes (every post of a
 * feed has the same keys in the same order), so the last few shapes are kept with their
 * order, their names already checked: a hit costs one pointer comparison per key (object
 * keys are interned strings), where checking names and sorting cost ~5% of a feed run.
 */
function sortedKeys(object: object): string[] | null {
  const keys = Object.keys(object);
  for (let s = 0; s < shapes.length; s++) {
    const shape = shapes[s]!;
    if (shape.keys.length === keys.length && sameKeys(shape.keys, keys)) return shape.order;
  }
  let inOrder = true;
  for (let i = 0; i < keys.length; i++) {
    if (!isConvexFieldName(keys[i]!)) return null;
    if (i > 0 && keys[i - 1]! > keys[i]!) inOrder = false;
  }
  const order = inOrder ? keys : [...keys].sort();
  shapes[nextShape] = { keys, order };
  nextShape = (nextShape + 1) % SHAPES;
  return order;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
