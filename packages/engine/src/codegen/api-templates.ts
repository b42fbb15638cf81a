/**
 * The fixed parts of `_generated/api.d.ts` and `api.js` (the module imports and the
 * `fullApi` and `components` declarations between them depend on the app), in the shape
 * `npx convex codegen` (convex@1.48.0) writes, so front ends and `tsc` see exactly what
 * they would see with Convex's own CLI. Assembled into `convex/_generated/` by
 * `generate-code.ts`.
 */

/** Header of `api.d.ts`, before the module imports. */
export const API_DTS_HEADER = `/* eslint-disable */
/**
 * Generated \`api\` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */

`;

/** `api.d.ts` after the `fullApi` declaration, up to the `components` declaration. */
export const API_DTS_FOOTER = `/**
 * A utility for referencing Convex functions in your app's public API.
 *
 * Usage:
 * \`\`\`js
 * const myFunctionReference = api.myModule.myFunction;
 * \`\`\`
 */
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;

/**
 * A utility for referencing Convex functions in your app's internal API.
 *
 * Usage:
 * \`\`\`js
 * const myFunctionReference = internal.myModule.myFunction;
 * \`\`\`
 */
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;

`;

/** `api.js`. */
export const API_JS = `/* eslint-disable */
/**
 * Generated \`api\` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run \`npx convex dev\`.
 * @module
 */

import { anyApi, componentsGeneric } from "convex/server";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * \`\`\`js
 * const myFunctionReference = api.myModule.myFunction;
 * \`\`\`
 */
export const api = anyApi;
export const internal = anyApi;
export const components = componentsGeneric();
`;
