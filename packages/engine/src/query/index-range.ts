import type { Value } from "convex/values";
import { EngineError } from "../errors";
import { indexKey, MIN_KEY, prefixRange, successor } from "../values/index-key-codec";
import { decodeMaybeValue } from "../values/maybe-value";
import { displayValue } from "../values/value-display";
import type { IndexInfo, KeyRange } from "../store/store";
import type { RangeExpression } from "./serialized-query";

/**
 * Turning `withIndex` range expressions into one key interval (docs/convex-interface.md §4.2).
 * Accepts the backend's lenient superset: `Eq`s in any order as long as the `Eq` fields plus
 * the bound field form a prefix of the index fields (implicit `_creationTime`, `_id`
 * included), and the upper bound before the lower one.
 */

interface Bound {
  value: Value | undefined;
  inclusive: boolean;
}

/** Compiles a range over `index`; throws the backend's errors for shapes it rejects. */
export function compileIndexRange(index: IndexInfo, range: readonly RangeExpression[]): KeyRange {
  return eqPrefixRange(index, range) ?? generalRange(index, range);
}

/**
 * The common shape — only `Eq`s, in index order — without the bookkeeping of the general
 * case (this runs once per `withIndex(...).first()`). Null for any other shape.
 */
function eqPrefixRange(index: IndexInfo, range: readonly RangeExpression[]): KeyRange | null {
  if (range.length === 0 || range.length > index.fields.length) return null;
  const values = new Array<Value | undefined>(range.length);
  for (let i = 0; i < range.length; i++) {
    const expression = range[i];
    if (expression.type !== "Eq" || expression.fieldPath !== index.fields[i]) return null;
    const json = expression.value;
    // A string (an id, most often) is its own value: `jsonToConvex` returns it as it is.
    values[i] = typeof json === "string" ? json : decodeMaybeValue(json);
  }
  return prefixRange(values);
}

function generalRange(index: IndexInfo, range: readonly RangeExpression[]): KeyRange {
  const eqs = new Map<string, Value | undefined>();
  let boundField: string | null = null;
  let lower: Bound | null = null;
  let upper: Bound | null = null;

  for (const expression of range) {
    const value = decodeMaybeValue(expression.value);
    const field = expression.fieldPath;
    if (expression.type === "Eq") {
      if (eqs.has(field)) throw alreadyDefined("equality", field, "==", value);
      eqs.set(field, value);
      continue;
    }
    const isUpper = expression.type === "Lt" || expression.type === "Lte";
    const inclusive = expression.type === "Gte" || expression.type === "Lte";
    if ((isUpper ? upper : lower) !== null) {
      throw alreadyDefined(isUpper ? "upper" : "lower", field, comparator(expression.type), value);
    }
    if (boundField !== null && boundField !== field) {
      throw new EngineError(
        "BoundsOnMultipleFields",
        `Upper and lower bounds in \`range\` can only be applied to a single index field. This query against index ${index.name} attempted to set a range bound on both ${JSON.stringify(boundField)} and ${JSON.stringify(field)}. Consider using \`filter\` instead. See https://docs.convex.dev/using/indexes for more info.`,
      );
    }
    boundField = field;
    if (isUpper) upper = { value, inclusive };
    else lower = { value, inclusive };
  }
  if (boundField !== null && eqs.has(boundField)) {
    throw alreadyDefined("inequality", boundField, "==", eqs.get(boundField));
  }

  // Index field lists are short: indexOf beats building a Map on this per-query path.
  const rank = (field: string) => index.fields.indexOf(field);
  for (const field of [...eqs.keys(), ...(boundField === null ? [] : [boundField])]) {
    if (rank(field) === -1) {
      throw new EngineError(
        "FieldNotInIndex",
        `The index range included a comparison with ${JSON.stringify(field)}, but ${index.name} with fields ${displayFields(index.fields)} doesn't index this field. For more information see https://docs.convex.dev/using/indexes.`,
      );
    }
  }
  const eqFields = [...eqs.keys()].sort((a, b) => rank(a) - rank(b));
  const used = boundField === null ? eqFields : [...eqFields, boundField];
  used.forEach((field, i) => {
    if (index.fields[i] !== field) {
      throw new EngineError(
        "InvalidIndexRange",
        `Tried to query index ${index.name} but the query didn't use the index fields in order.\nIndex fields: ${displayFields(index.fields)}\nQuery fields: ${displayFields(used)}\nFirst incorrect field: ${field}\nFor more information see https://docs.convex.dev/using/indexes.`,
      );
    }
  });

  const prefixValues = eqFields.map((f) => eqs.get(f));
  const prefix = indexKey(prefixValues);
  const afterPrefix = prefix.length === 0 ? null : successor(prefix);
  if (boundField === null) return { lo: prefix.length === 0 ? MIN_KEY : prefix, hi: afterPrefix };
  const lo =
    lower === null
      ? prefix
      : lower.inclusive
        ? indexKey([...prefixValues, lower.value])
        : successor(indexKey([...prefixValues, lower.value]));
  const hi =
    upper === null
      ? afterPrefix
      : upper.inclusive
        ? successor(indexKey([...prefixValues, upper.value]))
        : indexKey([...prefixValues, upper.value]);
  return { lo, hi };
}

function comparator(type: RangeExpression["type"]): string {
  return type === "Gt" ? ">" : type === "Gte" ? ">=" : type === "Lt" ? "<" : "<=";
}

function alreadyDefined(kind: string, field: string, op: string, value: Value | undefined): EngineError {
  return new EngineError(
    "AlreadyDefinedBound",
    `Already defined ${kind} bound in index range. Can't add ${JSON.stringify(field)} ${op} ${displayValue(value)}.`,
  );
}

function displayFields(fields: readonly string[]): string {
  return `[${fields.join(", ")}]`;
}
