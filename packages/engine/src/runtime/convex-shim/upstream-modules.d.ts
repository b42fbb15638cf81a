/**
 * Types of the upstream `convex` modules the substitutes (`query-impl.ts`,
 * `index-range-builder.ts`) import as they are. `convex-shim-plugin.ts` resolves
 * `convex-upstream:<path>` to `convex/dist/esm/<path>` when it bundles the workers; the
 * package's `exports` do not list these modules, so no other import reaches them.
 */

declare module "convex-upstream:server/impl/validate.js" {
  export function validateArg(arg: unknown, idx: number, method: string, argName: string): void;
  export function validateArgIsNonNegativeInteger(arg: unknown, idx: number, method: string, argName: string): void;
}

declare module "convex-upstream:server/impl/filter_builder_impl.js" {
  export const filterBuilderImpl: unknown;
  export function serializeExpression(expr: unknown): unknown;
}

declare module "convex-upstream:server/impl/search_filter_builder_impl.js" {
  export class SearchFilterBuilderImpl {
    static new(): SearchFilterBuilderImpl;
  }
}

declare module "convex-upstream:server/index_range_builder.js" {
  export class IndexRange {}
}

declare module "convex-upstream:values/value.js" {
  import type { JSONValue, Value } from "convex/values";
  export function convexOrUndefinedToJson(value: Value | undefined): JSONValue;
}
