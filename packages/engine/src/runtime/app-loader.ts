import vm from "node:vm";
import { createRequire } from "node:module";
import path from "node:path";
import * as convexRoot from "convex";
import * as convexServer from "convex/server";
import * as convexValues from "convex/values";
import { EngineError } from "../errors.js";
import type { FolderBundle } from "./app-bundler.js";
import { describeLoadError } from "./load-error.js";
import { registerBundle } from "./stack-mapper.js";

/** The evaluated app: every module's exports, the schema and the auth config objects. */
export interface EvaluatedApp {
  modules: Record<string, Record<string, unknown>>;
  /** Modules with the `"use node"` directive (they may define only actions). */
  nodeModules: string[];
  schema: unknown;
  authConfig: unknown;
}

const PROVIDED: Record<string, unknown> = {
  convex: convexRoot,
  "convex/server": convexServer,
  "convex/values": convexValues,
};

/**
 * Evaluates a bundle in this process. It runs as a plain script (not an ES
 * module) because Node never frees ES modules, and dev mode reloads the app
 * hundreds of times: a script's functions are garbage once nothing refers to
 * them. User code gets its own `process` whose `env` is the deployment's env
 * vars, never the engine's.
 */
export function evaluateBundle(bundle: Pick<FolderBundle, "code">, appDir: string, env: Record<string, string>): EvaluatedApp {
  const nodeRequire = createRequire(path.join(path.resolve(appDir), "package.json"));
  const appRequire = (id: string): unknown => {
    const provided = PROVIDED[id];
    if (provided !== undefined) return provided;
    if (id.startsWith("convex/")) return nodeRequire(id);
    return nodeRequire(id);
  };
  const appProcess = Object.create(process, {
    env: { value: env, enumerable: true, configurable: true, writable: true },
  });
  const { filename, code } = registerBundle(bundle.code, path.resolve(appDir));
  const wrapped = `(function (exports, require, module, __filename, __dirname, process) {${code}\n})`;
  const module = { exports: {} as Record<string, unknown> };
  try {
    const fn = new vm.Script(wrapped, { filename })
      .runInThisContext() as (...a: unknown[]) => void;
    fn(module.exports, appRequire, module, "convex-app.bundle.js", path.resolve(appDir), appProcess);
  } catch (e) {
    throw new EngineError("ModuleLoadFailed", describeLoadError(bundle.code, path.resolve(appDir), e));
  }
  const exports = module.exports as Partial<EvaluatedApp>;
  return {
    modules: (exports.modules ?? {}) as EvaluatedApp["modules"],
    nodeModules: exports.nodeModules ?? [],
    schema: exports.schema ?? null,
    authConfig: exports.authConfig ?? null,
  };
}
