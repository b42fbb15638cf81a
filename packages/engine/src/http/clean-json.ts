import { jsonToConvex, type JSONValue, type Value } from "convex/values";

/**
 * The lossy "json" result format of Convex's HTTP API: plain JSON a curl user
 * can read. int64 becomes a number (a string when it does not fit a double
 * exactly), bytes base64, non-finite floats their name.
 */
export function toCleanJson(convexJson: JSONValue): JSONValue {
  return clean(jsonToConvex(convexJson));
}

function clean(value: Value): JSONValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") return Number.isFinite(value) ? value : String(value);
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString("base64");
  if (Array.isArray(value)) return value.map(clean);
  const out: Record<string, JSONValue> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = clean(v);
  return out;
}
