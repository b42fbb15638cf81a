import type { JSONValue } from "convex/values";
import { EngineError } from "../errors.js";
import { appFrames } from "./stack-mapper.js";

/** The result of calling a function, as every transport reports it. */
export type CallOutcome =
  | {
      status: "success";
      value: JSONValue;
      /** `value` as Convex JSON text when the runtime has it, so transports need not encode it again. */
      valueText?: string;
      /** `valueText` as UTF-8, when it came that way from a query worker (sockets and HTTP send these bytes). */
      valueBytes?: Buffer;
      logLines: string[];
      ts?: bigint;
    }
  | {
      status: "error";
      errorMessage: string;
      errorData?: JSONValue;
      logLines: string[];
      /** Where in the app's source it was thrown; for the engine's own log, never sent to clients. */
      appFrames?: string[];
    };

/** A thrown value reduced to what a client may see. */
export interface ReportedError {
  message: string;
  /** Convex JSON of a `ConvexError`'s data; absent for other errors. */
  data?: JSONValue;
  /** Stack frames in the app's source files (for logs only). */
  appFrames?: string[];
}

const CONVEX_ERROR = Symbol.for("ConvexError");

/**
 * Maps anything user code (or a syscall under it) threw to a message and,
 * for `ConvexError`, its data. The function wrappers have already replaced a
 * ConvexError's `data` with its Convex JSON text (§2.5). Engine bugs are
 * reported without internals; the full error goes to the engine's log.
 */
export function reportThrown(thrown: unknown, logInternal: (e: unknown) => void): ReportedError {
  if (typeof thrown === "object" && thrown !== null && CONVEX_ERROR in thrown) {
    const e = thrown as { message?: string; data?: unknown };
    let data: JSONValue = null;
    if (typeof e.data === "string") {
      try {
        data = JSON.parse(e.data) as JSONValue;
      } catch {
        data = e.data;
      }
    }
    return { message: `Uncaught ConvexError: ${e.message ?? ""}`, data, appFrames: appFrames((thrown as { stack?: string }).stack) };
  }
  if (thrown instanceof EngineError) {
    if (thrown.recovery === "fatal") logInternal(thrown);
    return { message: thrown.message };
  }
  if (thrown instanceof Error) {
    return { message: `Uncaught ${thrown.name || "Error"}: ${thrown.message}`, appFrames: appFrames(thrown.stack) };
  }
  return { message: `Uncaught ${String(thrown)}` };
}

/** A random request id in the backend's style (16 hex chars). */
export function newRequestId(random: () => number = Math.random): string {
  let s = "";
  for (let i = 0; i < 16; i++) s += Math.floor(random() * 16).toString(16);
  return s;
}
