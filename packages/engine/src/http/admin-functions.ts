import { displayFunctionName } from "../components/function-references.js";
import type { Runtime } from "../runtime/runtime.js";
import type { UdfKind, ValidatorJson, Visibility } from "../runtime/function-registry.js";

/** A callable function as the dashboard lists it. */
export interface FunctionEntry {
  /** How it is shown and routed: the canonical path, `"posts:createPost"`, prefixed by its component's path in a component (`"pool/lib:enqueue"`). */
  path: string;
  /** Its component's path, `""` for the app's own functions. */
  component: string;
  /** Its path within that component (what `/api/function` takes with `componentPath`). */
  functionPath: string;
  kind: UdfKind;
  visibility: Visibility;
  /** The args validator (`exportArgs()`), null when any arguments are accepted. */
  args: ValidatorJson | null;
  /** The return validator, null when none is declared. */
  returns: ValidatorJson | null;
}

/** Every query, mutation and action of the loaded app and of its components, public and internal, by path. */
export function listFunctions(runtime: Runtime): FunctionEntry[] {
  return [...runtime.definition.components.values()]
    .flatMap((scope) => [...scope.functions.values()])
    .map((fn) => ({
      path: displayFunctionName(fn.component, fn.path),
      component: fn.component,
      functionPath: fn.path,
      kind: fn.kind,
      visibility: fn.visibility,
      args: fn.argsValidator,
      returns: fn.returnsValidator,
    }))
    .sort((a, b) => a.path.localeCompare(b.path));
}
