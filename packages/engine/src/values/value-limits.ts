import { EngineError } from "../errors.js";

/**
 * Convex's limits on values (docs: production/state/limits; the backend's
 * `value` and `common::document` crates for the exact figures, the way sizes
 * are counted and the messages), so that data that works here also fits in
 * Convex's cloud. A value nested 20,000 levels deep is refused without deep
 * recursion (`checkJsonDepth` is iterative, `measureValue` stops at the
 * limit), before any recursive code (`jsonToConvex`, validators, stable
 * JSON keys) sees it.
 */

/** Largest document, counted as Convex counts (`valueSize`), system fields included. */
export const MAX_DOCUMENT_SIZE = 1 << 20;
/** Deepest document: the document object is level 1, each array or object inside adds one. */
export const MAX_DOCUMENT_NESTING = 16;
/** Deepest value anywhere else (arguments, return values), counted the same way. */
export const MAX_VALUE_NESTING = 64;
/** Longest array. */
export const MAX_ARRAY_LENGTH = 8192;
/** Most fields in one object. */
export const MAX_OBJECT_FIELDS = 1024;
/** Largest function arguments (the arguments array `[args]`, as Convex counts it). */
export const MAX_ARGS_SIZE = 1 << 24;
/** Largest function return value. */
export const MAX_RESULT_SIZE = 1 << 24;
/** Largest value of any kind (a string, bytes or a system value). */
export const MAX_VALUE_SIZE = 1 << 25;

/**
 * Largest JSON text one function request may be: the HTTP body of
 * `/api/query|mutation|action` and one WebSocket frame (the sync server's
 * `maxPayload`). The JSON of the largest arguments Convex accepts is larger
 * than their Convex size: bytes travel as base64 (4/3), so this is the
 * argument limit times 4/3 plus room for the message around them.
 */
export const MAX_REQUEST_JSON_BYTES = Math.ceil((MAX_ARGS_SIZE * 4) / 3) + (64 << 10);

/**
 * Deepest JSON a request may carry, checked right after parsing. Above the
 * value limit (64) by the message's own levels and `$`-encoded leaves, far
 * below what recursive code can take.
 */
export const MAX_JSON_DEPTH = MAX_VALUE_NESTING + 16;

/** Size and nesting of a value, as Convex counts them. */
export interface ValueMeasure {
  size: number;
  nesting: number;
}

/** What a measurement refuses beyond the per-array and per-object limits. */
interface MeasureLimits {
  maxNesting: number;
  /** Called with the nesting found when it exceeds `maxNesting`; returns the error to throw. */
  tooNested(nesting: number): EngineError;
}

const VALUE_NESTING: MeasureLimits = {
  maxNesting: MAX_VALUE_NESTING,
  tooNested: (n) => new EngineError("TooNestedError", `Value is too nested (nested ${n} levels deep > maximum nesting ${MAX_VALUE_NESTING})`),
};

/**
 * Measures a value, in Convex JSON (`{"$integer": …}` and friends count as
 * the value they encode) or decoded (bigint, ArrayBuffer): Convex's size
 * (null 1, numbers 9, booleans 1, strings and bytes 2 + their bytes, arrays
 * 2 + their items, objects 2 + name + 1 + value per field) and nesting (0 for
 * a leaf, 1 + the deepest item for arrays and objects). Throws Convex's
 * errors for a too-long array, too many fields, a string with an unpaired
 * surrogate, and nesting beyond `limits.maxNesting`.
 *
 * Recursive, but bounded: a level beyond `maxNesting` (at most 64) is refused
 * before it is entered, so the walk never goes deeper than that however deep
 * the value is (and it is twice as fast as an explicit stack on results).
 */
export function measureValue(value: unknown, limits: MeasureLimits = VALUE_NESTING): ValueMeasure {
  const measure = { size: 0, nesting: 0 };
  measure.size = sizeOf(value, 0, limits, measure);
  return measure;
}

function sizeOf(node: unknown, depth: number, limits: MeasureLimits, measure: ValueMeasure): number {
  switch (typeof node) {
    case "string":
      return stringSize(node);
    case "number":
    case "bigint":
      return 9;
    case "boolean":
      return 1;
    case "undefined":
      // A field or patch entry meaning "absent"; it takes no room.
      return 0;
    case "object":
      break;
    default:
      throw new EngineError("InvalidValue", `${typeof node} is not a supported Convex type.`);
  }
  if (node === null) return 1;
  if (node instanceof ArrayBuffer) return 2 + node.byteLength;
  const level = depth + 1;
  if (Array.isArray(node)) {
    if (level > limits.maxNesting) throw limits.tooNested(level);
    if (node.length > MAX_ARRAY_LENGTH) {
      throw new EngineError("ArrayTooLong", `Array length is too long (${node.length} > maximum length ${MAX_ARRAY_LENGTH})`);
    }
    if (level > measure.nesting) measure.nesting = level;
    let size = 2;
    for (let i = 0; i < node.length; i++) size += sizeOf(node[i], level, limits, measure);
    return size;
  }
  const record = node as Record<string, unknown>;
  const encoded = encodedLeafSize(record);
  if (encoded !== null) return encoded;
  if (level > limits.maxNesting) throw limits.tooNested(level);
  if (level > measure.nesting) measure.nesting = level;
  let size = 2;
  let fields = 0;
  for (const key in record) {
    const field = record[key];
    // Convex drops fields whose value is undefined.
    if (field === undefined) continue;
    fields += 1;
    size += key.length + 1 + sizeOf(field, level, limits, measure);
  }
  if (fields > MAX_OBJECT_FIELDS) {
    throw new EngineError("TooManyFieldsError", `Object has too many fields (${fields} > maximum number ${MAX_OBJECT_FIELDS})`);
  }
  return size;
}

