import { EngineError } from "../errors.js";
import { isValidComponentName } from "../values/table-names.js";

/**
 * How calls name functions across components (convex/server
 * `components/paths.ts`, convex-interface.md §3.6):
 *
 * - `name` (`"lib:rateLimit"`): a function of the calling component itself
 *   (`api.x.y` and `internal.x.y` inside a component are its own functions);
 * - `reference` `_reference/childComponent/<child>/<module…>/<function>`
 *   (`components.rateLimiter.lib.rateLimit`): a function a child component
 *   exports, i.e. one of its public functions, resolved from the caller;
 * - `functionHandle` (`createFunctionHandle(ref)`): any function, public or
 *   internal, of any component, stable across pushes: the handle names the
 *   component path and the function, `function://<component>;<module>:<fn>`
 *   (`function://<module>:<fn>` in the app itself, the engine's earlier form).
 */

/** A call's target. */
export interface FunctionTarget {
  /** Component path, `""` for the app. */
  component: string;
  /** Function path within it, as sent (canonicalized by the caller). */
  path: string;
  /** Only a public function may be reached (a child's exports). */
  exportedOnly: boolean;
}

const HANDLE_PREFIX = "function://";
const CHILD_PREFIX = "_reference/childComponent/";
const OWN_PREFIX = "_reference/function/";

/** The target a `reference` names, seen from `caller`. */
export function referenceTarget(reference: string, caller: string): FunctionTarget {
  if (reference.startsWith(OWN_PREFIX)) {
    return { component: caller, path: reference.slice(OWN_PREFIX.length), exportedOnly: false };
  }
  if (!reference.startsWith(CHILD_PREFIX)) {
    throw new EngineError("InvalidReference", `Unsupported function reference "${reference}".`);
  }
  const parts = reference.slice(CHILD_PREFIX.length).split("/");
  const child = parts[0] ?? "";
  if (!isValidComponentName(child) || parts.length < 3 || parts.some((p) => p === "")) {
    throw new EngineError(
      "InvalidReference",
      `Invalid component function reference "${reference}": expected components.<component>.<module>.<function>.`,
    );
  }
  const exportName = parts[parts.length - 1]!;
  const modulePath = parts.slice(1, -1).join("/");
  return { component: caller === "" ? child : `${caller}/${child}`, path: `${modulePath}:${exportName}`, exportedOnly: true };
}

/** The handle string for a function. */
export function functionHandle(component: string, path: string): string {
  return component === "" ? `${HANDLE_PREFIX}${path}` : `${HANDLE_PREFIX}${component};${path}`;
}

/** The target of a handle string. */
export function handleTarget(handle: string): FunctionTarget {
  if (!handle.startsWith(HANDLE_PREFIX)) {
    throw new EngineError("InvalidFunctionHandle", `Invalid function handle "${handle}".`);
  }
  const body = handle.slice(HANDLE_PREFIX.length);
  const semicolon = body.indexOf(";");
  if (semicolon === -1) return { component: "", path: body, exportedOnly: false };
  const component = body.slice(0, semicolon);
  if (!component.split("/").every(isValidComponentName)) {
    throw new EngineError("InvalidFunctionHandle", `Invalid function handle "${handle}".`);
  }
  return { component, path: body.slice(semicolon + 1), exportedOnly: false };
}

/** How logs and the call list name a function of a component (`pool/worker:run`); the app's keep their path. */
export function displayFunctionName(component: string, path: string): string {
  return component === "" ? path : `${component}/${path}`;
}
