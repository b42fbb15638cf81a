import { CommitTsPlaceholder, compareValues, type JSONValue, type Value, type ValidatorJSON } from "convex/values";
import { tableNumberOfId } from "./document-id";
import { isObjectValue } from "./field-path";
import { isSystemTableName } from "./table-names";
import { decodeMaybeValue } from "./maybe-value";
import { displayValidator, displayValue } from "./value-display";

/**
 * Checking a Convex value against validator JSON (`exportArgs()`, `exportReturns()`, a
 * schema's `documentType`). The messages follow the backend's wording so that users see
 * what they would see on Convex; the caller adds the prefix (`ArgumentValidationError: `,
 * `… does not match the schema: `).
 */

/** What validation needs from outside: the table behind an id's table number. */
export interface ValidationContext {
  /** The name of the table with this number, or null when no such table exists. */
  tableNameOf(tableNumber: number): string | null;
}

/**
 * Checks `value` against `validator`. Returns null when it matches, otherwise the message
 * of the first mismatch, ending with a `Path: .a[0].b` line when the mismatch is nested.
 */
export function validateValue(validator: ValidatorJSON, value: Value, context: ValidationContext): string | null {
  return check(validator, value, "", context);
}

function check(validator: ValidatorJSON, value: Value, path: string, context: ValidationContext): string | null {
  switch (validator.type) {
    case "any":
      return null;
    case "null":
      return value === null ? null : noMatch(validator, value, path);
    case "number":
      return typeof value === "number" ? null : noMatch(validator, value, path);
    case "bigint":
      return typeof value === "bigint" ? null : noMatch(validator, value, path);
    case "commitTs":
      return typeof value === "bigint" || value instanceof CommitTsPlaceholder ? null : noMatch(validator, value, path);
    case "boolean":
      return typeof value === "boolean" ? null : noMatch(validator, value, path);
    case "string":
      return typeof value === "string" ? null : noMatch(validator, value, path);
    case "bytes":
      return value instanceof ArrayBuffer ? null : noMatch(validator, value, path);
    case "literal": {
      const literal = decodeMaybeValue(validator.value as JSONValue);
      if (literal !== undefined && compareValues(literal, value) === 0) return null;
      return withPath(`\`${displayValue(value)}\` does not match literal validator \`${displayValidator(validator)}\`.`, path);
    }
    case "id":
      return checkId(validator, value, path, context);
    case "array": {
      if (!Array.isArray(value)) return noMatch(validator, value, path);
      for (let i = 0; i < value.length; i++) {
        const error = check(validator.value, value[i], `${path}[${i}]`, context);
        if (error !== null) return error;
      }
      return null;
    }
    case "record": {
      if (!isObjectValue(value)) return noMatch(validator, value, path);
      for (const key of Object.keys(value)) {
        const keyError = check(validator.keys as ValidatorJSON, key, `${path}.keys()`, context);
        if (keyError !== null) return keyError;
        const valueError = check(validator.values.fieldType, value[key], `${path}.values()`, context);
        if (valueError !== null) return valueError;
      }
      return null;
    }
    case "object":
      return checkObject(validator, value, path, context);
    case "union": {
      if (validator.value.length === 1) return check(validator.value[0], value, path, context);
      for (const member of validator.value) {
        if (check(member, value, path, context) === null) return null;
      }
      return noMatch(validator, value, path);
    }
    default: {
      const unknown: never = validator;
      return `Unknown validator ${JSON.stringify(unknown)}`;
    }
  }
}

function checkObject(
  validator: Extract<ValidatorJSON, { type: "object" }>,
  value: Value,
  path: string,
  context: ValidationContext,
): string | null {
  if (!isObjectValue(value)) return noMatch(validator, value, path);
  const names = Object.keys(validator.value).sort();
  for (const name of names) {
    const field = validator.value[name];
    const present = Object.prototype.hasOwnProperty.call(value, name) && value[name] !== undefined;
    if (present) {
      const error = check(field.fieldType, value[name], `${path}.${name}`, context);
      if (error !== null) return error;
    } else if (!field.optional) {
      return withDetails(
        `Object is missing the required field \`${name}\`. Consider wrapping the field validator in \`v.optional(...)\` if this is expected.`,
        path,
        value,
        validator,
      );
    }
  }
  for (const name of Object.keys(value).sort()) {
    if (value[name] === undefined) continue;
    if (!Object.prototype.hasOwnProperty.call(validator.value, name)) {
      return withDetails(`Object contains extra field \`${name}\` that is not in the validator.`, path, value, validator);
    }
  }
  return null;
}

function checkId(
  validator: Extract<ValidatorJSON, { type: "id" }>,
  value: Value,
  path: string,
  context: ValidationContext,
): string | null {
  if (typeof value !== "string") return noMatch(validator, value, path);
  const tableNumber = tableNumberOfId(value);
  const found = tableNumber === null ? null : context.tableNameOf(tableNumber);
  if (found === null) return noMatch(validator, value, path);
  if (found === validator.tableName) return null;
  const expected = `\`v.id(${JSON.stringify(validator.tableName)})\``;
  if (isSystemTableName(found)) {
    return withPath(`Found ID "${value}" from a system table, which does not match the table name in validator ${expected}.`, path);
  }
  return withPath(`Found ID "${value}" from table \`${found}\`, which does not match the table name in validator ${expected}.`, path);
}

function noMatch(validator: ValidatorJSON, value: Value, path: string): string {
  const lines = ["Value does not match validator."];
  if (path !== "") lines.push(`Path: ${path}`);
  lines.push(`Value: ${displayValue(value)}`, `Validator: ${displayValidator(validator)}`);
  return lines.join("\n");
}

function withDetails(message: string, path: string, value: Value, validator: ValidatorJSON): string {
  const lines = [message];
  if (path !== "") lines.push(`Path: ${path}`);
  lines.push(`Object: ${displayValue(value)}`, `Validator: ${displayValidator(validator)}`);
  return lines.join("\n");
}

function withPath(message: string, path: string): string {
  return path === "" ? message : `${message}\nPath: ${path}`;
}