/**
 * Checks function arguments (the arguments object; Convex measures the
 * one-element array that carries it): nesting and the 16 MiB limit, with
 * Convex's messages.
 */
export function checkArgsLimits(path: string, args: unknown): void {
  const { size } = measureValue([args]);
  if (size > MAX_ARGS_SIZE) {
    throw new EngineError(
      "TooLargeFunctionArguments",
      `Arguments for ${path} are too large (actual: ${formatBytes(size)}, limit: ${formatBytes(MAX_ARGS_SIZE)})`,
    );
  }
}

/** Checks a function's return value (Convex JSON): nesting, arrays, fields and the 16 MiB limit. */
export function checkResultLimits(path: string, result: unknown): void {
  const { size } = measureValue(result);
  if (size > MAX_RESULT_SIZE) {
    throw new EngineError(
      "TooLargeFunctionResult",
      `Function ${path} return value is too large (actual: ${formatBytes(size)}, limit: ${formatBytes(MAX_RESULT_SIZE)})`,
    );
  }
}

const DOCUMENT_NESTING: MeasureLimits = {
  maxNesting: MAX_DOCUMENT_NESTING,
  tooNested: (n) =>
    new EngineError("TooNested", `Document is too nested (nested ${n} levels deep > maximum nesting ${MAX_DOCUMENT_NESTING})`),
};

/** Room the system fields take in a document's size: `_id` (a string of `idLength`) and `_creationTime` (a float). */
export function systemFieldsSize(idLength: number): number {
  return "_id".length + 1 + 2 + idLength + "_creationTime".length + 1 + 9;
}

/**
 * Checks a document about to be written: its user fields (Convex JSON or
 * decoded values) plus `systemSize` bytes of system fields must fit Convex's
 * document limits. Returns the document's size (for write budgets).
 */
export function checkDocumentLimits(fields: Record<string, unknown>, systemSize: number): number {
  const { size } = measureValue(fields, DOCUMENT_NESTING);
  const total = size + systemSize;
  if (total > MAX_DOCUMENT_SIZE) {
    throw new EngineError(
      "ValueTooLargeError",
      `Value is too large (${formatBytes(total)} > maximum size ${formatBytes(MAX_DOCUMENT_SIZE)})`,
    );
  }
  return total;
}

/**
 * Refuses parsed JSON nested deeper than `maxDepth` (arrays and objects),
 * without recursion. Every entry point runs this right after `JSON.parse`
 * (HTTP bodies, WebSocket messages, import lines) so nothing recursive ever
 * sees a deeper value; the exact Convex limits are checked later.
 */
export function checkJsonDepth(json: unknown, maxDepth: number = MAX_JSON_DEPTH): void {
  if (typeof json !== "object" || json === null) return;
  const nodes: object[] = [json];
  const depths: number[] = [1];
  while (nodes.length > 0) {
    const node = nodes.pop()!;
    const depth = depths.pop()!;
    if (depth > maxDepth) {
      throw new EngineError(
        "TooNestedError",
        `Value is too nested (more than ${maxDepth} levels of JSON; Convex values nest at most ${MAX_VALUE_NESTING} levels)`,
      );
    }
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === "object" && child !== null) {
        nodes.push(child);
        depths.push(depth + 1);
      }
    }
  }
}

/** `JSON.parse` followed by {@link checkJsonDepth}. */
export function parseJsonWithinDepth(text: string, maxDepth: number = MAX_JSON_DEPTH): unknown {
  const parsed: unknown = JSON.parse(text);
  checkJsonDepth(parsed, maxDepth);
  return parsed;
}

/**
 * A byte count as the backend prints it (humansize, binary units, up to two
 * decimals without trailing zeros): `512 B`, `1.5 KiB`, `16 MiB`.
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const text = unit === 0 ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return `${text} ${units[unit]}`;
}

/** Size of a `{"$integer"|"$float"|"$bytes": "…"}` leaf, or null for an ordinary object. */
function encodedLeafSize(record: Record<string, unknown>): number | null {
  let key: string | null = null;
  for (const k in record) {
    if (key !== null) return null;
    key = k;
  }
  if (key === null || key.charCodeAt(0) !== 36 /* $ */) return null;
  const payload = record[key];
  switch (key) {
    case "$integer":
    case "$float":
      return 9;
    case "$bytes":
      return typeof payload === "string" ? 2 + base64Length(payload) : null;
    case "$undefined":
      return 0;
    default:
      // Not a Convex encoding: the decoder rejects it with its own message.
      return null;
  }
}

function base64Length(b64: string): number {
  let padding = 0;
  if (b64.endsWith("==")) padding = 2;
  else if (b64.endsWith("=")) padding = 1;
  return Math.max(0, Math.floor((b64.length * 3) / 4) - padding);
}

function stringSize(s: string): number {
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) {
    throw new EngineError("InvalidString", "Strings must be valid Unicode: this one contains an unpaired surrogate.");
  }
  return 2 + Buffer.byteLength(s, "utf8");
}
