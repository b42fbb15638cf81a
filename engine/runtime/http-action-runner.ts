import { EngineError } from "../errors.js";
import { serverErrorText } from "./client-errors.js";
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
  try {
    const response = await runWithSyscalls(exec, () => handler.invokeHttpAction(request));
    if (!(response instanceof Response)) {
      throw new EngineError("InvalidHttpResponse", `The HTTP action for ${path} did not return a Response.`);
    }
    runtime.recordHttpAction(path, startedAt, response.status >= 500 ? "error" : "success", logLines, undefined, identity);
    return response;
  } catch (e) {
    const reported = reportThrown(e, (err) => runtime.logInternal(err));
    runtime.recordHttpAction(path, startedAt, "error", logLines, reported.message, identity);
    const policy = runtime.clientErrors;
    // The backend's shape (§7.2); outside dev mode the message stays in the log, as on Convex.
    const body: Record<string, unknown> = {
      code: policy.redact ? serverErrorText(exec.requestId) : `${serverErrorText(exec.requestId)}: ${reported.message}`,
    };
    if (policy.redact) policy.log(exec.requestId, path, reported.message);
    if (reported.data !== undefined) body.data = reported.data;
    return new Response(JSON.stringify(body), { status: 500, headers: { "content-type": "application/json" } });
  } finally {
    exec.finish();
  }
}
