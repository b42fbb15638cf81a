import type { JSONValue } from "convex/values";
import type { LogLevel } from "../log-capture.js";
import type { AppSource, WireOutcome } from "../query-workers/worker-protocol.js";
import type { DeploymentInfo, Identity } from "../services.js";

/**
 * Messages between the main thread and an action worker (`action-worker-main.ts`). A
 * worker runs one action or HTTP action at a time with its own copy of the app. What the
 * function asks of the engine crosses as the engine's ops (`syscalls/op-table.ts`): the op
 * name and its decoded arguments go to the main thread, which answers them with the same
 * handlers as for a function running there, on an `Execution` it keeps for the run.
 * Bytes cross without copying where the platform allows: `Blob`s (their data is shared
 * between threads) and transferred `ReadableStream`s (HTTP bodies, chunk by chunk, with
 * backpressure).
 */

/** What a worker is started with (`workerData`). */
export interface ActionWorkerStart {
  deployment: DeploymentInfo;
  /** The app the worker loads before its first run. */
  app: AppSource | null;
  /** The worker's `RunClock`, read by the main thread's watchdog. */
  clock: SharedArrayBuffer;
}

/** Fields every run carries. */
interface RunBase {
  id: number;
  /** The identity it runs with (none inside a component: auth does not cross into components). */
  identity: Identity | null;
  requestId: string;
  /** How far the deployment clock is ahead of the wall clock (ms). */
  clockOffsetMs: number;
}

/** An action to run; the main thread has resolved its path and checked its arguments. */
export interface ActionJob extends RunBase {
  kind: "action";
  /** Canonical path of an action. */
  path: string;
  component: string;
  /** `JSON.stringify([args])`, as the function wrapper takes it. */
  argsJson: string;
  /** Set when the scheduler runs it (`ctx.meta` request metadata). */
  scheduledJobId: string | null;
}

/** A request for an HTTP action of `convex/http.ts`; the main thread found its route. */
export interface HttpActionJob extends RunBase {
  kind: "httpAction";
  /** The path the router matches (without a mount prefix). */
  routedPath: string;
  method: string;
  url: string;
  headers: [string, string][];
  /** The request body, transferred (null for GET and HEAD). */
  body: ReadableStream<Uint8Array> | null;
  /** A token that failed verification: `ctx.auth.getUserIdentity()` throws it. */
  authError: { code: string; message: string } | null;
}

export type ActionRun = ActionJob | HttpActionJob;

/** A run as the pool is handed it (the pool numbers it). */
export type NewActionRun = Omit<ActionJob, "id"> | Omit<HttpActionJob, "id">;

/** A failed op as it crosses back: what the `convex` package's syscall wrapper reads of a rejection. */
export interface WireOpError {
  message: string;
  data?: JSONValue;
}

/** Main → worker. */
export type ToActionWorker =
  | { kind: "app"; app: AppSource }
  | { kind: "run"; run: ActionRun }
  /** The answer to an op: a JSON value (async ops) or a value such as a `Blob` (JS ops). */
  | { kind: "opResult"; runId: number; opId: number; value?: unknown; error?: WireOpError };

/** An HTTP action's response head; its body follows as a transferred stream. */
export interface WireResponseHead {
  status: number;
  statusText: string;
  headers: [string, string][];
  body: ReadableStream<Uint8Array> | null;
}

/** Worker → main. */
export type FromActionWorker =
  /** An op of the running function, for the main thread to answer (`js`: a JS op with raw values). */
  | { kind: "op"; runId: number; opId: number; op: string; args: unknown; js: boolean }
  | { kind: "log"; runId: number; level: LogLevel; line: string }
  /** An action's outcome, or an HTTP action's failure before it returned a Response. */
  | { kind: "done"; runId: number; outcome: WireOutcome }
  /** An HTTP action returned a Response: its head, and its body as a stream. */
  | { kind: "response"; runId: number; head: WireResponseHead }
  /** The HTTP action's response body has been read to its end, cancelled, or failed (`error`). */
  | { kind: "responseEnd"; runId: number; error?: string }
  /** An engine fault inside the worker, for the engine's log. */
  | { kind: "internal"; text: string };
