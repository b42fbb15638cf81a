import { randomBytes } from "node:crypto";
import { availableParallelism, networkInterfaces } from "node:os";
import path from "node:path";
import { AppHost } from "./app-host.js";
import { createDevIssuer } from "./auth/dev-issuer.js";
import { lockDataFolder, prepareDataFolder } from "./data-folder.js";
import type { Engine, EngineOptions } from "./engine-options.js";
import { apiRoutes as engineApiRoutes, siteRoutes as engineSiteRoutes } from "./engine-routes.js";
import { createAdminEvents } from "./http/admin-events.js";
import { createRoutedServer, type Route, type RoutedServer, type UpgradeRoute } from "./http/api-server.js";
import { createCallLog } from "./http/call-log.js";
import { createHostPolicy } from "./http/host-policy.js";
import { createIdentityResolver } from "./http/identity-resolver.js";
import { applyHeapGrowth } from "./heap-growth.js";
import { consoleLogger } from "./logger.js";
import { resolvePublicUrls } from "./public-urls.js";
import type { AppBundle } from "./runtime/app-bundler.js";
import { createDeploymentClock } from "./scheduler/deployment-clock.js";
import { enableFunctionClocks, registerFunctionClock, wallClock } from "./scheduler/function-clock.js";
import { createScheduler } from "./scheduler/job-scheduler.js";
import type { Scheduler } from "./scheduler/scheduler.js";
import { createLocalStorage } from "./storage/local-storage.js";
import type { StorageService } from "./storage/storage-service.js";
import { CommitCounter } from "./store/commit-counter.js";
import { createSqliteStore } from "./store/sqlite-store.js";
import type { Store } from "./store/store.js";
import { createSyncServer, type SyncServer } from "./sync/sync-server.js";

// The composition root: opens the data folder, creates each layer with what it needs and
// starts them in order. Layers never import this file; they take what they need (a logger,
// a runtime getter) as dependencies. The routes each port answers are in `engine-routes.ts`,
// the shapes of the options and of a running engine in `engine-options.ts`.

export type { Engine, EngineOptions } from "./engine-options.js";
export type { EngineLogger } from "./logger.js";

const ADMIN_KEY_META = "admin_key";
/**
 * Action executor threads by default. Each holds one action at a time and its own copy of
 * the app (tens of MB), and starts only when that many actions run at once; actions that
 * mostly await (fetch, runQuery) hold theirs while they wait, so this is well above the
 * core count.
 */
const DEFAULT_ACTION_WORKERS = 16;
/** Calls the dashboard's Logs keep (a ring buffer; each record holds its log lines). */
const RECENT_CALLS = 1000;

/** Starts an engine: opens the data folder, loads the functions, listens on both ports. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const logger = options.logger ?? consoleLogger();
  // Before any thread of the engine starts: the workers' heaps follow the same flag.
  applyHeapGrowth(options.heapGrowingPercent);
  const dataDir = path.resolve(options.dataDir);
  // Before anything opens the database: modes first (the lock file is created 0600 too), then the lock.
  prepareDataFolder(dataDir, logger);
  const folderLock = lockDataFolder(dataDir);
  // One clock for data, jobs and functions; a scheduler drain may move it forward.
  const clock = createDeploymentClock(wallClock);
  const dbPath = path.join(dataDir, "db.sqlite3");
  // Shared by every connection the engine opens to the file, on every thread: the query
  // workers keep a snapshot between runs only while nobody committed (`commit-counter.ts`).
  const commits = new CommitCounter();
  let store: Store;
  try {
    store = createSqliteStore({
      path: dbPath,
      commitCounter: commits.buffer,
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
      commitCounter: commits.buffer,
      clockOffsetMs: () => clock.offsetMs(),
      transactionTimeoutMs: options.transactionTimeoutMs,
      actionWorkers: options.actionWorkers ?? DEFAULT_ACTION_WORKERS,
      actionTimeoutMs: options.actionTimeoutMs,
      writerThread: options.writerThread,
      synchronous: options.synchronous,
      flushWal: options.flushWal,
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
    const mintDevToken = (claims: { subject: string; name?: string; email?: string }, ttl?: number) =>
      devIssuer.mint(claims, ttl);
    const routeDeps = {
      app: () => appHost!,
      store,
      dataDir,
      identities,
      devIssuer,
      storage,
      scheduler,
      calls,
      adminEvents,
      logger,
      host,
      dev: options.dev === true,
      remoteDevToken: options.remoteDevToken === true,
      mintDevToken,
    };
    apiRoutes.push(...engineApiRoutes(routeDeps));
    siteRoutes.push(...engineSiteRoutes(routeDeps));

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
