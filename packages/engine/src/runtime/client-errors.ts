import type { CallOutcome } from "./function-outcome.js";

/**
 * What clients see of a function's failure and logs. In dev mode, what the
 * function threw and logged, as a Convex dev deployment sends it. Otherwise
 * as a Convex production deployment: a failure that is not a `ConvexError`
 * becomes `[Request ID: <id>] Server Error` (whatever it said, a database
 * password or a stack detail, stays in the engine's log under that id), and
 * log lines stay on the server. A `ConvexError` keeps its message and data:
 * they are what the function chose to tell its caller.
 */
export interface ClientErrorPolicy {
  /** True outside dev mode. */
  redact: boolean;
  /** Where the full error goes, under the request id the client was given. */
  log(requestId: string, path: string, message: string): void;
}

/** Dev mode's policy: clients see everything. */
export const SHOW_ERRORS: ClientErrorPolicy = { redact: false, log: () => {} };

/** The text a client gets for a redacted failure (the backend's `RedactedJsError`). */
export function serverErrorText(requestId: string): string {
  return `[Request ID: ${requestId}] Server Error`;
}

/**
 * The outcome as a client may see it under `policy`. Only calls a client
 * made are redacted; the dashboard and the CLI (admin key), actions calling
 * functions and the scheduler see outcomes in full.
 */
export function outcomeForClient(outcome: CallOutcome, path: string, policy: ClientErrorPolicy, newRequestId: () => string): CallOutcome {
  if (!policy.redact) return outcome;
  if (outcome.status === "success" || outcome.errorData !== undefined) {
    return outcome.logLines.length === 0 ? outcome : { ...outcome, logLines: [] };
  }
  const requestId = newRequestId();
  policy.log(requestId, path, outcome.errorMessage);
  return { status: "error", errorMessage: serverErrorText(requestId), logLines: [] };
}
