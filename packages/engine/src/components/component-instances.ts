import { EngineError } from "../errors.js";
import { evaluateBundle } from "../runtime/app-loader.js";
import { defineApp, type AppDefinition, type ComponentScope, type RegisteredFunction } from "../runtime/function-registry.js";
import type { ComponentsBundle } from "./component-bundle.js";
import { componentEnv } from "./component-env.js";
import { physicalValidator } from "./physical-schema.js";

/**
 * Adds the installed components to a loaded app definition: each instance
 * evaluates its definition's bundle on its own (its own module state and its
 * own `process.env`, as each runs in its own isolate on Convex), and its
 * functions are registered under its path with validators in store names.
 * Runs wherever the app is evaluated (the main thread, or a worker with its
 * own copy of the app).
 */
export function addComponents(app: AppDefinition, bundle: ComponentsBundle | null, deploymentEnv: Readonly<Record<string, string>>): AppDefinition {
  if (bundle === null) return app;
  const envs = componentEnvs(bundle, deploymentEnv);
  for (const instance of bundle.tree.instances) {
    const definition = bundle.tree.definitions[instance.definitionPath]!;
    const env = envs.get(instance.path)!;
    let loaded: AppDefinition;
    try {
      loaded = defineApp(evaluateBundle(bundle.folders[definition.definitionPath]!, definition.dir, env), instance.path);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new EngineError("ModuleLoadFailed", `Component "${instance.path}" (${definition.dir}) failed to load: ${message}`);
    }
    const scope: ComponentScope = { path: instance.path, functions: new Map(), schema: loaded.schema, crons: loaded.crons };
    for (const [path, fn] of loaded.functions) scope.functions.set(path, inStoreTerms(fn));
    app.components.set(instance.path, scope);
  }
  return app;
}

/**
 * Every instance's `process.env` for these deployment env vars, parents
 * first; throws the load error a component's env would cause. Changing a
 * deployment env var checks it first, so a value a component refuses is never
 * stored (the next start would fail on it).
 */
export function componentEnvs(bundle: ComponentsBundle | null, deploymentEnv: Readonly<Record<string, string>>): Map<string, Record<string, string>> {
  const envs = new Map<string, Record<string, string>>();
  for (const instance of bundle?.tree.instances ?? []) {
    const definition = bundle!.tree.definitions[instance.definitionPath]!;
    const parent = instance.path.includes("/") ? instance.path.slice(0, instance.path.lastIndexOf("/")) : "";
    envs.set(instance.path, componentEnv(instance, definition, parent === "" ? deploymentEnv : envs.get(parent)!, deploymentEnv));
  }
  return envs;
}

function inStoreTerms(fn: RegisteredFunction): RegisteredFunction {
  return {
    ...fn,
    argsValidator: fn.argsValidator === null ? null : physicalValidator(fn.argsValidator, fn.component),
    returnsValidator: fn.returnsValidator === null ? null : physicalValidator(fn.returnsValidator, fn.component),
  };
}
