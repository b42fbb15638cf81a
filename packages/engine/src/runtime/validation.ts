import type { JSONValue, Value } from "convex/values";
import { EngineError } from "../errors.js";
import { decodeValue } from "../values/maybe-value.js";
import { validateValue, type ValidationContext } from "../values/validator.js";
import { isPlainConvexJson, jsonCheck } from "../values/validator-check.js";
import type { RegisteredFunction } from "./function-registry.js";

/**
 * Argument and return validation (§2.4), on the Convex JSON the call carries.
 * The compiled checks of `validator-check.ts` accept the common case without
 * decoding anything; whatever they decline is decoded and checked by
 * `validateValue`, which words the error.
 */

/** Checks a call's arguments: valid Convex JSON, an object, and matching the function's validator. */
export function checkArgs(fn: RegisteredFunction, json: JSONValue, context: ValidationContext): void {
  if (isObject(json) && (fn.argsValidator === null ? isPlainConvexJson(json) : jsonCheck(fn.argsValidator, context)(json))) {
    return;
  }
  const value = decodeValue(json);
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof ArrayBuffer) {
    throw new EngineError("InvalidArguments", `ArgumentValidationError: Arguments for ${fn.path} must be an object.`);
  }
  if (fn.argsValidator === null) return;
  const problem = validateValue(fn.argsValidator, value, context);
  if (problem !== null) {
    throw new EngineError("ArgumentValidationError", `ArgumentValidationError: ${problem}`);
  }
}

/** Checks a function's return value (Convex JSON) against its `returns` validator. */
export function checkReturns(fn: RegisteredFunction, json: JSONValue, context: ValidationContext): void {
  if (fn.returnsValidator === null || jsonCheck(fn.returnsValidator, context)(json)) return;
  const problem = validateValue(fn.returnsValidator, decodeValue(json) as Value, context);
  if (problem !== null) {
    throw new EngineError("ReturnsValidationError", `ReturnsValidationError: ${fn.path} return value invalid: ${problem}`);
  }
}

function isObject(json: JSONValue): boolean {
  return typeof json === "object" && json !== null && !Array.isArray(json);
}
