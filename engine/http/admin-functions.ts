import type { Runtime } from "../runtime/runtime.js";
import type { UdfKind, ValidatorJson, Visibility } from "../runtime/function-registry.js";

/** A callable function as the dashboard lists it. */
export interface FunctionEntry {
  /** Canonical path, `"posts:createPost"`. */
  path: string;
  kind: UdfKind;
  visibility: Visibility;
  /** The args validator (`exportArgs()`), null when any arguments are accepted. */
  args: ValidatorJson | null;
  /** The return validator, null when none is declared. */
  returns: ValidatorJson | null;
}

/** Every query, mutation and action of the loaded app, public and internal, by path. */
export function listFunctions(runtime: Runtime): FunctionEntry[] {
  return [...runtime.definition.functions.values()]
    .map((fn) => ({ path: fn.path, kind: fn.kind, visibility: fn.visibility, args: fn.argsValidator, returns: fn.returnsValidator }))
    .sort((a, b) => a.path.localeCompare(b.path));
}
