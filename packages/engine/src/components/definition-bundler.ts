import * as esbuild from "esbuild";
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { EngineError } from "../errors.js";

/**
 * Bundling of `convex.config.ts` files, the way `npx convex dev` finds
 * components (convex@1.48.0 `cli/lib/components/definition/bundle.ts`): an
 * import whose path mentions `convex.config` is resolved like any import (npm
 * packages through their `exports`, e.g. `@convex-dev/workpool/convex.config.js`
 * → `dist/component/convex.config.js`), and the directory of the file it
 * resolves to is that component's folder: its functions, its `schema`, its own
 * `convex.config`. Resolution uses the CLI's conditions (`convex`, `module`),
 * so a package that points the `convex` condition elsewhere is read where
 * Convex reads it.
 */

/** Module id a child definition's import is rewritten to; the evaluator answers it. */
export const CHILD_DEFINITION_PREFIX = "convex-component-definition:";

/** The esbuild conditions the CLI adds for component code. */
export const COMPONENT_CONDITIONS = ["convex", "module"];

/** One `convex.config.(ts|js)` compiled to CommonJS. */
export interface DefinitionSource {
  /** Absolute path of the config file. */
  configFile: string;
  /** CommonJS code; child definitions are `require(CHILD_DEFINITION_PREFIX + <their config file>)`. */
  code: string;
  /** The config files this one imports, with the import specifier as written (codegen names packages by it). */
  children: { configFile: string; specifier: string }[];
}

/** The app's `convex.config.ts` (or `.js`), or null when the app installs no components. */
export function findAppConfig(appDir: string): string | null {
  for (const name of ["convex.config.ts", "convex.config.js"]) {
    const file = path.join(appDir, name);
    if (existsSync(file) && statSync(file).isFile()) return file;
  }
  return null;
}

/**
 * Compiles one definition file. Its imports are bundled in (a config may
 * import validators from its package), except `convex` (the engine's copy)
 * and other definitions, which stay as requires the evaluator resolves.
 */
export async function bundleDefinition(configFile: string): Promise<DefinitionSource> {
  const children: DefinitionSource["children"] = [];
  const plugin: esbuild.Plugin = {
    name: "convex-child-definitions",
    setup(build) {
      build.onResolve({ filter: /convex\.config/ }, async (args) => {
        if (args.kind === "entry-point" || args.pluginData?.lookingUp === true) return undefined;
        const resolved = await resolveDefinitionImport(build, args);
        if (resolved === null) return undefined;
        children.push({ configFile: resolved, specifier: args.path });
        return { path: CHILD_DEFINITION_PREFIX + resolved, external: true };
      });
    },
  };
  let result: esbuild.BuildResult<{ write: false }>;
  try {
    result = await esbuild.build({
      entryPoints: [configFile],
      bundle: true,
      write: false,
      format: "cjs",
      platform: "neutral",
      mainFields: ["module", "main"],
      conditions: COMPONENT_CONDITIONS,
      external: ["convex", "convex/*"],
      logLevel: "silent",
      plugins: [plugin],
    });
  } catch (e) {
    const errors = (e as { errors?: esbuild.Message[] }).errors ?? [];
    const text = errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}: ${m.text}` : m.text)).join("\n");
    throw new EngineError("BuildFailed", `Could not bundle ${configFile}:\n${text || String(e)}`);
  }
  return { configFile, code: result.outputFiles[0]?.text ?? "", children };
}

/**
 * Where a `…convex.config…` import points, trying the spellings the CLI
 * tries (`x/convex.config` may mean `.js` or `.ts`); null when it is not a
 * file (then it is bundled as an ordinary import).
 */
async function resolveDefinitionImport(build: esbuild.PluginBuild, args: esbuild.OnResolveArgs): Promise<string | null> {
  const candidates = [args.path];
  const ext = path.extname(args.path);
  if (ext === ".js") candidates.push(args.path.slice(0, -3) + ".ts");
  if (ext !== ".js" && ext !== ".ts") candidates.push(args.path + ".js", args.path + ".ts");
  for (const candidate of candidates) {
    const found = await build.resolve(candidate, {
      kind: args.kind,
      resolveDir: args.resolveDir,
      importer: args.importer,
      pluginData: { lookingUp: true },
    });
    if (found.errors.length === 0 && found.path && !found.external) return found.path;
  }
  return null;
}
