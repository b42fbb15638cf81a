import type { ConvexClient } from "convex/browser";
import type { FunctionReference, FunctionReturnType, OptionalRestArgs } from "convex/server";

/**
 * The contract every backend the app suites run on implements: convex-test
 * today, our own engine (over HTTP, through `ConvexHttpClient`) later. Test
 * bodies talk only to these interfaces, never to a backend's internals.
 */

/** Calls functions the way a front end (or an operator) does. */
export interface AppClient {
  /** Runs a query; rejects with the function's error (a `ConvexError` keeps its `data`). */
  query<Q extends FunctionReference<"query", "public" | "internal">>(
    ref: Q,
    ...args: OptionalRestArgs<Q>
  ): Promise<FunctionReturnType<Q>>;
  /** Runs a mutation. */
  mutation<M extends FunctionReference<"mutation", "public" | "internal">>(
    ref: M,
    ...args: OptionalRestArgs<M>
  ): Promise<FunctionReturnType<M>>;
  /** Runs an action. */
  action<A extends FunctionReference<"action", "public" | "internal">>(
    ref: A,
    ...args: OptionalRestArgs<A>
  ): Promise<FunctionReturnType<A>>;
}

/** One fresh deployment of the app. */
export interface AppBackend {
  /** Shown in test titles, e.g. "convex-test". */
  readonly name: string;
  /**
   * A client signed in as Clerk user `clerkId` (the JWT subject), or an
   * anonymous one for null. Like a real client it can call public functions
   * only; calling an internal one rejects.
   */
  client(clerkId: string | null): AppClient;
  /**
   * An official `ConvexClient` over WebSocket, signed in as `clerkId` (or
   * anonymous), for live-update tests; the caller closes it. Only backends
   * that speak Convex's sync protocol have it (the engine; convex-test has
   * no subscriptions).
   */
  live?(clerkId: string | null): ConvexClient;
  /** An operator's client (admin key): may call internal functions. */
  admin(): AppClient;
  /** A request to the deployment's HTTP actions (site URL); `path` starts with "/". */
  fetchSite(path: string, init?: RequestInit): Promise<Response>;
  /**
   * Uploads like a front end: `posts.generateUploadUrl` as `clerkId`, then a
   * POST of `bytes` with `contentType` to that URL. Returns the storage id.
   */
  upload(clerkId: string, bytes: Uint8Array, contentType: string): Promise<string>;
  /** GETs a URL the backend handed out (a post's `imageUrl`). */
  fetchUrl(url: string): Promise<Response>;
  /**
   * Runs scheduled functions until none is pending, including ones due in
   * the future (the backend's clock moves forward as far as needed).
   */
  drainScheduled(): Promise<void>;
  /** Every document of `table` (system tables such as `_storage` included). */
  documents(table: string): Promise<Record<string, unknown>[]>;
  /**
   * The deployment's current time in ms since the epoch, for backends whose
   * clock can run ahead of the test's (after `drainScheduled()` moved it
   * forward); anything the backend checks against its clock (webhook
   * timestamps) uses it. Absent means "the same as the test's clock".
   */
  now?(): Promise<number>;
  /** Sets (or, with null, removes) a deployment environment variable. */
  setEnv(name: string, value: string | null): Promise<void>;
  /** Releases the deployment. */
  close(): Promise<void>;
}

/** Makes fresh, empty deployments of one kind. */
export interface BackendFactory {
  name: string;
  /** A fresh, empty deployment. */
  create(): Promise<AppBackend>;
}
