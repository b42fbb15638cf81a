import vm from "node:vm";
import path from "node:path";
import * as convexRoot from "convex";
import * as convexServer from "convex/server";
import * as convexValues from "convex/values";
import { EngineError } from "../errors.js";
import { isValidComponentName } from "../values/table-names.js";
import { bundleDefinition, CHILD_DEFINITION_PREFIX, type DefinitionSource } from "./definition-bundler.js";

/**
 * Evaluating `convex.config.ts` files into the tree of installed component
 * instances. A definition is evaluated once, children first: the object a
 * parent's `import x from "…/convex.config.js"` receives is what Convex's
 * runtime hands it (`{ componentDefinitionPath, defaultName }`, see
 * `convex/server` `use()`), so `app.use(x)` names the instance after
 * `defineComponent("name")` unless `{ name }` says otherwise. Runs on the main
 * thread at build time; the result is plain data (a worker can receive it).
 */

/** How a component env var is bound by its parent: a literal, or the parent's env var of that name. */
export type EnvBinding = { type: "value"; value: string } | { type: "envVar"; name: string };

/** A component env var a definition declares (`defineComponent(name, { env })`). */
export interface DeclaredEnvVar {
  name: string;
  /** The validator's JSON (string-like: string, literal, union of those). */
  validator: unknown;
  optional: boolean;
}

/** One component definition: a folder with functions, an optional schema, maybe children. */
export interface DefinitionSpec {
  /** The folder, relative to the app folder, `/`-separated (Convex's "definition path"). */
  definitionPath: string;
  /** Absolute folder path. */
  dir: string;
  /** `defineComponent("name")`. */
  name: string;
  env: DeclaredEnvVar[];
}

/** One installed component: where it sits in the tree and how its parent configured it. */
export interface InstanceSpec {
  /** `"rateLimiter"`, `"rateLimiter/batchWorker"`. */
  path: string;
  name: string;
  definitionPath: string;
  env: [string, EnvBinding][];
  /** Child name → child path. */
  children: Record<string, string>;
}

/** The whole installation, as data. */
export interface ComponentTree {
  definitions: Record<string, DefinitionSpec>;
  /** Every instance but the app itself, parents before children. */
  instances: InstanceSpec[];
  /** The app's children: name → path (= name). */
  rootChildren: Record<string, string>;
  /** The app's children as codegen names them: instance name and the import path of its package or folder. */
  rootImports: { name: string; importPath: string }[];
}

/** What `definition.export()` answers (convex/server `ComponentDefinitionAnalysis`), the fields used here. */
interface DefinitionAnalysis {
  definitionType: { type: "app" | "childComponent"; name?: string };
  httpPrefix?: string;
  httpMounts?: Record<string, string>;
  childComponents: { name: string; path: string; env: [string, EnvBinding][] | null }[];
  envVars?: [string, { type: "value"; value: string; optional?: boolean }][];
}

interface EvaluatedDefinition {
  source: DefinitionSource;
  spec: DefinitionSpec;
  analysis: DefinitionAnalysis;
}

/** Builds the instance tree from the app's config file (bundling every definition it reaches). */
export async function loadComponentTree(appDir: string, appConfig: string): Promise<ComponentTree> {
  const root = path.resolve(appDir);
  const sources = await bundleAll(appConfig);
  const evaluated = new Map<string, EvaluatedDefinition>();
  const evaluating = new Set<string>();

  const evaluate = (configFile: string): EvaluatedDefinition => {
    const done = evaluated.get(configFile);
    if (done !== undefined) return done;
    if (evaluating.has(configFile)) throw invalid(`${configFile} installs itself (through its children)`);
    evaluating.add(configFile);
    const source = sources.get(configFile)!;
    const isApp = configFile === appConfig;
    const dir = path.dirname(configFile);
    const definitionPath = isApp ? "" : toDefinitionPath(root, dir);
    const definition = runDefinition(source, (child) => {
      const childDef = evaluate(child);
      return { componentDefinitionPath: childDef.spec.definitionPath, defaultName: childDef.spec.name };
    });
    const analysis = analyze(definition, configFile, isApp);
    const spec: DefinitionSpec = {
      definitionPath,
      dir,
      name: isApp ? "" : String(analysis.definitionType.name ?? ""),
      env: (analysis.envVars ?? []).map(([name, decl]) => ({ name, validator: JSON.parse(decl.value), optional: decl.optional === true })),
    };
    const result = { source, spec, analysis };
    evaluating.delete(configFile);
    evaluated.set(configFile, result);
    return result;
  };

  const app = evaluate(appConfig);
  const byDefinitionPath = new Map<string, EvaluatedDefinition>();
  for (const def of evaluated.values()) byDefinitionPath.set(def.spec.definitionPath, def);

  const instances: InstanceSpec[] = [];
  const instantiate = (parentPath: string, def: EvaluatedDefinition): Record<string, string> => {
    const children: Record<string, string> = {};
    for (const child of def.analysis.childComponents) {
      if (!isValidComponentName(child.name)) {
        throw invalid(`component name "${child.name}" (in ${def.source.configFile}) must start with a letter and contain only letters, digits and underscores`);
      }
      if (Object.hasOwn(children, child.name)) throw invalid(`two components are installed as "${child.name}" in ${def.source.configFile}`);
      const childDef = byDefinitionPath.get(child.path);
      if (childDef === undefined) throw invalid(`${def.source.configFile} installs an unknown definition ${child.path}`);
      const childPath = parentPath === "" ? child.name : `${parentPath}/${child.name}`;
      children[child.name] = childPath;
      const spec: InstanceSpec = { path: childPath, name: child.name, definitionPath: child.path, env: child.env ?? [], children: {} };
      instances.push(spec);
      spec.children = instantiate(childPath, childDef);
    }
    return children;
  };
  const rootChildren = instantiate("", app);

  const definitions: Record<string, DefinitionSpec> = {};
  for (const def of evaluated.values()) if (def !== app) definitions[def.spec.definitionPath] = def.spec;
  const rootImports = app.analysis.childComponents.map((child) => {
    const childDef = byDefinitionPath.get(child.path)!;
    const specifier = app.source.children.find((c) => c.configFile === childDef.source.configFile)?.specifier ?? "";
    const packageName = specifier.replace(/\/convex\.config.*$/, "");
    // The CLI trusts a package specifier, and names a relative import by its folder.
    const importPath = packageName !== "" && !packageName.startsWith(".") ? packageName : `../${child.path}`;
    return { name: child.name, importPath };
  });
  return { definitions, instances, rootChildren, rootImports };
}

