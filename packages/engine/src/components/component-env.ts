import type { ValidatorJSON } from "convex/values";
import { EngineError } from "../errors.js";
import { validateValue } from "../values/validator.js";
import type { DefinitionSpec, InstanceSpec } from "./definition-tree.js";

/** Deployment env vars every component sees too (Convex's system env vars). */
const SYSTEM_ENV = ["CONVEX_CLOUD_URL", "CONVEX_SITE_URL"];

/** Ids are not strings a component env var can hold, so no table lookup is ever needed. */
const NO_TABLES = { tableNameOf: () => null };

/**
 * The `process.env` of one component instance, as Convex builds it: only the
 * variables its definition declares (`defineComponent(name, { env })`), with
 * the values its parent bound in `use(child, { env })` — a literal, or a
 * reference to one of the parent's own variables (the app's are the
 * deployment's env vars) — plus the system variables. A binding the
 * definition does not declare, a missing required variable or a value its
 * validator refuses stops the load with a message naming the component.
 */
export function componentEnv(
  instance: InstanceSpec,
  definition: DefinitionSpec,
  parentEnv: Readonly<Record<string, string>>,
  deploymentEnv: Readonly<Record<string, string>>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of SYSTEM_ENV) if (deploymentEnv[name] !== undefined) env[name] = deploymentEnv[name];
  const declared = new Map(definition.env.map((d) => [d.name, d]));
  for (const [name, binding] of instance.env) {
    if (!declared.has(name)) {
      throw envError(instance, `it is given the env var ${name}, which defineComponent("${definition.name}") does not declare`);
    }
    const value = binding.type === "value" ? binding.value : parentEnv[binding.name];
    if (value !== undefined) env[name] = value;
  }
  for (const decl of definition.env) {
    const value = env[decl.name];
    if (value === undefined) {
      if (!decl.optional) throw envError(instance, `its required env var ${decl.name} is not set`);
      continue;
    }
    const problem = validateValue(decl.validator as ValidatorJSON, value, NO_TABLES);
    if (problem !== null) throw envError(instance, `its env var ${decl.name} is invalid: ${problem}`);
  }
  return env;
}

function envError(instance: InstanceSpec, detail: string): EngineError {
  return new EngineError("InvalidComponentEnv", `Component "${instance.path}" cannot start: ${detail}.`);
}
