import { compareValues, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { EngineError } from "../errors";
import { getFieldJson, splitFieldPath } from "../values/field-path";
import { decodeMaybeValue } from "../values/maybe-value";
import { displayValue } from "../values/value-display";

/**
 * Compiling the filter AST of `.filter()` (docs/convex-interface.md §4.3) into a closure over
 * a document's parsed Convex JSON. Comparisons use the total order of values (so mixed types
 * compare, missing fields are lowest); arithmetic needs two int64 or two float64; the whole
 * filter must produce a boolean — anything else is an `EvalError`, as on the backend.
 */

/** A parsed document: the `JSON.parse` of its stored text. */
export type DocumentJson = { [field: string]: JSONValue };

type Evaluator = (doc: DocumentJson) => Value | undefined;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Compiles a filter expression into a predicate. Malformed ASTs throw `InvalidQuery`. */
export function compileFilter(expression: JSONValue): (doc: DocumentJson) => boolean {
  const evaluate = compile(expression);
  return (doc) => asBoolean(evaluate(doc));
}

function compile(node: JSONValue): Evaluator {
  if (node === null || typeof node !== "object" || Array.isArray(node)) throw malformed(node);
  const keys = Object.keys(node);
  if (keys.length !== 1) throw malformed(node);
  const op = keys[0];
  const arg = node[op];
  switch (op) {
    case "$field": {
      if (typeof arg !== "string") throw malformed(node);
      const path = splitFieldPath(arg);
      return (doc) => fromJson(getFieldJson(doc, path));
    }
    case "$literal": {
      const value = decodeMaybeValue(arg);
      return () => value;
    }
    case "$eq":
      return comparison(arg, (c) => c === 0);
    case "$neq":
      return comparison(arg, (c) => c !== 0);
    case "$lt":
      return comparison(arg, (c) => c < 0);
    case "$lte":
      return comparison(arg, (c) => c <= 0);
    case "$gt":
      return comparison(arg, (c) => c > 0);
    case "$gte":
      return comparison(arg, (c) => c >= 0);
    case "$add":
      return arithmetic(arg, "add", (a, b) => a + b, (a, b) => a + b);
    case "$sub":
      return arithmetic(arg, "subtract", (a, b) => a - b, (a, b) => a - b);
    case "$mul":
      return arithmetic(arg, "multiply", (a, b) => a * b, (a, b) => a * b);
    case "$div":
      return arithmetic(arg, "divide", (a, b) => a / nonZero(b, "divide"), (a, b) => a / b);
    case "$mod":
      return arithmetic(arg, "mod", (a, b) => a % nonZero(b, "mod"), (a, b) => a % b);
    case "$neg": {
      const operand = compile(arg);
      return (doc) => {
        const v = operand(doc);
        if (typeof v === "bigint") return checked(-v, "negate");
        if (typeof v === "number") return -v;
        throw evalError(`Cannot negate ${displayValue(v)} (type ${typeName(v)})`);
      };
    }
    case "$not": {
      const operand = compile(arg);
      return (doc) => !asBoolean(operand(doc));
    }
    case "$and":
    case "$or": {
      if (!Array.isArray(arg)) throw malformed(node);
      const operands = arg.map(compile);
      const stopOn = op === "$or";
      return (doc) => {
        for (const operand of operands) {
          if (asBoolean(operand(doc)) === stopOn) return stopOn;
        }
        return !stopOn;
      };
    }
    default:
      throw malformed(node);
  }
}

function pair(arg: JSONValue): [Evaluator, Evaluator] {
  if (!Array.isArray(arg) || arg.length !== 2) throw malformed(arg);
  return [compile(arg[0]), compile(arg[1])];
}

function comparison(arg: JSONValue, test: (c: number) => boolean): Evaluator {
  const [left, right] = pair(arg);
  return (doc) => test(compareValues(left(doc), right(doc)));
}

function arithmetic(
  arg: JSONValue,
  name: string,
  ints: (a: bigint, b: bigint) => bigint,
  floats: (a: number, b: number) => number,
): Evaluator {
  const [left, right] = pair(arg);
  return (doc) => {
    const a = left(doc);
    const b = right(doc);
    if (typeof a === "bigint" && typeof b === "bigint") return checked(ints(a, b), name);
    if (typeof a === "number" && typeof b === "number") return floats(a, b);
    throw evalError(`Cannot ${name} ${displayValue(a)} (type ${typeName(a)}) and ${displayValue(b)} (type ${typeName(b)})`);
  };
}

function checked(v: bigint, name: string): bigint {
  if (v < INT64_MIN || v > INT64_MAX) throw evalError(`Integer overflow: cannot ${name} outside the int64 range`);
  return v;
}

function nonZero(b: bigint, name: string): bigint {
  if (b === 0n) throw evalError(`Cannot ${name} an int64 by zero`);
  return b;
}

function asBoolean(v: Value | undefined): boolean {
  if (typeof v === "boolean") return v;
  throw evalError(`Cannot use ${displayValue(v)} (type ${typeName(v)}) as a Boolean`);
}

/** Field values are read from JSON lazily; only encoded scalars need `jsonToConvex`. */
function fromJson(json: JSONValue | undefined): Value | undefined {
  if (json === undefined || json === null) return json;
  const type = typeof json;
  if (type === "string" || type === "boolean" || type === "number") return json as Value;
  return jsonToConvex(json);
}

function typeName(v: Value | undefined): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  if (typeof v === "bigint") return "int64";
  if (typeof v === "number") return "float64";
  if (typeof v === "boolean" || typeof v === "string") return typeof v;
  if (v instanceof ArrayBuffer) return "bytes";
  return Array.isArray(v) ? "array" : "object";
}

function evalError(message: string): EngineError {
  return new EngineError("EvalError", message);
}

function malformed(node: JSONValue): EngineError {
  return new EngineError("InvalidQuery", `Invalid filter expression: ${JSON.stringify(node)}`);
}