/** Bundles the app's config and every definition reachable from it. */
async function bundleAll(appConfig: string): Promise<Map<string, DefinitionSource>> {
  const sources = new Map<string, DefinitionSource>();
  const queue = [appConfig];
  while (queue.length > 0) {
    const file = queue.shift()!;
    if (sources.has(file)) continue;
    const source = await bundleDefinition(file);
    sources.set(file, source);
    for (const child of source.children) queue.push(child.configFile);
  }
  return sources;
}

const PROVIDED: Record<string, unknown> = { convex: convexRoot, "convex/server": convexServer, "convex/values": convexValues };

/** Runs a compiled definition and returns its default export. */
function runDefinition(source: DefinitionSource, child: (configFile: string) => { componentDefinitionPath: string; defaultName: string }): unknown {
  const requireFn = (id: string): unknown => {
    if (Object.hasOwn(PROVIDED, id)) return PROVIDED[id];
    if (id.startsWith(CHILD_DEFINITION_PREFIX)) {
      // Both interop styles esbuild emits must see the definition: an ES module importer in a
      // `"type": "module"` package takes the module object itself as the default export.
      const imported: Record<string, unknown> = { ...child(id.slice(CHILD_DEFINITION_PREFIX.length)), __esModule: true };
      imported.default = imported;
      return imported;
    }
    throw new Error(`Cannot find module '${id}'`);
  };
  const module = { exports: {} as Record<string, unknown> };
  try {
    const fn = new vm.Script(`(function (exports, require, module) {${source.code}\n})`, { filename: source.configFile }).runInThisContext() as (
      ...a: unknown[]
    ) => void;
    fn(module.exports, requireFn, module);
  } catch (e) {
    if (e instanceof EngineError) throw e;
    throw invalid(`${source.configFile} failed to evaluate: ${e instanceof Error ? e.message : String(e)}`);
  }
  return module.exports.default;
}

/** Checks the definition's shape and reads its analysis; refuses what the engine does not run. */
function analyze(definition: unknown, configFile: string, isApp: boolean): DefinitionAnalysis {
  const d = definition as { export?: () => DefinitionAnalysis; _isRoot?: boolean } | undefined;
  if (d === undefined || d === null || typeof d.export !== "function") {
    throw invalid(`${configFile} must \`export default\` ${isApp ? "defineApp()" : "defineComponent(...)"}`);
  }
  if (isApp && d._isRoot !== true) throw invalid(`${configFile} is the app's config and must export defineApp(), not defineComponent()`);
  if (!isApp && d._isRoot === true) throw invalid(`${configFile} is a component and must export defineComponent(...), not defineApp()`);
  let analysis: DefinitionAnalysis;
  try {
    analysis = d.export();
  } catch (e) {
    throw invalid(`${configFile}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!isApp && !isValidComponentName(String(analysis.definitionType.name ?? ""))) {
    throw invalid(`defineComponent(${JSON.stringify(analysis.definitionType.name)}) in ${configFile}: the name must be an identifier`);
  }
  if (analysis.httpPrefix !== undefined || Object.keys(analysis.httpMounts ?? {}).length > 0) {
    throw unsupported(`HTTP routes of components (\`httpPrefix\` in ${configFile}) are not supported by this engine yet`);
  }
  return analysis;
}

/** The folder relative to the app folder, as Convex names definitions (`../node_modules/x/dist/component`). */
function toDefinitionPath(appDir: string, dir: string): string {
  return path.relative(appDir, dir).split(path.sep).join("/");
}

function invalid(detail: string): EngineError {
  return new EngineError("InvalidComponentDefinition", `Invalid component configuration: ${detail}.`);
}

function unsupported(detail: string): EngineError {
  return new EngineError("ComponentFeatureUnsupported", `${detail}.`);
}
