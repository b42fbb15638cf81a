import { EngineError } from "../errors.js";
import type { HttpActionJob } from "./action-workers/action-protocol.js";
import { serverErrorText } from "./client-errors.js";
import type { Execution } from "./execution.js";
import { reportThrown } from "./function-outcome.js";
import type { Runtime } from "./runtime.js";
import type { Identity } from "./services.js";
import { runWithSyscalls } from "./syscall-router.js";

/** Who an HTTP action runs as: an identity, nobody, or a token that failed verification. */
export type HttpActionCaller = { identity: Identity | null } | { authError: EngineError };

/**
 * Runs the `convex/http.ts` route matching a request (§7.2). A token that
 * fails verification does not reject the request (the header may belong to the
 * app); `ctx.auth.getUserIdentity()` throws the auth error only if called.
 * No route → 404; an uncaught error → 500 without internals.
 *
 * Runs on the main thread; the handler itself runs on an action worker when the runtime
 * has them (`action-workers/`), else here.
 */
export async function runHttpAction(runtime: Runtime, request: Request, routedPath: string, caller: HttpActionCaller): Promise<Response> {
  const router = runtime.definition.httpRouter;
  const startedAt = runtime.now();
  const method = request.method.toUpperCase();
  const match = router?.lookup(routedPath, method) ?? null;
  if (match === null) {
    return new Response(`No HttpAction routed for ${routedPath}`, { status: 404, headers: { "content-type": "text/plain" } });
  }
  const [handler, , pattern] = match;
  const path = `${method} ${pattern}`;
  const logLines: string[] = [];
  const identity = "identity" in caller ? caller.identity : null;
  const exec = runtime.newHttpActionExecution(path, identity, logLines);
  if ("authError" in caller) exec.identityError = caller.authError;
  const call: HttpCall = { runtime, exec, path, startedAt, logLines, identity };
  if (runtime.runsActionsOnWorkers) return onWorker(call, request, routedPath, "authError" in caller ? caller.authError : null);
  try {
    const response = await runWithSyscalls(exec, () => handler.invokeHttpAction(request));
    if (!(response instanceof Response)) {
      throw new EngineError("InvalidHttpResponse", `The HTTP action for ${path} did not return a Response.`);
    }
    runtime.recordHttpAction(path, startedAt, response.status >= 500 ? "error" : "success", logLines, undefined, identity);
    return response;
  } catch (e) {
    const reported = reportThrown(e, (err) => runtime.logInternal(err));
    return failed(call, reported.message, reported.data);
  } finally {
    exec.finish();
  }
}

/** One HTTP action call as the main thread tracks it. */
interface HttpCall {
  runtime: Runtime;
  exec: Execution;
  path: string;
  startedAt: number;
  logLines: string[];
  identity: Identity | null;
}

/**
 * The handler on an action worker: the request body crosses as a transferred stream, the
 * response as a head and a transferred body stream, so neither is copied whole. The call
 * is answered as soon as the head arrives; it is logged when the run has ended (the body
 * may still be produced by user code, under the run's time limit).
 */
function onWorker(call: HttpCall, request: Request, routedPath: string, authError: EngineError | null): Promise<Response> {
  const headers: [string, string][] = [];
  request.headers.forEach((value, name) => headers.push([name, value]));
  const job: Omit<HttpActionJob, "id" | "clockOffsetMs"> = {
    kind: "httpAction",
    routedPath,
    method: request.method,
    url: request.url,
    headers,
    body: request.body,
    authError: authError === null ? null : { code: authError.code, message: authError.message },
    identity: call.identity,
    requestId: call.exec.requestId,
  };
  return new Promise<Response>((resolve) => {
    let status = 0;
    const ended = call.runtime.httpActionOnWorker(job, call.exec, (head) => {
      status = head.status;
      resolve(new Response(head.body, { status: head.status, statusText: head.statusText, headers: head.headers }));
    });
    void ended.then((end) => {
      call.exec.finish();
      if ("outcome" in end) {
        const outcome = end.outcome;
        // An outcome without a response is a failure (the worker reports a Response as `response`).
        const message = outcome.status === "error" ? outcome.errorMessage : "The HTTP action ended without a Response.";
        resolve(failed(call, message, outcome.status === "error" ? outcome.errorData : undefined));
        return;
      }
      const error = end.error;
      call.runtime.recordHttpAction(call.path, call.startedAt, error !== undefined || status >= 500 ? "error" : "success", call.logLines, error, call.identity);
    });
  });
}

/** Logs a failed call and answers with the backend's 500 shape (§7.2); outside dev mode the message stays in the log, as on Convex. */
function failed(call: HttpCall, message: string, data: unknown): Response {
  const { runtime, exec, path } = call;
  runtime.recordHttpAction(path, call.startedAt, "error", call.logLines, message, call.identity);
  const policy = runtime.clientErrors;
  const body: Record<string, unknown> = {
    code: policy.redact ? serverErrorText(exec.requestId) : `${serverErrorText(exec.requestId)}: ${message}`,
  };
  if (policy.redact) policy.log(exec.requestId, path, message);
  if (data !== undefined) body.data = data;
  return new Response(JSON.stringify(body), { status: 500, headers: { "content-type": "application/json" } });
}
