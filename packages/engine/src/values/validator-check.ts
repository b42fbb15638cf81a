import type { JSONValue, ValidatorJSON } from "convex/values";
import { tableNumberOfId } from "./document-id";
import { decodeMaybeValue } from "./maybe-value";
import type { ValidationContext } from "./validator";
import { isConvexFieldName } from "./field-name-rule";

/**
 * Validators compiled into closures for the hot paths (arguments, return
 * values, schema checks on writes). A compiled check only answers "certainly
 * valid": when it says no, the caller runs `validateValue` (validator.ts),
 * which decides and words the message. So a check may be incomplete (it
 * declines `v.record`, `v.bytes`, …) but must never accept what
 * `validateValue` rejects.
 *
 * Two flavours: over decoded values, and over Convex JSON, which lets
 * arguments and results be checked without decoding them first.
 */

/** True when the value certainly matches; false means "ask `validateValue`". */
export type CompiledCheck = (value: unknown) => boolean;

const compiled = new WeakMap<ValidationContext, { values: WeakMap<object, CompiledCheck>; json: WeakMap<object, CompiledCheck> }>();

/** The compiled check over decoded values for `validator`, built once per validator and context. */
export function valueCheck(validator: ValidatorJSON, context: ValidationContext): CompiledCheck {
  const cache = cacheOf(context).values;
  let check = cache.get(validator);
  if (check === undefined) {
    check = compile(validator, context, false);
    cache.set(validator, check);
  }
  return check;
}

/** The compiled check over Convex JSON for `validator`, built once per validator and context. */
export function jsonCheck(validator: ValidatorJSON, context: ValidationContext): CompiledCheck {
  const cache = cacheOf(context).json;
  let check = cache.get(validator);
  if (check === undefined) {
    check = compile(validator, context, true);
    cache.set(validator, check);
  }
  return check;
}

/**
 * True when `json` is Convex JSON that decodes to itself: no `$`-tagged
 * values (bigints, bytes, special floats) and only valid field names. Such
 * JSON is valid, and `jsonToConvex` would return an equal value.
 */
export function isPlainConvexJson(json: unknown): boolean {
  switch (typeof json) {
    case "string":
    case "number":
    case "boolean":
      return true;
    case "object": {
      if (json === null) return true;
      if (Array.isArray(json)) {
        for (let i = 0; i < json.length; i++) if (!isPlainConvexJson(json[i])) return false;
        return true;
      }
      const record = json as Record<string, unknown>;
      for (const key in record) {
        if (!isConvexFieldName(key) || !isPlainConvexJson(record[key])) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

const NEVER: CompiledCheck = () => false;

function cacheOf(context: ValidationContext) {
  let cache = compiled.get(context);
  if (cache === undefined) {
    cache = { values: new WeakMap(), json: new WeakMap() };
    compiled.set(context, cache);
  }
  return cache;
}

function compile(validator: ValidatorJSON, context: ValidationContext, json: boolean): CompiledCheck {
  switch (validator.type) {
    case "any":
      // A decoded value was produced by decoding, so it is a value; JSON must be checked.
      return json ? isPlainConvexJson : () => true;
    case "null":
      return (v) => v === null;
    case "number":
      // JSON numbers are finite; NaN, ±Infinity and -0 arrive `$float`-tagged and are declined.
      return (v) => typeof v === "number";
    case "boolean":
      return (v) => typeof v === "boolean";
    case "string":
      return (v) => typeof v === "string";
    case "bigint":
      return json ? NEVER : (v) => typeof v === "bigint";
    case "bytes":
      return json ? NEVER : (v) => v instanceof ArrayBuffer;
    case "literal":
      return literalCheck(validator.value as JSONValue, json);
    case "id": {
      const table = validator.tableName;
      return (v) => {
        if (typeof v !== "string") return false;
        const number = tableNumberOfId(v);
        return number !== null && context.tableNameOf(number) === table;
      };
    }
    case "array": {
      const item = compile(validator.value, context, json);
      return (v) => {
        if (!Array.isArray(v)) return false;
        for (let i = 0; i < v.length; i++) if (!item(v[i])) return false;
        return true;
      };
    }
    case "object":
      return objectCheck(validator, context, json);
    case "union": {
      const members = validator.value.map((member) => compile(member, context, json));
      if (members.length === 1) return members[0]!;
      return (v) => {
        for (let i = 0; i < members.length; i++) if (members[i]!(v)) return true;
        return false;
      };
    }
    default:
      // `commitTs`, `record` and anything newer: the full validator decides.
      return NEVER;
  }
}

function literalCheck(literalJson: JSONValue, json: boolean): CompiledCheck {
  const literal = decodeMaybeValue(literalJson);
  switch (typeof literal) {
    case "string":
    case "boolean":
      return (v) => v === literal;
    case "number":
      // Object.is tells -0 from 0, as the value order does.
      return (v) => typeof v === "number" && Object.is(v, literal);
    case "bigint":
      return json ? NEVER : (v) => v === literal;
    default:
      return NEVER;
  }
}

function objectCheck(
  validator: Extract<ValidatorJSON, { type: "object" }>,
  context: ValidationContext,
  json: boolean,
): CompiledCheck {
  const names = Object.keys(validator.value);
  // Names a plain object inherits (`toString`, `__proto__`) cannot be read
  // safely by property access; such rare validators go the slow way.
  if (names.some((name) => !isConvexFieldName(name) || name in Object.prototype)) return NEVER;
  const checks = names.map((name) => compile(validator.value[name]!.fieldType, context, json));
  const optional = names.map((name) => validator.value[name]!.optional);
  const count = names.length;
  return (v) => {
    // Plain objects only: arrays, bytes and class instances (the commit-ts placeholder) are declined.
    if (v === null || typeof v !== "object" || Object.getPrototypeOf(v) !== Object.prototype) return false;
    const record = v as Record<string, unknown>;
    let present = 0;
    for (let i = 0; i < count; i++) {
      const field = record[names[i]!];
      if (field === undefined) {
        if (!optional[i]) return false;
        continue;
      }
      if (!checks[i]!(field)) return false;
      present += 1;
    }
    // No other fields: every defined own field was one of the validator's.
    let defined = 0;
    for (const key in record) if (record[key] !== undefined) defined += 1;
    return defined === present;
  };
}

