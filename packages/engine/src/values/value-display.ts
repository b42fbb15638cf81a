import { CommitTsPlaceholder, type JSONValue, type Value, type ValidatorJSON } from "convex/values";
import { decodeMaybeValue } from "./maybe-value";

/**
 * Human-readable renderings of values and validators for error messages, close to the
 * backend's (`v.id("users")`, `{name: "x", n: 5n}`). Long values are cut short.
 */

const MAX_DISPLAY = 500;

/** Renders a value for an error message; `undefined` stands for a missing value. */
export function displayValue(value: Value | undefined): string {
  const text = render(value);
  return text.length > MAX_DISPLAY ? `${text.slice(0, MAX_DISPLAY)}…` : text;
}

function render(value: Value | undefined): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  switch (typeof value) {
    case "bigint":
      return `${value}n`;
    case "number":
      return Object.is(value, -0) ? "-0" : String(value);
    case "boolean":
      return String(value);
    case "string":
      return JSON.stringify(value);
  }
  if (value instanceof ArrayBuffer) return `Bytes(${value.byteLength})`;
  if (value instanceof CommitTsPlaceholder) return "commitTs";
  if (Array.isArray(value)) return `[${value.map(render).join(", ")}]`;
  const fields = Object.keys(value)
    .sort()
    .map((k) => `${k}: ${render((value as Record<string, Value>)[k])}`);
  return `{${fields.join(", ")}}`;
}

/** Renders validator JSON the way it is written in TypeScript (`v.array(v.string())`). */
export function displayValidator(validator: ValidatorJSON): string {
  switch (validator.type) {
    case "null":
    case "boolean":
    case "string":
    case "bytes":
    case "any":
    case "commitTs":
      return `v.${validator.type}()`;
    case "number":
      return "v.float64()";
    case "bigint":
      return "v.int64()";
    case "literal":
      return `v.literal(${render(decodeMaybeValue(validator.value as JSONValue))})`;
    case "id":
      return `v.id(${JSON.stringify(validator.tableName)})`;
    case "array":
      return `v.array(${displayValidator(validator.value)})`;
    case "record":
      return `v.record(${displayValidator(validator.keys as ValidatorJSON)}, ${displayValidator(validator.values.fieldType)})`;
    case "object": {
      const fields = Object.keys(validator.value)
        .sort()
        .map((name) => {
          const field = validator.value[name];
          const inner = displayValidator(field.fieldType);
          return `${name}: ${field.optional ? `v.optional(${inner})` : inner}`;
        });
      return `v.object({${fields.join(", ")}})`;
    }
    case "union":
      return `v.union(${validator.value.map(displayValidator).join(", ")})`;
    default: {
      const unknown: never = validator;
      return JSON.stringify(unknown);
    }
  }
}
