import type { IncomingMessage, ServerResponse } from "node:http";
import { EngineError } from "../errors.js";
import type { Store } from "../store/store.js";
import type { CallRecord, Runtime } from "../runtime/runtime.js";
import type { DrainOptions, DrainResult } from "../scheduler/scheduler.js";
import { listFiles } from "./admin-files.js";
import { listFunctions } from "./admin-functions.js";
import { parseAuthorization } from "./auth-header.js";
import { findDocument } from "./document-lookup.js";
import { pageRequestFrom, readDocumentPage } from "./document-page.js";
import type { IdentityResolver } from "./identity-resolver.js";
import type { Route } from "./api-server.js";
import { readJsonBody } from "./request-body.js";
import { sendError, sendJson } from "./respond.js";
import { readTokenRequest, type TokenRequest } from "./token-request.js";

/** What the admin API reads and changes; every request needs the admin key. */
export interface AdminApiDeps {
  runtime: () => Runtime;
  store: Store;
  identities: IdentityResolver;
  listEnv(): Record<string, string>;
  setEnv(name: string, value: string | null): Promise<void>;
  recentCalls(): CallRecord[];
  mintToken(request: TokenRequest): Promise<string>;
  /** Runs scheduled jobs now (`POST scheduler/drain`); absent when the engine has no scheduler. */
  drainScheduler?(options: DrainOptions): Promise<DrainResult>;
  /** The issuers of the app's auth providers (the dev issuer when none is configured), for acting as a user. */
  authIssuers(): string[];
  /** Whether a stored file's bytes are on disk. */
  fileExists(storageId: string): Promise<boolean>;
}

const PREFIX = "/api/admin/";

/**
 * The admin API behind the dashboard, the CLI and the test harness: tables,
 * documents, files, functions, deployment env vars, recent calls, tokens for
 * a named user. Functions themselves are run through `/api/function` with the
 * admin key (and an acting-as identity), as `ConvexHttpClient.setAdminAuth` does.
 */
export function adminApiRoute(deps: AdminApiDeps): Route {
  return async (req: IncomingMessage, res: ServerResponse, url: URL) => {
    if (!url.pathname.startsWith(PREFIX)) return false;
    try {
      const credentials = parseAuthorization(req.headers);
      if (credentials.kind !== "admin" || !deps.identities.isAdminKey(credentials.key)) {
        throw new EngineError("AdminKeyRequired", "This endpoint needs `Authorization: Convex <admin key>` (printed by `start`).");
      }
      const action = `${req.method} ${url.pathname.slice(PREFIX.length)}`;
      sendJson(res, 200, await handle(action, req, url, deps));
    } catch (e) {
      sendError(res, e);
    }
    return true;
  };
}

async function handle(action: string, req: IncomingMessage, url: URL, deps: AdminApiDeps): Promise<unknown> {
  switch (action) {
    case "GET tables":
      return deps.runtime().lock.run(async () =>
        deps.store.listTables().map((t) => ({ name: t.name, number: t.number, documents: deps.store.count(t.name) })),
      );
    case "GET documents":
      return listDocuments(deps, url);
    case "GET document": {
      const id = url.searchParams.get("id");
      if (!id) throw new EngineError("BadRequest", "Add ?id=<document id>.");
      return deps.runtime().lock.run(async () => findDocument(deps.store, id));
    }
    case "GET files":
      return listFiles({ runtime: deps.runtime(), store: deps.store, fileExists: deps.fileExists }, pageRequestFrom(url, 50, "desc"));
    case "GET functions":
      return { functions: listFunctions(deps.runtime()) };
    case "GET auth/issuers":
      return { issuers: deps.authIssuers() };
    case "GET env":
      return { env: deps.listEnv() };
    case "POST env": {
      const body = (await readJsonBody(req, 1 << 20)) as { name?: unknown; value?: unknown } | null;
      if (!body || typeof body.name !== "string" || !(typeof body.value === "string" || body.value === null)) {
        throw new EngineError("BadRequest", "Send {\"name\": \"X\", \"value\": \"…\"} (value null removes the variable).");
      }
      await deps.setEnv(body.name, body.value as string | null);
      return { env: deps.listEnv() };
    }
    case "GET calls":
      return { calls: deps.recentCalls() };
    case "POST token":
      return { token: await deps.mintToken(await readTokenRequest(req)) };
    case "POST scheduler/drain":
      return drainScheduler(req, deps);
    default:
      throw new EngineError("NotFound", `Unknown admin endpoint ${action}.`);
  }
}

/** A page of a table's documents in creation order; `cursor` is the last key seen (base64url). */
async function listDocuments(deps: AdminApiDeps, url: URL): Promise<unknown> {
  const table = url.searchParams.get("table");
  if (!table) throw new EngineError("BadRequest", "Add ?table=<name>.");
  const page = pageRequestFrom(url, 100);
  return deps.runtime().lock.run(async () => {
    const { rows, nextCursor } = readDocumentPage(deps.store, table, page);
    return { documents: rows.map((r) => JSON.parse(r.text)), nextCursor, total: deps.store.count(table) };
  });
}

/**
 * `POST scheduler/drain` — a test and operator tool: runs scheduled jobs until
 * none is pending, moving the deployment clock forward to jobs due later
 * (body `{"advanceClock": false}` runs only what is due now; `maxJobs` bounds
 * the run). Answers `{ran, pending, clockOffsetMs}`. The clock never moves
 * back, so on a deployment with real users prefer `advanceClock: false`.
 */
async function drainScheduler(req: IncomingMessage, deps: AdminApiDeps): Promise<DrainResult> {
  if (deps.drainScheduler === undefined) throw new EngineError("NotFound", "This engine runs no scheduler.");
  const body = (await readJsonBody(req, 1 << 16)) as { advanceClock?: unknown; maxJobs?: unknown } | null;
  const options: DrainOptions = {};
  if (typeof body?.advanceClock === "boolean") options.advanceClock = body.advanceClock;
  if (typeof body?.maxJobs === "number" && body.maxJobs > 0) options.maxJobs = body.maxJobs;
  return deps.drainScheduler(options);
}
