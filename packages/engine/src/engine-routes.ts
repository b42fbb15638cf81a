import path from "node:path";
import type { AppHost } from "./app-host.js";
import { normalizeAuthConfig } from "./auth/auth-config.js";
import type { DevIssuer } from "./auth/dev-issuer.js";
import { dashboardRoute } from "./dashboard/dashboard-route.js";
import { adminApiRoute } from "./http/admin-api.js";
import type { AdminEvents } from "./http/admin-events.js";
import type { Route } from "./http/api-server.js";
import type { CallLog } from "./http/call-log.js";
import { devTokenRoute, remoteDevTokenRefusal } from "./http/dev-token-route.js";
import { functionApiRoute } from "./http/function-api.js";
import { httpActionRoute } from "./http/http-action-route.js";
import type { IdentityResolver } from "./http/identity-resolver.js";
import { sendText } from "./http/respond.js";
import { snapshotRoutes } from "./http/snapshot-routes.js";
import { sendWebResponse, toWebRequest } from "./http/web-bridge.js";
import type { EngineLogger } from "./logger.js";
import type { Scheduler } from "./scheduler/scheduler.js";
import { createDiskBlobStore } from "./storage/disk-blob-store.js";
import type { StorageService } from "./storage/storage-service.js";
import { storageRoute } from "./storage/storage-routes.js";
import type { Store } from "./store/store.js";
import { MAX_REQUEST_JSON_BYTES } from "./values/value-limits.js";

// What each of the engine's two ports answers, in the order routes are tried. Runs on
// the main thread; the app host is read through a getter because a reload swaps its
// runtime while the routes stay.

/** Function calls' JSON bodies: as large as the JSON of Convex's largest arguments. */
const JSON_BODY_LIMIT = MAX_REQUEST_JSON_BYTES;

/** What the routes are built from. */
export interface EngineRouteDeps {
  app: () => AppHost;
  store: Store;
  dataDir: string;
  identities: IdentityResolver;
  devIssuer: DevIssuer;
  storage: StorageService;
  scheduler: Scheduler;
  calls: CallLog;
  adminEvents: AdminEvents;
  logger: EngineLogger;
  /** The interface the servers bound (the dev token route refuses remote callers unless allowed). */
  host: string;
  dev: boolean;
  remoteDevToken: boolean;
  mintDevToken(claims: { subject: string; name?: string; email?: string }, ttlSeconds?: number): Promise<string>;
}

/** The API port: functions, dev auth, snapshots, the admin API, the dashboard, file storage. */
export function apiRoutes(deps: EngineRouteDeps): Route[] {
  const { store, identities, devIssuer, storage } = deps;
  const runtime = () => deps.app().runtime;
  return [
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
      dev: deps.dev,
      remoteRefusal: remoteDevTokenRefusal(deps.host, deps.remoteDevToken),
      identities,
      mint: (request) => deps.mintDevToken(request.claims, request.ttlSeconds),
    }),
    snapshotRoutes({ runtime, store, blobs: createDiskBlobStore(path.join(deps.dataDir, "storage")), identities }),
    adminApiRoute({
      runtime,
      store,
      identities,
      listEnv: () => deps.app().env.list(),
      setEnv: (name, value) => deps.app().setEnv(name, value),
      calls: deps.calls,
      events: deps.adminEvents,
      mintToken: (request) => deps.mintDevToken(request.claims, request.ttlSeconds),
      drainScheduler: (drainOptions) => deps.scheduler.drain(drainOptions),
      authIssuers: () => {
        const configured = normalizeAuthConfig(deps.app().definition.authConfig).providers.map((p) => p.issuer);
        return configured.length > 0 ? configured : [devIssuer.issuerUrl];
      },
      fileExists: async (storageId) => {
        const file = await storage.openFile(storageId);
        await file?.blob.close();
        return file !== null;
      },
    }),
    dashboardRoute({ onBuildError: (e) => deps.logger.error("dashboard build failed", e) }),
    storageRoute(storage, (e) => deps.logger.error("file storage error", e)),
  ];
}

/**
 * The site port: HTTP actions only, never under /http/ on the API port as the Convex
 * backend does: that origin serves the dashboard, which keeps the admin key in the
 * browser, and an HTTP action's page must not share it.
 */
export function siteRoutes(deps: Pick<EngineRouteDeps, "app" | "identities">): Route[] {
  return [httpActionRoute({ runtime: () => deps.app().runtime, identities: deps.identities, prefix: "" })];
}
