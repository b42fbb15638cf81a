import type { ValidatorJSON } from "convex/values";

/**
 * The JSON the `convex` package exports for validators and schemas. `.json` and `.export()`
 * exist at runtime but are internal in the typings, hence the casts in one place.
 */

/** `validator.json` of a `v.*` validator. */
export function validatorJson(validator: object): ValidatorJSON {
  return (validator as { json: ValidatorJSON }).json;
}

/** `schema.export()` of a `defineSchema(...)` result. */
export function schemaExport(schema: object): string {
  return (schema as { export(): string }).export();
}
