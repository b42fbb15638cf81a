import { handleTarget, referenceTarget, type FunctionTarget } from "../components/function-references.js";
import { EngineError } from "../errors.js";
import type { FunctionAddress } from "./execution-context.js";
import { canonicalUdfPath } from "./udf-path.js";

/**
 * The function a syscall's address names (`name`, a handle, or a component
 * reference), seen from the component `caller` runs in (`""` for the app).
 */
export function resolveAddress(address: FunctionAddress, caller = ""): FunctionTarget {
  let target: FunctionTarget;
  if (typeof address.name === "string") target = { component: caller, path: address.name, exportedOnly: false };
  else if (typeof address.functionHandle === "string") target = handleTarget(address.functionHandle);
  else if (typeof address.reference === "string") target = referenceTarget(address.reference, caller);
  else throw new EngineError("InvalidFunctionAddress", "A function call needs a function reference.");
  return { ...target, path: canonicalUdfPath(target.path) };
}
