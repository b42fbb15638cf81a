import type { IncomingMessage, ServerResponse } from "node:http";
import type { JSONValue } from "convex/values";
import { EngineError } from "../errors.js";
import type { UdfKind } from "../runtime/function-registry.js";
import type { CallOutcome } from "../runtime/function-outcome.js";
import type { Runtime } from "../runtime/runtime.js";
import { parseAuthorization } from "./auth-header.js";
import { toCleanJson } from "./clean-json.js";
import type { IdentityResolver } from "./identity-resolver.js";
import { readJsonBody } from "./request-body.js";
import { sendError, sendJson, sendJsonText } from "./respond.js";
import type { Route } from "./api-server.js";
import { decodeTs, encodeTs } from "../values/ts-codec.js";

/** What the function endpoints need. */
export interface FunctionApiDeps {
  runtime: Runtime;
  identities: IdentityResolver;
  /** Largest accepted JSON body (bytes). */
  bodyLimit: number;
}

const ENDPOINT_KINDS: Record<string, UdfKind | undefined> = {
  "/api/query": "query",
  "/api/mutation": "mutation",
  "/api/action": "action",
  "/api/function": undefined,
};

/**
 * The function endpoints as a route: `/api/query|mutation|action|function`,
 * `/api/run/<module>/<fn>`, `/api/query_ts` and `/api/query_at_ts`.
 */
export function functionApiRoute(deps: {
  runtime: () => Runtime;
  identities: IdentityResolver;
  bodyLimit: number;
  latestTs: () => bigint;
}): Route {
  return async (req, res, url) => {
    if (req.method !== "POST") return false;
    const call = { runtime: deps.runtime(), identities: deps.identities, bodyLimit: deps.bodyLimit };
    if (url.pathname in ENDPOINT_KINDS) {
      await handleFunctionCall(req, res, call, ENDPOINT_KINDS[url.pathname], null);
      return true;
    }
    if (url.pathname.startsWith("/api/run/")) {
      const parts = url.pathname.slice("/api/run/".length).split("/").filter(Boolean);
      if (parts.length < 2) return false;
      const fn = parts.pop()!;
      await handleFunctionCall(req, res, call, undefined, `${parts.join("/")}:${fn}`);
      return true;
    }
    if (url.pathname === "/api/query_ts") {
      try {
        sendJson(res, 200, { ts: encodeTs(await call.runtime.snapshotTs()) });
      } catch (e) {
        sendError(res, e);
      }
      return true;
    }
    if (url.pathname === "/api/query_at_ts") {
      await handleQueryAtTs(req, res, call);
      return true;
    }
    return false;
  };
}

/**
 * `consistentQuery`: a query at the snapshot `/api/query_ts` handed out (pinned for a
 * while), or at a later one that provably gives the same result (`Runtime.queryAtTs`).
 */
async function handleQueryAtTs(req: IncomingMessage, res: ServerResponse, deps: FunctionApiDeps): Promise<void> {
  try {
    const { caller, path, args, format, body } = await readCall(req, deps, null);
    const ts = decodeTs(body.ts);
    const outcome = await deps.runtime.queryAtTs(
      { path, args, identity: caller.identity, allowInternal: caller.admin, origin: caller.admin ? "admin" : "client" },
      ts,
    );
    sendJsonText(res, 200, outcomeText(outcome, format));
  } catch (e) {
    sendError(res, e);
  }
}

type ResultFormat = "convex" | "json";

/**
 * `POST /api/query|mutation|action|function` and `/api/run/<module>/<fn>`
 * exactly as `ConvexHttpClient` uses them (convex-interface.md §7.1): a
 * function's own failure is a 200 with `status: "error"`; bad requests and
 * bad credentials are 4xx with `{code, message}`.
 */
async function handleFunctionCall(
  req: IncomingMessage,
  res: ServerResponse,
  deps: FunctionApiDeps,
  kind: UdfKind | undefined,
  runPath: string | null,
): Promise<void> {
  try {
    const { caller, path, component, args, format } = await readCall(req, deps, runPath);
    const outcome = await deps.runtime.call({
      path,
      component,
      args,
      identity: caller.identity,
      allowInternal: caller.admin,
      expectKind: kind,
      origin: caller.admin ? "admin" : "client",
    });
    sendJsonText(res, 200, outcomeText(outcome, format));
  } catch (e) {
    sendError(res, e);
  }
}

