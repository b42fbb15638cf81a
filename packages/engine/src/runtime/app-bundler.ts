import * as esbuild from "esbuild";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { EngineError } from "../errors.js";
import { bundleComponents, type ComponentsBundle } from "../components/component-bundle.js";
import type { FolderBuildOptions, FolderBundle } from "./folder-bundle.js";
import { discoverAppFolder } from "./module-discovery.js";

export type { FolderBuildOptions, FolderBundle } from "./folder-bundle.js";

/** The app folder compiled, with the components its `convex.config.ts` installs (null without one). */
export interface AppBundle extends FolderBundle {
  components: ComponentsBundle | null;
}

/**
 * Packages the engine provides itself. User code must share the engine's copy
 * of `convex` because the function wrappers talk to the engine through the
 * global `Convex` object and mark errors with shared symbols.
 */
export const ENGINE_PROVIDED_PACKAGES = ["convex"];

/**
 * Bundles every function module, `schema.ts` and `auth.config.ts` of an app
 * folder into a single script (esbuild). npm packages the app imports are
 * bundled in, as `npx convex deploy` does; `convex/*` stays external and is
 * resolved to the engine's copy by the loader.
 */
export async function bundleApp(appDir: string): Promise<AppBundle> {
  const functions = await bundleFolder(appDir, { platform: "node" });
  const components = await bundleComponents(appDir, bundleFolder);
  return { ...functions, components };
}

/** Bundles one functions folder (the app's, or a component's) into a script. */
export async function bundleFolder(appDir: string, options: FolderBuildOptions): Promise<FolderBundle> {
  const root = path.resolve(appDir);
  const layout = discoverAppFolder(root);
  const lines: string[] = [];
  const entries: string[] = [];
  layout.modules.forEach((m, i) => {
    lines.push(`import * as m${i} from ${JSON.stringify("./" + path.relative(root, m.file))};`);
    entries.push(`${JSON.stringify(m.modulePath)}: m${i}`);
  });
  lines.push(`export const modules = { ${entries.join(", ")} };`);
  lines.push(`export const nodeModules = ${JSON.stringify(layout.modules.filter((m) => m.useNode).map((m) => m.modulePath))};`);
  const nodeExternals = nodeExternalPackages(path.dirname(root));
  if (layout.schemaFile) {
    lines.push(`export { default as schema } from ${JSON.stringify("./" + path.basename(layout.schemaFile))};`);
  } else lines.push("export const schema = null;");
  if (layout.authConfigFile) {
    lines.push(`export { default as authConfig } from ${JSON.stringify("./" + path.basename(layout.authConfigFile))};`);
  } else lines.push("export const authConfig = null;");

  let result: esbuild.BuildResult<{ write: false; metafile: true }>;
  try {
    result = await esbuild.build({
      stdin: { contents: lines.join("\n"), resolveDir: root, sourcefile: "convex-entry.js", loader: "js" },
      bundle: true,
      write: false,
      metafile: true,
      format: "cjs",
      platform: options.platform,
      conditions: options.conditions,
      target: "node20",
      external: [...ENGINE_PROVIDED_PACKAGES, ...(nodeExternals === "all" ? [] : nodeExternals)].flatMap((p) => [p, `${p}/*`]),
      // Left to node's require at load time, resolved from the project's node_modules.
      packages: nodeExternals === "all" ? "external" : undefined,
      logLevel: "silent",
      sourcemap: "inline",
      sourcesContent: false,
      absWorkingDir: path.dirname(root),
      jsx: "automatic",
    });
  } catch (e) {
    throw buildError(e);
  }
  const code = result.outputFiles[0]?.text ?? "";
  const inputs = Object.keys(result.metafile.inputs)
    .filter((f) => !f.startsWith("<stdin>") && !f.includes("node_modules"))
    .map((f) => path.resolve(path.dirname(root), f));
  return { code, layout, inputs };
}

/**
 * The packages `convex.json` (beside the functions folder, as the Convex CLI
 * reads it) keeps out of the bundle: `node.externalPackages`, which Convex
 * installs from npm for its Node.js runtime instead of bundling. Packages with
 * native binaries (sharp) work only this way. The engine leaves them to
 * node's `require`, so they resolve from the project's `node_modules`.
 */
function nodeExternalPackages(projectDir: string): string[] | "all" {
  const file = path.join(projectDir, "convex.json");
  if (!existsSync(file)) return [];
  let config: { node?: { externalPackages?: unknown } };
  try {
    config = JSON.parse(readFileSync(file, "utf8")) as typeof config;
  } catch (e) {
    throw new EngineError("BuildFailed", `${file} is not valid JSON: ${(e as Error).message}`);
  }
  const list = config.node?.externalPackages ?? [];
  if (!Array.isArray(list) || !list.every((p) => typeof p === "string")) {
    throw new EngineError("BuildFailed", `${file}: node.externalPackages must be a list of package names.`);
  }
  return list.includes("*") ? "all" : (list as string[]);
}

/** Build errors spelled out; a missing folder can fail every file's import, and the first few say it all. */
const MAX_LISTED_BUILD_ERRORS = 5;

/** Turns esbuild's failure into an EngineError that lists `file:line:column: message`. */
function buildError(e: unknown): EngineError {
  const failure = e as { errors?: esbuild.Message[] };
  if (!failure.errors) {
    return new EngineError("BuildFailed", `Could not bundle the functions: ${String(e)}`);
  }
  const shown = failure.errors.slice(0, MAX_LISTED_BUILD_ERRORS);
  const more = failure.errors.length - shown.length;
  const text = shown
    .map((m) => {
      const loc = m.location;
      const where = loc ? `${loc.file}:${loc.line}:${loc.column + 1}: ` : "";
      const source = loc?.lineText ? `\n    ${loc.lineText}` : "";
      return `${where}error: ${m.text}${source}`;
    })
    .join("\n") + (more > 0 ? `\n… and ${more} more` : "");
  // A folder that was never through codegen (a fresh clone with _generated/ ignored) fails on its first import of it.
  const missingGenerated = failure.errors.some((m) => /Could not resolve "(\.\.?\/)+_generated\//.test(m.text));
  const hint = missingGenerated ? "\n_generated/ is missing: run `npm run codegen` (or `npm run dev`, which writes it and keeps it current)." : "";
  return new EngineError("BuildFailed", `Could not bundle the functions:\n${text}${hint}`);
}
