import type { ValidatorJSON } from "convex/values";
import type { SchemaJson, TableDefinitionJson } from "../store/schema-json.js";
import { tableInComponent } from "../values/table-names.js";

/**
 * Component names in the store. A component's code says `v.id("workers")` and
 * `defineTable(...)` in its own terms; the store, the validators and the read
 * and write sets use the namespaced names (`"pool/workers"`). Validators are
 * rewritten once, at load, so every check at call time compares store names
 * and needs no component context.
 */

/** `validator` with every `v.id(table)` naming the component's table. */
export function physicalValidator(validator: ValidatorJSON, component: string): ValidatorJSON {
  if (component === "") return validator;
  switch (validator.type) {
    case "id":
      return { ...validator, tableName: tableInComponent(component, validator.tableName) };
    case "array":
      return { ...validator, value: physicalValidator(validator.value, component) };
    case "record":
      return {
        ...validator,
        keys: physicalValidator(validator.keys as ValidatorJSON, component) as typeof validator.keys,
        values: { ...validator.values, fieldType: physicalValidator(validator.values.fieldType, component) },
      };
    case "object": {
      const fields: typeof validator.value = {};
      for (const [name, field] of Object.entries(validator.value)) {
        fields[name] = { ...field, fieldType: physicalValidator(field.fieldType, component) };
      }
      return { ...validator, value: fields };
    }
    case "union":
      return { ...validator, value: validator.value.map((v) => physicalValidator(v, component)) };
    default:
      return validator;
  }
}

/**
 * The one schema the store applies: the app's tables and every component
 * instance's, namespaced. The store has a single `schemaValidation` switch, so
 * when components are installed it is on and a schema that turned validation
 * off contributes its tables without document types (indexes only). Without
 * components the app's schema is returned as it is.
 */
export function physicalSchema(app: SchemaJson | null, components: { path: string; schema: SchemaJson | null }[]): SchemaJson | null {
  const withSchemas = components.filter((c) => c.schema !== null && c.schema.tables.length > 0);
  if (withSchemas.length === 0) return app;
  const tables: TableDefinitionJson[] = [];
  const add = (schema: SchemaJson, component: string) => {
    for (const table of schema.tables) {
      const documentType = schema.schemaValidation && table.documentType !== undefined ? physicalValidator(table.documentType, component) : undefined;
      tables.push({ ...table, tableName: tableInComponent(component, table.tableName), documentType });
    }
  };
  if (app !== null) add(app, "");
  for (const c of withSchemas) add(c.schema!, c.path);
  return { tables, schemaValidation: true };
}
