import { createKeySetCache, type KeySetCache } from "./auth/key-set-cache.js";
import type { FetchFn } from "./auth/fetch-json.js";
import { createTokenVerifier, DEFAULT_KEY_SET_POLICY } from "./auth/token-verifier.js";
import { normalizeAuthConfig } from "./auth/auth-config.js";
import type { DevIssuer } from "./auth/dev-issuer.js";
import { EngineError } from "./errors.js";
import type { EngineLogger } from "./logger.js";
import { bundleApp, type AppBundle } from "./runtime/app-bundler.js";
import { evaluateBundle } from "./runtime/app-loader.js";
import { createRuntimeDatabase } from "./runtime/database-adapter.js";
import { defineApp, type AppDefinition } from "./runtime/function-registry.js";
import type { LogLevel } from "./runtime/log-capture.js";
import { Runtime, type CallRecord } from "./runtime/runtime.js";
import type { ClientErrorPolicy } from "./runtime/client-errors.js";
import type { FlushFile } from "./runtime/writer/wal-sync.js";
import type { DeploymentInfo, Identity, BlobService } from "./runtime/services.js";
import type { VerifyToken } from "./http/identity-resolver.js";
import type { Store } from "./store/store.js";
import type { SynchronousMode } from "./store/store-options.js";
import { DeploymentEnv } from "./deployment-env.js";
import { systemSchemaTables } from "./system-tables.js";
import { addComponents, componentEnvs } from "./components/component-instances.js";
import { physicalSchema } from "./components/physical-schema.js";

/** Hooks an AppHost reports through. */
export interface AppHostEvents {
  onCall?: (record: CallRecord) => void;
  onFunctionLog?: (path: string, level: LogLevel, line: string) => void;
  /**
   * New code or env vars are active: cached identities and live query results
   * are stale. `authChanged` is true when the token verifier accepts other
   * tokens than before (providers in `auth.config.ts` or their env vars changed).
   */
  onActivate?: (authChanged: boolean) => void;
}

/** What an AppHost is built from. */
export interface AppHostDeps extends AppHostEvents {
  appDir: string;
  store: Store;
  deployment: DeploymentInfo;
  devIssuer: DevIssuer;
  logger: EngineLogger;
  blobs?: BlobService | null;
  onCommit?: ConstructorParameters<typeof Runtime>[0]["onCommit"];
  onSchedulerChange?: () => void;
  /** The deployment clock (ms) the runtime stamps and schedules with; default `Date.now`. */
  now?: () => number;
  /** False turns the query cache off (see `runtime/query-cache.ts`). */
  queryCache?: boolean;
  /** Query worker threads (0 runs queries on the main thread), and the store file they read. */
  queryWorkers?: number;
  dbPath?: string;
  /** The commit counter `store` was opened with (`StoreOptions.commitCounter`), for the threads' connections. */
  commitCounter?: SharedArrayBuffer;
  /** How far the deployment clock is ahead of the wall clock (ms). */
  clockOffsetMs?: () => number;
  /** Time limit of a query or mutation (ms). */
  transactionTimeoutMs?: number;
  /** Action worker threads (0 runs actions on the main thread) and their time limit (ms). */
  actionWorkers?: number;
  actionTimeoutMs?: number;
  /** Mutations on a writer thread (default: with query workers), and its `synchronous`. */
  writerThread?: boolean;
  synchronous?: SynchronousMode;
  flushWal?: FlushFile;
  /** What clients see of function failures (redacted outside dev mode). */
  clientErrors?: ClientErrorPolicy;
}

/**
 * Owns the loaded app: builds and evaluates `convex/`, applies its schema,
 * keeps the deployment env vars, and the token verifier for its
 * `auth.config.ts`. A reload that fails (build error, schema mismatch) leaves
 * the previous code serving.
 */
export class AppHost {
  readonly env: DeploymentEnv;
  readonly runtime: Runtime;
  private bundle: AppBundle | null = null;
  private current: AppDefinition | null = null;
  /** The providers the verifier was built from, as text, to tell whether a reload changed them. */
  private authProviders: string | null = null;
  private verifier: VerifyToken = async () => {
    throw new EngineError("NoAuthProvider", "No functions are loaded yet.", "transient");
  };

  /**
   * Discovery documents and key sets, kept across reloads and env changes so
   * a dev-mode save does not refetch every issuer's keys.
   */
  private readonly keySets: KeySetCache;
  /** Fetches for the verifier; the dev issuer is answered in-process, with no socket round trip to ourselves. */
  private readonly keyFetch: FetchFn = async (url, init) => {
    const devIssuer = this.deps.devIssuer;
    if (url.startsWith(devIssuer.issuerUrl + "/")) {
      const response = await devIssuer.handle(new Request(url, init));
      if (response !== null) return response;
    }
    return fetch(url, init);
  };

