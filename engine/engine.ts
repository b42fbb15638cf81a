import { randomBytes } from "node:crypto";
import { availableParallelism, networkInterfaces } from "node:os";
import path from "node:path";
import { normalizeAuthConfig } from "./auth/auth-config.js";
import { lockDataFolder, prepareDataFolder } from "./data-folder.js";
import { createDevIssuer, type DevIssuer } from "./auth/dev-issuer.js";
import { dashboardRoute } from "./dashboard/dashboard-route.js";
import { adminApiRoute } from "./http/admin-api.js";
import { createAdminEvents } from "./http/admin-events.js";
import { createCallLog } from "./http/call-log.js";
import { snapshotRoutes } from "./http/snapshot-routes.js";
import { createDiskBlobStore } from "./storage/disk-blob-store.js";
import { createRoutedServer, type Route, type RoutedServer, type UpgradeRoute } from "./http/api-server.js";
import { functionApiRoute } from "./http/function-api.js";
import { httpActionRoute } from "./http/http-action-route.js";
import { devTokenRoute, remoteDevTokenRefusal } from "./http/dev-token-route.js";
import { createHostPolicy } from "./http/host-policy.js";
import { createIdentityResolver } from "./http/identity-resolver.js";
import { sendText } from "./http/respond.js";
import { sendWebResponse, toWebRequest } from "./http/web-bridge.js";
import { AppHost, type AppHostEvents } from "./app-host.js";
import { resolvePublicUrls } from "./public-urls.js";
import type { AppBundle } from "./runtime/app-bundler.js";
import type { AppDefinition } from "./runtime/function-registry.js";
import type { CallRecord } from "./runtime/runtime.js";
import { createDeploymentClock } from "./scheduler/deployment-clock.js";
import { enableFunctionClocks, registerFunctionClock, wallClock } from "./scheduler/function-clock.js";
import { createScheduler, type SchedulerDeps } from "./scheduler/job-scheduler.js";
import type { Scheduler } from "./scheduler/scheduler.js";
import { createLocalStorage, type StorageOptions } from "./storage/local-storage.js";
import type { StorageService } from "./storage/storage-service.js";
import { storageRoute } from "./storage/storage-routes.js";
import { createSqliteStore } from "./store/sqlite-store.js";
import type { Store, SynchronousMode } from "./store/store.js";
import { createSyncServer, type SyncServer, type SyncServerOptions } from "./sync/sync-server.js";
import { MAX_REQUEST_JSON_BYTES } from "./values/value-limits.js";

/**
 * Action executor threads by default. Each holds one action at a time and its own copy of
 * the app (tens of MB), and starts only when that many actions run at once; actions that
 * mostly await (fetch, runQuery) hold theirs while they wait, so this is well above the
 * core count.
 */
const DEFAULT_ACTION_WORKERS = 16;

