import type { JSONValue } from "convex/values";

/**
 * Convex JSON decoded for display (convex-interface.md §1): `$integer` is an
 * int64, `$float` a float JSON cannot spell (NaN, ±Infinity, -0), `$bytes`
 * an ArrayBuffer. Everything else is plain JSON.
 */
export type DisplayValue =
  | { kind: "null" }
  | { kind: "boolean"; value: boolean }
  | { kind: "number"; value: number }
  | { kind: "bigint"; value: bigint }
  | { kind: "string"; value: string }
  | { kind: "bytes"; value: Uint8Array }
  | { kind: "array"; items: DisplayValue[] }
  | { kind: "object"; fields: [string, DisplayValue][] };

/** Decodes Convex JSON; malformed `$` objects are shown as the plain objects they are. */
export function decodeConvexJson(json: JSONValue): DisplayValue {
  if (json === null) return { kind: "null" };
  switch (typeof json) {
    case "boolean":
      return { kind: "boolean", value: json };
    case "number":
      return { kind: "number", value: json };
    case "string":
      return { kind: "string", value: json };
  }
  if (Array.isArray(json)) return { kind: "array", items: json.map(decodeConvexJson) };
  const keys = Object.keys(json);
  if (keys.length === 1 && typeof json[keys[0]!] === "string") {
    const bytes = base64Bytes(json[keys[0]!] as string);
    if (bytes !== null) {
      const view = new DataView(bytes.buffer);
      if (keys[0] === "$integer" && bytes.length === 8) return { kind: "bigint", value: view.getBigInt64(0, true) };
      if (keys[0] === "$float" && bytes.length === 8) return { kind: "number", value: view.getFloat64(0, true) };
      if (keys[0] === "$bytes") return { kind: "bytes", value: bytes };
    }
  }
  return { kind: "object", fields: keys.map((k) => [k, decodeConvexJson(json[k] as JSONValue)]) };
}

/** Convex document ids: 31–37 characters of Convex's base32 alphabet (no i, l, o, u). */
const ID_PATTERN = /^[0-9a-hjkmnp-tv-z]{31,37}$/;

/** True when a string looks like a document id (the engine has the final word when it is followed). */
export function looksLikeId(value: string): boolean {
  return ID_PATTERN.test(value);
}

/** A number as Convex shows it: `-0`, `NaN`, `Infinity` spelled out. */
export function numberText(value: number): string {
  return Object.is(value, -0) ? "-0" : String(value);
}

/** The first bytes in hex: `"0a 1b 2c …"`. */
export function bytesPreview(bytes: Uint8Array, max = 16): string {
  const shown = [...bytes.slice(0, max)].map((b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > max ? `${shown} …` : shown;
}

/** True for field names that hold a millisecond timestamp by convention. */
export function isTimeField(name: string, value: number): boolean {
  return (name === "_creationTime" || /(Time|At)$/.test(name)) && value > 946_684_800_000 && value < 4_102_444_800_000;
}

function base64Bytes(text: string): Uint8Array | null {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}
