import type { ValidatorJSON } from "convex/values";
import { EngineError } from "../errors.js";
import type { SchemaJson } from "../store/schema-json.js";
import type { EvaluatedApp } from "./app-loader.js";
import { canonicalUdfPath } from "./udf-path.js";

/** The kinds of callable functions. HTTP actions are routed, not called by path. */
export type UdfKind = "query" | "mutation" | "action";
export type Visibility = "public" | "internal";

/** Validator JSON as exported by `exportArgs()`/`exportReturns()` (convex-interface.md §2.4). */
export type ValidatorJson = ValidatorJSON;

/** A function found in the app, with what the engine needs to call it. */
export interface RegisteredFunction {
  /** Canonical path, `"posts:list"` (within its component). */
  path: string;
  /** The component it belongs to: `""` for the app, `"pool"`, `"pool/batchWorker"` (engine/components). */
  component: string;
  kind: UdfKind;
  visibility: Visibility;
  /** `null` when the function accepts any arguments. */
  argsValidator: ValidatorJson | null;
  /** `null` when the function declares no return validator. */
  returnsValidator: ValidatorJson | null;
  /** Calls the wrapper's `invokeQuery`/`invokeMutation`/`invokeAction` with JSON text. */
  invoke(argsJson: string, requestId: string): Promise<string>;
}

/** The shape `httpRouter()` objects have at runtime (§2.1). */
export interface HttpRouterLike {
  isRouter: true;
  lookup(path: string, method: string): [HttpHandlerLike, string, string] | null;
  getRoutes(): [string, string, HttpHandlerLike][];
}

/** An `httpAction(...)` wrapper. */
export interface HttpHandlerLike {
  isHttp: true;
  invokeHttpAction(request: Request): Promise<Response>;
}

/** Everything the engine learned from loading an app folder. */
export interface AppDefinition {
  functions: Map<string, RegisteredFunction>;
  httpRouter: HttpRouterLike | null;
  /** `schema.export()` parsed, or null without a schema. */
  schema: SchemaJson | null;
  /** The default export of `auth.config.ts`, evaluated with the deployment env. */
  authConfig: unknown;
  /** `crons.export()` parsed, or null. */
  crons: Record<string, CronJobJson> | null;
  /**
   * Every function namespace by component path: `""` is the app itself (the
   * same map as `functions`), then each component `convex.config.ts`
   * installs (loaded by `components/component-instances.ts`).
   */
  components: Map<string, ComponentScope>;
}

/** One component instance as the runtime resolves calls in it. */
export interface ComponentScope {
  /** `""` for the app, `"pool"`, `"pool/batchWorker"`. */
  path: string;
  functions: Map<string, RegisteredFunction>;
  /** Its own `schema.export()` (its own table names), or null. */
  schema: SchemaJson | null;
  /** Its own `crons.export()`, or null. */
  crons: Record<string, CronJobJson> | null;
}

/** One entry of `crons.export()`. */
export interface CronJobJson {
  name: string;
  args: unknown[];
  schedule: { type: string } & Record<string, unknown>;
}

type WrappedFunction = {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isPublic?: boolean;
  isInternal?: boolean;
  invokeQuery?: (args: string) => Promise<string>;
  invokeMutation?: (args: string) => Promise<string>;
  invokeAction?: (requestId: string, args: string) => Promise<string>;
  exportArgs?: () => string;
  exportReturns?: () => string;
};

/** Builds the registry, router, schema and crons from an evaluated bundle (of the app, or of the component at `component`). */
export function defineApp(app: EvaluatedApp, component = ""): AppDefinition {
  const functions = new Map<string, RegisteredFunction>();
  const problems: string[] = [];
  let httpRouter: HttpRouterLike | null = null;
  let crons: AppDefinition["crons"] = null;
  const nodeModules = new Set(app.nodeModules);
  for (const special of ["http", "crons"]) {
    if (nodeModules.has(special)) problems.push(`${special}: the "use node" directive is not allowed in ${special}.ts.`);
  }

  for (const [modulePath, exports] of Object.entries(app.modules)) {
    for (const [exportName, value] of Object.entries(exports)) {
      if (value === null || (typeof value !== "function" && typeof value !== "object")) continue;
      const w = value as WrappedFunction;
      if (modulePath === "http" && exportName === "default" && (value as HttpRouterLike).isRouter) {
        httpRouter = value as HttpRouterLike;
        continue;
      }
      if (modulePath === "crons" && exportName === "default" && (value as { isCrons?: boolean }).isCrons) {
        // `export()` is the map itself (identifier → job), not wrapped in `{crons}`.
        crons = JSON.parse((value as { export(): string }).export()) as Record<string, CronJobJson>;
        continue;
      }
      const kind: UdfKind | null = w.isQuery ? "query" : w.isMutation ? "mutation" : w.isAction ? "action" : null;
      if (kind === null) continue;
      const path = canonicalUdfPath(`${modulePath}:${exportName}`);
      // Convex's Node.js runtime runs actions only; a deploy with anything else there fails.
      if (kind !== "action" && nodeModules.has(modulePath)) {
        problems.push(`${path}: a ${kind} in a "use node" module; only actions can run in Node.js. Move it to a module without "use node".`);
        continue;
      }
      let argsValidator: ValidatorJson | null = null;
      let returnsValidator: ValidatorJson | null = null;
      try {
        const args = JSON.parse(w.exportArgs?.() ?? '{"type":"any"}') as ValidatorJson;
        argsValidator = args.type === "any" ? null : args;
        const returns = JSON.parse(w.exportReturns?.() ?? "null") as ValidatorJson | null;
        returnsValidator = returns && returns.type !== "any" ? returns : null;
      } catch (e) {
        problems.push(`${path}: ${e instanceof Error ? e.message : String(e)}`);
        continue;
      }
      functions.set(path, {
        path,
        component,
        kind,
        visibility: w.isInternal ? "internal" : "public",
        argsValidator,
        returnsValidator,
        invoke: invokerFor(kind, w),
      });
    }
  }
  if (problems.length > 0) {
    throw new EngineError("InvalidModules", `Invalid function definitions:\n${problems.join("\n")}`);
  }
  let schema: SchemaJson | null = null;
  if (app.schema) {
    const s = app.schema as { export?: () => string };
    if (typeof s.export !== "function") {
      throw new EngineError("InvalidSchema", "schema.ts must export default defineSchema(...)");
    }
    schema = JSON.parse(s.export()) as SchemaJson;
  }
  return { functions, httpRouter, schema, authConfig: app.authConfig, crons, components: new Map([[component, { path: component, functions, schema, crons }]]) };
}

function invokerFor(kind: UdfKind, w: WrappedFunction): RegisteredFunction["invoke"] {
  switch (kind) {
    case "query":
      return (args) => w.invokeQuery!(args);
    case "mutation":
      return (args) => w.invokeMutation!(args);
    case "action":
      return (args, requestId) => w.invokeAction!(requestId, args);
  }
}