/** How to start an engine. */
export interface EngineOptions {
  /** The Convex functions folder (`convex/`). */
  appDir: string;
  /** Where the SQLite file, stored files and engine state live. */
  dataDir: string;
  /** Interface to bind; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** API + WebSocket port (3210 by convention; 0 = any free port). */
  port?: number;
  /** HTTP actions port (3211 by convention; 0 = any free port). */
  sitePort?: number;
  /**
   * The API origin clients use (`--public-url`), when it is not where the
   * engine listens: upload and file URLs and CONVEX_CLOUD_URL carry it.
   */
  publicUrl?: string;
  /** The HTTP actions origin clients use; default: the public URL's host on the site port. */
  publicSiteUrl?: string;
  /** Deployment env vars to set (persisted like `env set`). */
  env?: Record<string, string>;
  /**
   * Dev mode: function errors reach clients with their messages, and
   * `POST /api/dev/token` mints tokens (with the admin key, on loopback).
   */
  dev?: boolean;
  /**
   * More host names to answer under (`--allowed-host`; `.name` allows
   * subdomains too, `true` any Host). Loopback names, IP addresses and the
   * bound name always work; see `http/host-policy.ts`.
   */
  allowedHosts?: string[] | true;
  /** Serves the dev token endpoint even when bound beyond loopback (`--allow-remote-dev-token`). */
  remoteDevToken?: boolean;
  /** SQLite `synchronous` (FULL by default). */
  synchronous?: SynchronousMode;
  /** A bundle built earlier for the same folder (tests reuse one). */
  bundle?: AppBundle;
  /** Where engine messages go. */
  logger?: EngineLogger;
  /** Every finished function call (dev mode prints failures with their source frames). */
  onCall?: (record: CallRecord) => void;
  /** Every function console line (dev mode streams them). */
  onFunctionLog?: AppHostEvents["onFunctionLog"];
  /** File storage settings (upload size limit). */
  storage?: StorageOptions;
  /** Scheduler settings (concurrent jobs). */
  scheduler?: Pick<SchedulerDeps, "maxConcurrentJobs">;
  /** WebSocket sync tunables (tests shorten timers or cut connections). */
  sync?: SyncServerOptions;
  /**
   * Reuse results of one-off query calls until a commit touches what they read
   * (on by default, as on Convex; see `runtime/query-cache.ts`).
   */
  queryCache?: boolean;
  /**
   * Query executor threads (default: one per core). Each has its own read-only SQLite
   * connection and copy of the app; they start as queries come. 0 runs queries on the main
   * thread under the executor lock (and a runaway query cannot be stopped).
   */
  queryWorkers?: number;
  /** How long a query or mutation may run (ms; default 30 000). */
  transactionTimeoutMs?: number;
  /**
   * Action executor threads: the most actions and HTTP actions running at once, one per
   * thread, started as they come (default 16; more wait for a thread). 0 runs them on the
   * main thread, where a CPU-bound one blocks every client and cannot be stopped.
   */
  actionWorkers?: number;
  /** How long an action or HTTP action may run (ms; default 10 minutes, Convex's limit). */
  actionTimeoutMs?: number;
  /**
   * Run mutations on a writer thread with its own connection (default: whenever there are
   * query workers), so a runaway mutation can be stopped and no user code runs on the
   * thread that serves sockets.
   */
  writerThread?: boolean;
}

/** Where the engine reports what it does. */
export interface EngineLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string, e?: unknown): void;
}

/** A running engine. */
export interface Engine {
  /** The API origin clients are told (upload and file URLs, CONVEX_CLOUD_URL); see `public-urls.ts`. */
  readonly cloudUrl: string;
  /** The HTTP actions origin clients are told (CONVEX_SITE_URL). */
  readonly siteUrl: string;
  /** Where this machine reaches the API (equal to `cloudUrl` unless a public URL is set or guessed). */
  readonly localCloudUrl: string;
  /** Where this machine reaches the HTTP actions. */
  readonly localSiteUrl: string;
  readonly adminKey: string;
  readonly dataDir: string;
  readonly store: Store;
  readonly app: AppHost;
  readonly devIssuer: DevIssuer;
  /** The WebSocket sync endpoint (live queries). */
  readonly sync: SyncServer;
  /** Mints a token from the dev issuer for a named user (tests, CLI, dashboard). */
  mintDevToken(claims: { subject: string; name?: string; email?: string }, ttlSeconds?: number): Promise<string>;
  /**
   * Rebuilds (or takes `bundle`), pushes the schema and swaps the functions in
   * without dropping clients. Throws (and keeps the old code) on a build
   * error or a schema the existing documents do not match.
   */
  reload(bundle?: AppBundle): Promise<AppDefinition>;
  /** Stops everything and closes the data folder. */
  close(): Promise<void>;
}

const ADMIN_KEY_META = "admin_key";
/** Function calls' JSON bodies: as large as the JSON of Convex's largest arguments. */
const JSON_BODY_LIMIT = MAX_REQUEST_JSON_BYTES;
/** Calls the dashboard's Logs keep (a ring buffer; each record holds its log lines). */
const RECENT_CALLS = 1000;