/**
 * What every function endpoint reads first: the caller (from its
 * credentials), then a JSON body with `path` (or the path from the URL),
 * `args` and `format`.
 */
async function readCall(req: IncomingMessage, deps: FunctionApiDeps, runPath: string | null) {
  const caller = await deps.identities.resolve(parseAuthorization(req.headers));
  const body = (await readJsonBody(req, deps.bodyLimit)) as Record<string, unknown> | null;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new EngineError("BadRequest", "The request body must be a JSON object with `path` and `args`.");
  }
  const path = runPath ?? body.path;
  if (typeof path !== "string" || path.length === 0) {
    throw new EngineError("BadRequest", "The request body needs a `path` naming the function, e.g. \"posts:list\".");
  }
  return {
    caller,
    body,
    path,
    component: componentPathOf(body.componentPath, caller.admin),
    args: unwrapArgs(body.args),
    format: parseFormat(body.format, runPath !== null),
  };
}

/**
 * `componentPath` (the client's `function(name, componentPath, args)`): as on
 * Convex, only the admin key may call a component's functions directly.
 */
function componentPathOf(raw: unknown, admin: boolean): string {
  if (raw === undefined || raw === null || raw === "") return "";
  if (typeof raw !== "string") throw new EngineError("BadRequest", "`componentPath` must be a string.");
  if (!admin) throw new EngineError("Forbidden", "Only the admin key may call functions of a component directly.");
  return raw;
}

/** `args` may be the object itself or a one-element array holding it (both forms are accepted by Convex). */
function unwrapArgs(raw: unknown): JSONValue {
  if (raw === undefined || raw === null) return {};
  if (Array.isArray(raw)) {
    if (raw.length > 1) throw new EngineError("BadRequest", "`args` must be an object or an array holding one object.");
    return (raw[0] ?? {}) as JSONValue;
  }
  return raw as JSONValue;
}

function parseFormat(raw: unknown, runEndpoint: boolean): ResultFormat {
  if (raw === undefined || raw === null) return runEndpoint ? "json" : "convex";
  if (raw === "convex_encoded_json" || raw === "convex_json") return "convex";
  if (raw === "json") return "json";
  throw new EngineError("BadRequest", `Unsupported format ${JSON.stringify(raw)}; use "convex_encoded_json" or "json".`);
}

/**
 * The response body. A success in Convex JSON takes the result the runtime
 * already has, as a query worker's UTF-8 bytes or as text: a feed page is
 * kilobytes, and encoding it again would cost more than the rest of the response.
 */
function outcomeText(outcome: CallOutcome, format: ResultFormat): string | Buffer {
  if (outcome.status === "success" && format === "convex" && (outcome.valueBytes !== undefined || outcome.valueText !== undefined)) {
    const logLines = outcome.logLines.length > 0 ? `,"logLines":${JSON.stringify(outcome.logLines)}` : "";
    // Bytes first: reading `valueText` of a worker's outcome would decode them.
    if (outcome.valueBytes !== undefined) return Buffer.concat([SUCCESS_HEAD, outcome.valueBytes, logLines === "" ? SUCCESS_TAIL : Buffer.from(`${logLines}}`)]);
    return `{"status":"success","value":${outcome.valueText}${logLines}}`;
  }
  return JSON.stringify(outcomeBody(outcome, format));
}

const SUCCESS_HEAD = Buffer.from('{"status":"success","value":');
/** The end of a success without log lines (one buffer for all: it is only read). */
const SUCCESS_TAIL = Buffer.from("}");

function outcomeBody(outcome: CallOutcome, format: ResultFormat): Record<string, unknown> {
  if (outcome.status === "success") {
    const value = format === "json" ? toCleanJson(outcome.value) : outcome.value;
    return outcome.logLines.length > 0
      ? { status: "success", value, logLines: outcome.logLines }
      : { status: "success", value };
  }
  const body: Record<string, unknown> = { status: "error", errorMessage: outcome.errorMessage };
  if (outcome.errorData !== undefined) {
    body.errorData = format === "json" ? toCleanJson(outcome.errorData) : outcome.errorData;
  }
  if (outcome.logLines.length > 0) body.logLines = outcome.logLines;
  return body;
}
