import type { ValidatorJSON } from "convex/values";
import { EngineError } from "../errors";
import { validateValue, type ValidationContext } from "../values/validator";
import { valueCheck } from "../values/validator-check";
import type { DecodedDocument } from "./document-codec";
import type { SchemaJson } from "./schema-json";

/**
 * Schema validation of writes: when the schema asks for it, every inserted or replaced
 * document of a schema table must match its `documentType` (system fields excluded).
 * Tables the schema does not mention are not checked.
 */
export interface DocumentValidation {
  /** Switches to the validators of `schema` (null = none). */
  setSchema(schema: SchemaJson | null): void;
  /** Throws `EngineError("DocumentDoesNotMatchSchema")` when `fields` do not match `table`'s type. */
  check(table: string, fields: DecodedDocument): void;
}

/** Creates the write validation; ids are resolved through `context` (keep it: compiled checks are cached per context). */
export function createDocumentValidation(context: ValidationContext): DocumentValidation {
  let validators = new Map<string, ValidatorJSON>();
  return {
    setSchema(schema) {
      validators = new Map();
      if (schema === null || !schema.schemaValidation) return;
      for (const table of schema.tables) {
        if (table.documentType !== undefined && table.documentType.type !== "any") {
          validators.set(table.tableName, table.documentType);
        }
      }
    },
    check(table, fields) {
      const validator = validators.get(table);
      if (validator === undefined) return;
      const reason = schemaMismatch(validator, fields, context);
      if (reason !== null) {
        throw new EngineError(
          "DocumentDoesNotMatchSchema",
          `Failed to insert or update a document in table "${table}" because it does not match the schema: ${reason}`,
        );
      }
    },
  };
}

/**
 * Why `fields` (a document without its system fields) do not match `validator`, or null when
 * they do. The compiled check answers the common case; the full validator only runs to
 * decide and word a mismatch.
 */
export function schemaMismatch(validator: ValidatorJSON, fields: DecodedDocument, context: ValidationContext): string | null {
  return valueCheck(validator, context)(fields) ? null : validateValue(validator, fields, context);
}
