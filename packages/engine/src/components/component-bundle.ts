import { readFileSync } from "node:fs";
import path from "node:path";
import { EngineError } from "../errors.js";
import type { FolderBuildOptions, FolderBundle } from "../runtime/folder-bundle.js";
import { discoverAppFolder } from "../runtime/module-discovery.js";
import { COMPONENT_CONDITIONS, findAppConfig } from "./definition-bundler.js";
import { loadComponentTree, type ComponentTree } from "./definition-tree.js";

/** The components an app installs, compiled: the instance tree and one functions bundle per definition. */
export interface ComponentsBundle {
  tree: ComponentTree;
  /** Functions bundle of each definition, by definition path. */
  folders: Record<string, FolderBundle>;
}

/** Bundles one folder of functions (the app bundler's, handed in so this layer does not import it back). */
export type FolderBundler = (dir: string, options: FolderBuildOptions) => Promise<FolderBundle>;

/** A `"use node"` directive before any statement. */
const USE_NODE = /^(?:\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*["']use node["']/;

/**
 * Compiles what `convex/convex.config.ts` installs, or returns null when the
 * app has no such file. Each definition's folder is bundled once (instances
 * of one definition share its code but each evaluates its own copy), for
 * Convex's isolate as the CLI does: browser platform, the `convex` and
 * `module` conditions. Like the CLI, a component with `"use node"` modules is
 * refused: Convex runs component code only in its isolate.
 */
export async function bundleComponents(appDir: string, bundleFolder: FolderBundler): Promise<ComponentsBundle | null> {
  const config = findAppConfig(path.resolve(appDir));
  if (config === null) return null;
  const tree = await loadComponentTree(appDir, config);
  const folders: Record<string, FolderBundle> = {};
  for (const definition of Object.values(tree.definitions)) {
    for (const module of discoverAppFolder(definition.dir).modules) {
      if (USE_NODE.test(readFileSync(module.file, "utf8"))) {
        throw new EngineError(
          "ComponentFeatureUnsupported",
          `"use node" is not supported in components (as on Convex). Remove it from ${module.file}.`,
        );
      }
    }
    folders[definition.definitionPath] = await bundleFolder(definition.dir, { platform: "browser", conditions: COMPONENT_CONDITIONS });
  }
  return { tree, folders };
}
