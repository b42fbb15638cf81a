import type { ValidatorJSON } from "convex/values";

/** A validator written as a TypeScript type: `{ clerkId: string, bio?: string }`. */
export function validatorText(validator: ValidatorJSON): string {
  switch (validator.type) {
    case "null":
    case "number":
    case "bigint":
    case "boolean":
    case "string":
    case "any":
    case "commitTs":
      return validator.type;
    case "bytes":
      return "ArrayBuffer";
    case "literal":
      return JSON.stringify(validator.value);
    case "id":
      return `Id<"${validator.tableName}">`;
    case "array":
      return `${wrapUnion(validator.value)}[]`;
    case "record":
      return `Record<${validatorText(validator.keys as ValidatorJSON)}, ${validatorText(validator.values.fieldType)}>`;
    case "object": {
      const fields = Object.entries(validator.value).map(([name, f]) => `${name}${f.optional ? "?" : ""}: ${validatorText(f.fieldType)}`);
      return fields.length === 0 ? "{}" : `{ ${fields.join(", ")} }`;
    }
    case "union":
      return validator.value.map(validatorText).join(" | ");
  }
}

/**
 * Arguments to start from: every required field with a value of its type
 * (`""`, `0`, `null` for a nullable cursor), optional fields left out.
 */
export function argsTemplate(validator: ValidatorJSON | null): string {
  if (validator === null || validator.type !== "object") return "{}";
  const value = templateFor(validator);
  return Object.keys(value as object).length === 0 ? "{}" : JSON.stringify(value, null, 2);
}

function templateFor(validator: ValidatorJSON): unknown {
  switch (validator.type) {
    case "null":
    case "any":
    case "commitTs":
      return null;
    case "number":
      return 0;
    case "bigint":
      return { $integer: "AAAAAAAAAAA=" };
    case "boolean":
      return false;
    case "string":
    case "id":
      return "";
    case "bytes":
      return { $bytes: "" };
    case "literal":
      return validator.value;
    case "array":
      return [];
    case "record":
      return {};
    case "object":
      // paginationOptsValidator: a first page of ten, not `numItems: 0` (which the engine refuses).
      if (isPaginationOpts(validator)) return { numItems: 10, cursor: null };
      return Object.fromEntries(
        Object.entries(validator.value)
          .filter(([, f]) => !f.optional)
          .map(([name, f]) => [name, templateFor(f.fieldType)]),
      );
    case "union":
      return validator.value.some((member) => member.type === "null") ? null : templateFor(validator.value[0] ?? { type: "null" });
  }
}

function isPaginationOpts(validator: ValidatorJSON & { type: "object" }): boolean {
  const fields = validator.value;
  return fields.numItems?.fieldType.type === "number" && fields.cursor !== undefined && !fields.numItems.optional;
}

function wrapUnion(validator: ValidatorJSON): string {
  const text = validatorText(validator);
  return validator.type === "union" ? `(${text})` : text;
}
