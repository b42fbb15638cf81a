import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { isConvexFieldName } from "../../values/field-name-rule.js";

/**
 * `jsonToConvex` of `convex/values` for the documents the engine hands the worker
 * threads' query builder and `db.get` (`query-impl.ts`, `RESULT_DECODING` in
 * `convex-shim-plugin.ts`): the same value, a fresh copy, the same errors — cheaper.
 * Runs on the thread that runs the function (a query worker, the writer), in the
 * function's own turn.
 *
 * Why by hand: each feed re-run copies ~250 documents this way (upstream copies every
 * document it hands user code, so that no run can change what another one reads: the
 * engine's parsed documents are shared, `parsed-documents.ts`). Upstream's function
 * builds an entries array per object and checks every field name character by character
 * on every copy, ~8% of a re-run. This one walks an object's keys once, the first time it
 * sees that object, and remembers which of its fields hold objects or arrays (`plans`);
 * every later copy of the same object is a spread (V8 clones the shape in one step) with
 * only those fields copied again. Measured on a feed's post document: 410 ns a copy by
 * the walk, 80 ns by the plan.
 * Everything else goes to upstream's function: an object with one `$`-key (`$integer`,
 * `$bytes`, `$float`, `$commitTs`, and the refused ones), and any field name upstream
 * would refuse, so its own error is thrown.
 *
 * The plans rely on what the engine hands here never changing afterwards: its parsed
 * documents are shared read-only, anything else is a fresh parse of a reply's text.
 */
export function documentToConvex(json: JSONValue): Value {
  if (typeof json !== "object" || json === null) return json as Value;
  if (Array.isArray(json)) {
    const out: Value[] = new Array(json.length);
    for (let i = 0; i < json.length; i++) out[i] = documentToConvex(json[i]!);
    return out;
  }
  const nested = plans.get(json);
  if (nested !== undefined) {
    // Same keys, same order, same values as the walk below makes (plain data properties).
    const out: Record<string, Value> = { ...(json as Record<string, Value>) };
    for (let i = 0; i < nested.length; i++) out[nested[i]!] = documentToConvex(json[nested[i]!]!);
    return out;
  }
  return walked(json);
}

/**
 * The first copy of `json` (an object that is neither an array nor null): field by field,
 * recording its plan once every field name proved valid and the object needs no decoding.
 */
function walked(json: { [key: string]: JSONValue }): Value {
  const keys = Object.keys(json);
  if (keys.length === 1 && keys[0]!.charCodeAt(0) === 0x24) return jsonToConvex(json);
  const out: Record<string, Value> = {};
  let nested: string[] | null = null;
  let plannable = true;
  for (const key of keys) {
    if (!checkedNames.has(key)) {
      // Upstream's error for a name it refuses (nothing is returned then).
      if (!isConvexFieldName(key)) return jsonToConvex(json);
      remember(key);
    }
    // The walk's assignment to `__proto__` sets the copy's prototype where a spread would
    // define a field: such an object keeps being walked.
    if (key === "__proto__") plannable = false;
    const value = json[key]!;
    if (typeof value === "object" && value !== null) (nested ??= []).push(key);
    out[key] = documentToConvex(value);
  }
  if (plannable) plans.set(json, nested ?? NOTHING_NESTED);
  return out;
}

/**
 * Objects copied before → the keys of their fields that hold an object or array (copied
 * again each time; every other field is a primitive, which the spread copies). Weak: a
 * plan lives as long as the parsed document it belongs to.
 */
const plans = new WeakMap<object, readonly string[]>();
const NOTHING_NESTED: readonly string[] = Object.freeze([]);

/** Field names already found valid on this thread; a handful of distinct names in practice. */
let checkedNames = new Set<string>();
const MAX_CHECKED_NAMES = 4_096;

function remember(key: string): void {
  if (checkedNames.size >= MAX_CHECKED_NAMES) checkedNames = new Set();
  checkedNames.add(key);
}