  constructor(private readonly deps: AppHostDeps) {
    this.keySets = createKeySetCache({ fetch: this.keyFetch, clock: () => Date.now(), policy: DEFAULT_KEY_SET_POLICY });
    this.env = new DeploymentEnv(deps.store, deps.deployment);
    this.runtime = new Runtime({
      db: createRuntimeDatabase(deps.store),
      deployment: deps.deployment,
      blobs: deps.blobs ?? null,
      onCommit: deps.onCommit,
      onSchedulerChange: deps.onSchedulerChange,
      now: deps.now,
      onCall: deps.onCall,
      onLog: deps.onFunctionLog,
      logInternal: (e) => deps.logger.error("engine error while running a function", e),
      queryCache: deps.queryCache === false ? false : undefined,
      queryWorkers: deps.queryWorkers,
      dbPath: deps.dbPath,
      commitCounter: deps.commitCounter,
      clockOffsetMs: deps.clockOffsetMs,
      transactionTimeoutMs: deps.transactionTimeoutMs,
      actionWorkers: deps.actionWorkers,
      actionTimeoutMs: deps.actionTimeoutMs,
      writerThread: deps.writerThread,
      synchronous: deps.synchronous,
      flushWal: deps.flushWal,
      clientErrors: deps.clientErrors,
    });
  }

  /** Verifies a bearer token with the providers of the loaded app (or the dev issuer). */
  readonly verifyToken: VerifyToken = (token) => this.verifier(token);

  /** The loaded definition. */
  get definition(): AppDefinition {
    if (this.current === null) throw new EngineError("NoFunctions", "No functions are loaded yet.", "transient");
    return this.current;
  }

  /** Builds (unless given a bundle), evaluates, pushes the schema and swaps the new code in. */
  async load(bundle?: AppBundle): Promise<AppDefinition> {
    const next = bundle ?? (await bundleApp(this.deps.appDir));
    const env = this.env.functionEnv();
    const definition = this.evaluate(next, env);
    // Under the lock: the writer thread's batches write through another connection.
    await this.runtime.lock.run(async () => this.deps.store.applySchema(withSystemTables(definition)));
    this.bundle = next;
    this.activate(definition, next, env);
    return definition;
  }

  /** Sets or removes a deployment env var and re-evaluates the app (auth.config.ts reads env at load). */
  async setEnv(name: string, value: string | null): Promise<void> {
    if (this.bundle !== null) {
      // A value a component's env binding refuses is not stored: the next start would fail on it.
      const next: Record<string, string> = { ...this.env.functionEnv() };
      if (value === null) delete next[name];
      else next[name] = value;
      componentEnvs(this.bundle.components, next);
    }
    await this.runtime.lock.run(async () => this.env.set(name, value));
    if (this.bundle !== null) {
      const env = this.env.functionEnv();
      this.activate(this.evaluate(this.bundle, env), this.bundle, env);
    }
  }

  private evaluate(bundle: AppBundle, env: Record<string, string>): AppDefinition {
    return addComponents(defineApp(evaluateBundle(bundle, this.deps.appDir, env)), bundle.components, env);
  }

  /** Swaps the code in here and (the same bundle and env) in the query workers. */
  private activate(definition: AppDefinition, bundle: AppBundle, env: Record<string, string>): void {
    this.current = definition;
    this.runtime.setApp(definition, { code: bundle.code, components: bundle.components, appDir: this.deps.appDir, env });
    const config = normalizeAuthConfig(definition.authConfig);
    const hasProvider = config.providers.length > 0;
    if (!hasProvider) config.providers.push(this.deps.devIssuer.provider);
    const verifier = createTokenVerifier({ config, clock: () => Date.now(), fetch: this.keyFetch, keySets: this.keySets });
    this.verifier = async (token) => {
      const verified = await verifier.authenticate(token);
      return { identity: verified.identity as unknown as Identity, expiresAt: verified.expiresAt };
    };
    const providers = JSON.stringify(config.providers);
    const authChanged = this.authProviders !== null && providers !== this.authProviders;
    this.authProviders = providers;
    this.deps.onActivate?.(authChanged);
  }
}

function withSystemTables(definition: AppDefinition) {
  const components = [...definition.components.values()].filter((c) => c.path !== "");
  const schema = physicalSchema(definition.schema, components) ?? { tables: [], schemaValidation: false };
  return { ...schema, tables: [...schema.tables, ...systemSchemaTables()] };
}
