/**
 * `_generated/dataModel.d.ts`, for an app with `schema.ts` and for one without, in
 * the shape `npx convex codegen` (convex@1.48.0) writes, so front ends and `tsc` see
 * exactly what they would see with Convex's own CLI. Assembled into
 * `convex/_generated/` by `generate-code.ts`.
 */

/** `dataModel.d.ts` for an app with `schema.ts`. */
export const DATA_MODEL_DTS = `/* eslint-disable */
/**
 * Generated data model types.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */

import type {
  DataModelFromSchemaDefinition,
  DocumentByName,
  TableNamesInDataModel,
  SystemTableNames,
} from "convex/server";
import type { GenericId } from "convex/values";
import schema from "../schema.js";

/**
 * The names of all of your Convex tables.
 */
export type TableNames = TableNamesInDataModel<DataModel>;

/**
 * The type of a document stored in Convex.
 *
 * @typeParam TableName - A string literal type of the table name (like "users").
 */
export type Doc<TableName extends TableNames> = DocumentByName<
  DataModel,
  TableName
>;

/**
 * An identifier for a document in Convex.
 *
 * Convex documents are uniquely identified by their \`Id\`, which is accessible
 * on the \`_id\` field. To learn more, see [Document IDs](https://docs.convex.dev/using/document-ids).
 *
 * Documents can be loaded using \`db.get(tableName, id)\` in query and mutation functions.
 *
 * IDs are just strings at runtime, but this type can be used to distinguish them from other
 * strings when type checking.
 *
 * @typeParam TableName - A string literal type of the table name (like "users").
 */
export type Id<TableName extends TableNames | SystemTableNames> =
  GenericId<TableName>;

/**
 * A type describing your Convex data model.
 *
 * This type includes information about what tables you have, the type of
 * documents stored in those tables, and the indexes defined on them.
 *
 * This type is used to parameterize methods like \`queryGeneric\` and
 * \`mutationGeneric\` to make them type-safe.
 */
export type DataModel = DataModelFromSchemaDefinition<typeof schema>;
`;

/** `dataModel.d.ts` without `schema.ts`: permissive types, like Convex's own. */
export const NO_SCHEMA_DATA_MODEL_DTS = `/* eslint-disable */
/**
 * Generated data model types.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */

import { AnyDataModel } from "convex/server";
import type { GenericId } from "convex/values";

/**
 * There is no \`schema.ts\` in this app, so documents are typed loosely
 * (\`Doc = any\`). Add a schema (https://docs.convex.dev/using/schemas) for
 * precise types, then run codegen again.
 */

/** The names of the tables. */
export type TableNames = string;

/** A document of any table. */
export type Doc = any;

/** A document id; ids are strings at runtime, typed per table. */
export type Id<TableName extends TableNames = TableNames> = GenericId<TableName>;

/** The data model, without a schema. */
export type DataModel = AnyDataModel;
`;