/** Starts an engine: opens the data folder, loads the functions, listens on both ports. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const logger = options.logger ?? consoleLogger();
  const dataDir = path.resolve(options.dataDir);
  // Before anything opens the database: modes first (the lock file is created 0600 too), then the lock.
  prepareDataFolder(dataDir, logger);
  const folderLock = lockDataFolder(dataDir);
  // One clock for data, jobs and functions; a scheduler drain may move it forward.
  const clock = createDeploymentClock(wallClock);
  const dbPath = path.join(dataDir, "db.sqlite3");
  let store: Store;
  try {
    store = createSqliteStore({
      path: dbPath,
      now: () => clock.now(),
      randomBytes: (n) => new Uint8Array(randomBytes(n)),
      synchronous: options.synchronous,
      notice: (message) => logger.info(message),
    });
  } catch (e) {
    folderLock.release();
    throw e;
  }
  let storage: StorageService | null = null;
  const servers: RoutedServer[] = [];
  try {
    let adminKey = store.getMeta(ADMIN_KEY_META);
    if (adminKey === null) {
      adminKey = `local|${randomBytes(32).toString("hex")}`;
      store.setMeta(ADMIN_KEY_META, adminKey);
    }
    const calls = createCallLog(RECENT_CALLS);
    const adminEvents = createAdminEvents({ calls, latestTs: () => store.lastCommitTs() });
    let appHost: AppHost | null = null;
    const identities = createIdentityResolver({
      verify: () => appHost!.verifyToken,
      adminKey,
      now: () => Date.now(),
    });

    const apiRoutes: Route[] = [];
    const apiUpgrades: UpgradeRoute[] = [];
    const siteRoutes: Route[] = [];
    const host = options.host ?? "127.0.0.1";
    // The public URLs' hosts are served too; LAN addresses are IP literals, which the policy always allows.
    const publicUrls = [options.publicUrl, options.publicSiteUrl].filter((url) => url !== undefined);
    const hosts = createHostPolicy({ bindHost: host, allowedHosts: options.allowedHosts, servedUrls: publicUrls });
    const api = createRoutedServer(apiRoutes, apiUpgrades, (e) => logger.error("internal error", e), { hosts, apiCors: true });
    const site = createRoutedServer(siteRoutes, [], (e) => logger.error("internal error", e), { hosts, apiCors: false });
    servers.push(api, site);
    const port = await api.listen(options.port ?? 3210, host);
    const sitePort = await site.listen(options.sitePort ?? 3211, host);
    const urls = resolvePublicUrls({
      host,
      port,
      sitePort,
      publicUrl: options.publicUrl,
      publicSiteUrl: options.publicSiteUrl,
      interfaces: networkInterfaces(),
    });
    if (urls.warning !== null) logger.warn(urls.warning);
    const { cloudUrl, siteUrl } = urls;

    // Sync: commits are announced inside the executor lock; the server exists once the app is loaded.
    let sync: SyncServer | null = null;
    const devIssuer = await createDevIssuer({ dataDir, issuerUrl: `${urls.localCloudUrl}/dev-auth`, clock: () => Date.now() });
    storage = createLocalStorage({ dataDir, cloudUrl, now: () => clock.now(), runtime: () => appHost!.runtime, logger, options: options.storage });
    const scheduler: Scheduler = createScheduler({ runtime: () => appHost!.runtime, store, clock, logger, ...options.scheduler });
    appHost = new AppHost({
      appDir: options.appDir,
      store,
      deployment: { name: "local", cloudUrl, siteUrl },
      devIssuer,
      logger,
      onCall: (record) => {
        calls.add(record);
        options.onCall?.(record);
      },
      onFunctionLog: options.onFunctionLog,
      // Every activation (new code, env change): tokens verify again and live queries re-run;
      // when the auth providers changed, open sockets verify their tokens again too.
      onActivate: (authChanged) => {
        identities.clear();
        sync?.invalidateAll();
        if (authChanged) sync?.reverifyIdentities();
        adminEvents.onActivate();
      },
      blobs: storage,
      now: () => clock.now(),
      onSchedulerChange: () => scheduler.wake(),
      onCommit: (commit) => {
        sync?.onCommit(commit);
        adminEvents.onCommit(commit);
      },
      queryCache: options.queryCache,
      queryWorkers: options.queryWorkers ?? availableParallelism(),
      dbPath,
      clockOffsetMs: () => clock.offsetMs(),
      transactionTimeoutMs: options.transactionTimeoutMs,
      actionWorkers: options.actionWorkers ?? DEFAULT_ACTION_WORKERS,
      actionTimeoutMs: options.actionTimeoutMs,
      writerThread: options.writerThread,
      synchronous: options.synchronous,
      clientErrors: {
        redact: options.dev !== true,
        log: (requestId, fn, message) => logger.error(`[Request ID: ${requestId}] ${fn} failed: ${message}`),
      },
    });
    registerFunctionClock(appHost.runtime, () => clock.now());
    clock.onAdvance(() => {
      enableFunctionClocks();
      // Cached query results may depend on the time that just jumped.
      appHost!.runtime.clearQueryCache();
    });
    if (options.env) {
      for (const [name, value] of Object.entries(options.env)) appHost.env.set(name, value);
    }
    await appHost.load(options.bundle);
    await storage.start();
    await scheduler.start();
    sync = createSyncServer({
      runtime: appHost.runtime,
      store,
      verifyToken: (token) => appHost!.verifyToken(token),
      identities,
      logger,
      options: options.sync,
    });
    apiUpgrades.push(sync.upgradeRoute);
    const runtime = () => appHost!.runtime;

    const mintDevToken = (claims: { subject: string; name?: string; email?: string }, ttl?: number) =>
      devIssuer.mint(claims, ttl);

    apiRoutes.push(
      functionApiRoute({ runtime, identities, bodyLimit: JSON_BODY_LIMIT, latestTs: () => store.lastCommitTs() }),
      (req, res, url) => {
        if (req.method !== "GET") return false;
        if (url.pathname === "/version") {
          sendText(res, 200, "instagram-convex-local engine");
          return true;
        }
        if (url.pathname === "/instance_name") {
          sendText(res, 200, "local");
          return true;
        }
        return false;
      },
      async (req, res, url) => {
        if (!url.pathname.startsWith("/dev-auth/")) return false;
        const response = await devIssuer.handle(toWebRequest(req, url));
        if (response === null) return false;
        await sendWebResponse(res, response, req.method);
        return true;
      },
      devTokenRoute({
        dev: options.dev === true,
        remoteRefusal: remoteDevTokenRefusal(host, options.remoteDevToken === true),
        identities,
        mint: (request) => mintDevToken(request.claims, request.ttlSeconds),
      }),
      snapshotRoutes({ runtime, store, blobs: createDiskBlobStore(path.join(dataDir, "storage")), identities }),
      adminApiRoute({
        runtime,
        store,
        identities,
        listEnv: () => appHost!.env.list(),
        setEnv: (name, value) => appHost!.setEnv(name, value),
        calls,
        events: adminEvents,
        mintToken: (request) => mintDevToken(request.claims, request.ttlSeconds),
        drainScheduler: (drainOptions) => scheduler.drain(drainOptions),
        authIssuers: () => {
          const configured = normalizeAuthConfig(appHost!.definition.authConfig).providers.map((p) => p.issuer);
          return configured.length > 0 ? configured : [devIssuer.issuerUrl];
        },
        fileExists: async (storageId) => {
          const file = await storage!.openFile(storageId);
          await file?.blob.close();
          return file !== null;
        },
      }),
      dashboardRoute({ onBuildError: (e) => logger.error("dashboard build failed", e) }),
      storageRoute(storage, (e) => logger.error("file storage error", e)),
    );
    // HTTP actions only on the site port, never under /http/ on the API port as
    // the Convex backend does: that origin serves the dashboard, which keeps the
    // admin key in the browser, and an HTTP action's page must not share it.
    siteRoutes.push(httpActionRoute({ runtime, identities, prefix: "" }));

    return {
      cloudUrl,
      siteUrl,
      localCloudUrl: urls.localCloudUrl,
      localSiteUrl: urls.localSiteUrl,
      adminKey,
      dataDir,
      store,
      app: appHost,
      devIssuer,
      sync,
      mintDevToken,
      async reload(bundle?: AppBundle) {
        // Activation re-runs live queries on the new code (onActivate); connections stay open.
        const definition = await appHost!.load(bundle);
        scheduler.wake();
        return definition;
      },
      async close() {
        adminEvents.close();
        await scheduler.stop();
        await sync!.close();
        await Promise.all([api.close(), site.close()]);
        await appHost!.runtime.close();
        storage!.close();
        store.close();
        folderLock.release();
      },
    } satisfies Engine;
  } catch (e) {
    // A failed start (build error, refused schema) releases the ports it took.
    await Promise.all(servers.map((server) => server.close()));
    storage?.close();
    store.close();
    folderLock.release();
    throw e;
  }
}

function consoleLogger(): EngineLogger {
  return {
    info: (m) => console.log(m),
    warn: (m) => console.warn(m),
    error: (m, e) => console.error(m, e ?? ""),
  };
}

