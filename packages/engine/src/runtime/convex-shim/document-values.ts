import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { isConvexFieldName } from "../../values/field-name-rule.js";

/**
 * `jsonToConvex` of `convex/values` for the documents the engine hands the worker
 * threads' query builder and `db.get` (`query-impl.ts`, `RESULT_DECODING` in
 * `convex-shim-plugin.ts`): the same value, a fresh copy, the same errors — cheaper.
 *
 * Why by hand: each feed re-run copies ~250 documents this way (upstream copies every
 * document it hands user code, so that no run can change what another one reads: the
 * engine's parsed documents are shared, `parsed-documents.ts`). Upstream's function
 * builds an entries array per object and checks every field name character by character
 * on every copy, ~8% of a re-run. This one walks each object's keys once and checks each
 * distinct field name once per thread.
 * Everything else goes to upstream's function: an object with one `$`-key (`$integer`,
 * `$bytes`, `$float`, `$commitTs`, and the refused ones), and any field name upstream
 * would refuse, so its own error is thrown.
 */
export function documentToConvex(json: JSONValue): Value {
  if (typeof json !== "object" || json === null) return json as Value;
  if (Array.isArray(json)) {
    const out: Value[] = new Array(json.length);
    for (let i = 0; i < json.length; i++) out[i] = documentToConvex(json[i]!);
    return out;
  }
  const keys = Object.keys(json);
  if (keys.length === 1 && keys[0]!.charCodeAt(0) === 0x24) return jsonToConvex(json);
  const out: Record<string, Value> = {};
  for (const key of keys) {
    if (!checkedNames.has(key)) {
      // Upstream's error for a name it refuses (nothing is returned then).
      if (!isConvexFieldName(key)) return jsonToConvex(json);
      remember(key);
    }
    out[key] = documentToConvex(json[key]!);
  }
  return out;
}

/** Field names already found valid on this thread; a handful of distinct names in practice. */
let checkedNames = new Set<string>();
const MAX_CHECKED_NAMES = 4_096;

function remember(key: string): void {
  if (checkedNames.size >= MAX_CHECKED_NAMES) checkedNames = new Set();
  checkedNames.add(key);
}
