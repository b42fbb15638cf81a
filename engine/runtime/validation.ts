import type { Value } from "convex/values";
import { EngineError } from "../errors.js";
import { validateValue } from "../values/validator.js";
import type { RegisteredFunction } from "./function-registry.js";
import type { RuntimeDatabase } from "./runtime-database.js";

/** Checks a call's arguments against the function's exported validator (§2.4). */
export function checkArgs(fn: RegisteredFunction, args: Record<string, Value>, db: RuntimeDatabase): void {
  if (fn.argsValidator === null) return;
  const problem = validateValue(fn.argsValidator, args, {
    tableNameOf: (n) => db.tableNameOfNumber(n),
  });
  if (problem !== null) {
    throw new EngineError("ArgumentValidationError", `ArgumentValidationError: ${problem}`);
  }
}

/** Checks a function's return value against its `returns` validator. */
export function checkReturns(fn: RegisteredFunction, value: Value, db: RuntimeDatabase): void {
  if (fn.returnsValidator === null) return;
  const problem = validateValue(fn.returnsValidator, value, {
    tableNameOf: (n) => db.tableNameOfNumber(n),
  });
  if (problem !== null) {
    throw new EngineError("ReturnsValidationError", `ReturnsValidationError: ${fn.path} return value invalid: ${problem}`);
  }
}
