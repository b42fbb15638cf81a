import type { JSONValue } from "convex/values";
import { outcomeForClient, SHOW_ERRORS, type ClientErrorPolicy } from "./client-errors.js";
import { newRequestId, reportThrown, type CallOutcome } from "./function-outcome.js";
import type { CallerIdentity, CallRecord, CallRequest, RuntimeOptions } from "./runtime-types.js";
import type { Identity } from "./services.js";
import { canonicalUdfPath } from "./udf-path.js";

/**
 * What a call reports, on the thread of the runtime that ran it: the outcome of an error
 * that is not a return value, the outcome as its caller may see it (redacted for clients
 * outside dev mode), and its record in the call log (dev terminal, dashboard).
 */
export class CallReporter {
  constructor(private readonly options: RuntimeOptions) {}

  now(): number {
    return (this.options.now ?? Date.now)();
  }

  /** What clients see of failures (HTTP actions apply it to their 500 answers too). */
  get clientErrors(): ClientErrorPolicy {
    return this.options.clientErrors ?? SHOW_ERRORS;
  }

  errorOutcome(e: unknown, logLines: string[]): CallOutcome {
    const reported = reportThrown(e, (err) => this.options.logInternal?.(err));
    const outcome: CallOutcome = { status: "error", errorMessage: reported.message, logLines };
    if (reported.data !== undefined) outcome.errorData = reported.data;
    if (reported.appFrames && reported.appFrames.length > 0) outcome.appFrames = reported.appFrames;
    return outcome;
  }

  /** The outcome as the caller may see it: redacted for clients outside dev mode (`client-errors.ts`). */
  forCaller(request: CallRequest, outcome: CallOutcome): CallOutcome {
    if (request.origin !== "client") return outcome;
    return outcomeForClient(outcome, canonicalUdfPath(request.path), this.clientErrors, () => newRequestId(this.options.random));
  }

  record(
    path: string,
    kind: CallRecord["kind"],
    origin: CallRecord["origin"],
    outcome: CallOutcome,
    startedAt: number,
    identity: Identity | null,
  ): void {
    if (!this.options.onCall) return;
    this.options.onCall({
      path: canonicalUdfPath(path),
      kind,
      origin,
      status: outcome.status,
      startedAt,
      durationMs: this.now() - startedAt,
      logLines: outcome.logLines,
      error: outcome.status === "error" ? outcome.errorMessage : undefined,
      errorFrames: outcome.status === "error" ? outcome.appFrames : undefined,
      caller: callerOf(identity),
    });
  }

  /** Records an HTTP action's outcome in the call log. */
  recordHttpAction(path: string, startedAt: number, status: "success" | "error", logLines: string[], error?: string, identity: Identity | null = null): void {
    const durationMs = this.now() - startedAt;
    this.options.onCall?.({ path, kind: "httpAction", origin: "http", status, startedAt, durationMs, logLines, error, caller: callerOf(identity) });
  }
}

/** The rejection a nested call's caller sees: message and ConvexError data (§2.3). */
export function nestedRejection(e: unknown, logInternal: (e: unknown) => void): { message: string; data?: JSONValue } {
  const reported = reportThrown(e, logInternal);
  const message = reported.message.replace(/^Uncaught (ConvexError: )?/, "");
  return reported.data !== undefined ? { message, data: reported.data } : { message };
}

function callerOf(identity: Identity | null): CallerIdentity | null {
  if (identity === null) return null;
  const caller: CallerIdentity = { subject: identity.subject, issuer: identity.issuer };
  if (typeof identity.name === "string") caller.name = identity.name;
  return caller;
}
