import { parse as parseLossless } from "lossless-json";
import { Base64, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { EngineError } from "../errors.js";
import { checkJsonDepth } from "../values/value-limits.js";

/**
 * The "export_json" value format of Convex's snapshot ZIPs (convex-interface.md
 * §8.1): lossless but readable. int64 is a plain integer literal and float64
 * always carries a decimal point when integral (`123.0`, `-0.0`), so a reader
 * told the table is "uniform" can tell them apart; non-finite floats and bytes
 * use `$float`/`$bytes`. `JSON.stringify` cannot write `1.0`, and `JSON.parse`
 * cannot tell `1` from `1.0`, hence this writer and lossless-json for reading.
 */

/** One value as export_json text. */
export function toExportJson(value: Value): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return floatText(value);
  if (value instanceof ArrayBuffer) return `{"$bytes":${JSON.stringify(Base64.fromByteArray(new Uint8Array(value)))}}`;
  if (Array.isArray(value)) return `[${value.map(toExportJson).join(",")}]`;
  const fields: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    if (field === undefined) continue;
    fields.push(`${JSON.stringify(key)}:${toExportJson(field)}`);
  }
  return `{${fields.join(",")}}`;
}

function floatText(x: number): string {
  if (Number.isNaN(x) || !Number.isFinite(x)) {
    const bytes = new DataView(new ArrayBuffer(8));
    bytes.setFloat64(0, x, true);
    return `{"$float":${JSON.stringify(Base64.fromByteArray(new Uint8Array(bytes.buffer)))}}`;
  }
  if (Object.is(x, -0)) return "-0.0";
  const text = String(x);
  return /[.eE]/.test(text) ? text : `${text}.0`;
}

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

/**
 * Parses one JSONL line of a table's documents. With `uniform` (the table's
 * `generated_schema.jsonl` says so) integer literals are int64 and other
 * numbers float64; without it every number is a float64, as Convex's legacy
 * inference reads plain JSON. Objects whose first key starts with `$` are
 * Convex JSON (`$bytes`, `$integer`, `$float`).
 */
export function parseExportJsonLine(line: string, uniform: boolean): Record<string, Value> {
  let raw: unknown;
  try {
    // Without `uniform` every number is a float64, which is what JSON.parse (far faster) reads.
    raw = !uniform ? JSON.parse(line) : parseLossless(line, null, (text: string) => {
      if (/^-?\d+$/.test(text)) {
        const n = BigInt(text);
        // An integer literal too large for int64 is read back as a float.
        return n >= I64_MIN && n <= I64_MAX ? n : Number(text);
      }
      return Number(text);
    });
  } catch (e) {
    throw new EngineError("InvalidImport", `A document line is not valid JSON: ${(e as Error).message}`);
  }
  // decodeSpecial recurses: refuse a deeper line than any document may be first.
  checkJsonDepth(raw);
  const value = decodeSpecial(raw);
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof ArrayBuffer) {
    throw new EngineError("InvalidImport", "Each document line must be a JSON object.");
  }
  return value as Record<string, Value>;
}

function decodeSpecial(raw: unknown): Value {
  if (raw === null || typeof raw !== "object") return raw as Value;
  if (Array.isArray(raw)) return raw.map(decodeSpecial);
  const keys = Object.keys(raw);
  if (keys.length > 0 && keys[0]!.startsWith("$")) {
    try {
      return jsonToConvex(raw as JSONValue);
    } catch (e) {
      throw new EngineError("InvalidImport", `Invalid special value ${JSON.stringify(raw)}: ${(e as Error).message}`);
    }
  }
  const out: Record<string, Value> = {};
  for (const key of keys) {
    // A field named "__proto__" stays a field: plain assignment would set the object's prototype.
    Object.defineProperty(out, key, { value: decodeSpecial((raw as Record<string, unknown>)[key]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}
