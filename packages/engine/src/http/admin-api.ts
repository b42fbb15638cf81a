import type { IncomingMessage, ServerResponse } from "node:http";
import { EngineError } from "../errors.js";
import type { Store } from "../store/store.js";
import type { Runtime } from "../runtime/runtime.js";
import type { DrainOptions, DrainResult } from "../scheduler/scheduler.js";
import type { AdminEvents } from "./admin-events.js";
import { listFiles } from "./admin-files.js";
import { queryDocuments, tableSchema } from "./admin-query.js";
import { cancelJob, deleteDocuments, deleteFile, insertDocument, replaceDocument, storeFile } from "./admin-writes.js";
import type { CallLog } from "./call-log.js";
import { listFunctions } from "./admin-functions.js";
import { parseAuthorization } from "./auth-header.js";
import { findDocument } from "./document-lookup.js";
import { pageRequestFrom, readDocumentPage } from "./document-page.js";
import type { IdentityResolver } from "./identity-resolver.js";
import type { Route } from "./api-server.js";
import { readBody, readJsonBody } from "./request-body.js";
import { sendError, sendJson } from "./respond.js";
import { readTokenRequest, type TokenRequest } from "./token-request.js";

/** What the admin API reads and changes; every request needs the admin key. */
export interface AdminApiDeps {
  runtime: () => Runtime;
  store: Store;
  identities: IdentityResolver;
  listEnv(): Record<string, string>;
  setEnv(name: string, value: string | null): Promise<void>;
  /** The recent function calls (`GET calls?after=<seq>`). */
  calls: CallLog;
  /** The live event stream (`GET events`). */
  events: AdminEvents;
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
      if (action === "GET events") {
        deps.events.stream(req, res);
        return true;
      }
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
      return { calls: deps.calls.since(Number(url.searchParams.get("after")) || 0), latestSeq: deps.calls.latestSeq };
    case "GET schema":
      return deps.runtime().lock.run(async () => tableSchema(deps.store));
    case "POST documents/insert": {
      const body = await writeBody(req);
      return insertDocument(deps.runtime(), body.table, body.fields);
    }
    case "POST documents/replace": {
      const body = await writeBody(req);
      return replaceDocument(deps.runtime(), body.id, body.fields);
    }
    case "POST documents/delete":
      return deleteDocuments(deps.runtime(), (await writeBody(req)).ids);
    case "POST scheduler/cancel":
      return cancelJob(deps.runtime(), (await writeBody(req)).id);
    case "POST files/upload": {
      const type = req.headers["content-type"];
      return storeFile(deps.runtime(), await readBody(req, FILE_BODY_LIMIT), typeof type === "string" && type !== "" ? type : null);
    }
    case "POST files/delete":
      return deleteFile(deps.runtime(), (await writeBody(req)).id);
    case "POST token":
      return { token: await deps.mintToken(await readTokenRequest(req)) };
    case "POST scheduler/drain":
      return drainScheduler(req, deps);
    default:
      throw new EngineError("NotFound", `Unknown admin endpoint ${action}.`);
  }
}

/** The JSON body of a dashboard write (documents up to the function argument limit). */
async function writeBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readJsonBody(req, 16 << 20);
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new EngineError("BadRequest", "Send a JSON object.");
  return body as Record<string, unknown>;
}

/** Uploads from the dashboard: the engine's upload limit applies after this, in the blob store. */
const FILE_BODY_LIMIT = 64 << 20;

/**
 * A page of a table's documents. Plain (creation order): `cursor` is the
 * last key seen (base64url) and the total is counted. Sorted by an index
 * (`index=by_user`) or filtered (`filter=[{field, op, value}]`): through the
 * query engine, as `paginate()` runs, with its cursors; no total.
 */
async function listDocuments(deps: AdminApiDeps, url: URL): Promise<unknown> {
  const table = url.searchParams.get("table");
  if (!table) throw new EngineError("BadRequest", "Add ?table=<name>.");
  const page = pageRequestFrom(url, 100);
  if (url.searchParams.has("filter") || (url.searchParams.get("index") ?? "by_creation_time") !== "by_creation_time") {
    return queryDocuments(deps.runtime(), table, url.searchParams.get("index"), url.searchParams.get("filter"), page);
  }
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
