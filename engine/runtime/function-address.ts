import { EngineError } from "../errors.js";
import type { FunctionAddress } from "./execution.js";
import { canonicalUdfPath } from "./udf-path.js";

const HANDLE_PREFIX = "function://";

/** The canonical path a syscall's function address names (`name`, a handle, or a component reference). */
export function resolveAddress(address: FunctionAddress): string {
  if (typeof address.name === "string") return canonicalUdfPath(address.name);
  if (typeof address.functionHandle === "string") {
    if (!address.functionHandle.startsWith(HANDLE_PREFIX)) {
      throw new EngineError("InvalidFunctionHandle", `Invalid function handle "${address.functionHandle}".`);
    }
    return canonicalUdfPath(address.functionHandle.slice(HANDLE_PREFIX.length));
  }
  if (typeof address.reference === "string") {
    throw new EngineError("ComponentsUnsupported", "Calling functions of Convex components is not supported by this engine.");
  }
  throw new EngineError("InvalidFunctionAddress", "A function call needs a function reference.");
}
