import type { AppFolderLayout } from "./module-discovery.js";

// What bundling a functions folder yields, shared by the app's bundler and the components'.

/** A functions folder compiled into one CommonJS script, ready for the loader. */
export interface FolderBundle {
  /** CommonJS source; evaluating it yields `{ modules, schema, authConfig }`. */
  code: string;
  layout: AppFolderLayout;
  /** Every file esbuild read, for watch mode. */
  inputs: string[];
}

/** How a folder's imports resolve: the app as Node code, a component as Convex's isolate code. */
export interface FolderBuildOptions {
  platform: "node" | "browser";
  /** Extra package.json `exports` conditions. */
  conditions?: string[];
}
