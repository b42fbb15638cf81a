import type { AppHost, AppHostEvents } from "./app-host.js";
import type { DevIssuer } from "./auth/dev-issuer.js";
import type { EngineLogger } from "./logger.js";
import type { AppBundle } from "./runtime/app-bundler.js";
import type { AppDefinition } from "./runtime/function-registry.js";
import type { CallRecord } from "./runtime/runtime.js";
import type { FlushFile } from "./runtime/writer/wal-sync.js";
import type { SchedulerDeps } from "./scheduler/job-scheduler.js";
import type { StorageOptions } from "./storage/local-storage.js";
import type { Store } from "./store/store.js";
import type { SynchronousMode } from "./store/store-options.js";
import type { SyncServer, SyncServerOptions } from "./sync/sync-server.js";

// The engine's public shapes: what `createEngine` takes and what it returns. Kept apart
// from `engine.ts` (the composition root) so the CLI, tests and embedders can name them
// without reading the wiring.

/** How to start an engine. */
export interface EngineOptions {
  /** The Convex functions folder (`convex/`). */
  appDir: string;
  /** Where the SQLite file, stored files and engine state live. */
  dataDir: string;
  /** Interface to bind; 127.0.0.1 unless told otherwise. */
  host?: string;
  /** API + WebSocket port (3210 by convention; 0 = any free port). */
  port?: number;
  /** HTTP actions port (3211 by convention; 0 = any free port). */
  sitePort?: number;
  /**
   * The API origin clients use (`--public-url`), when it is not where the
   * engine listens: upload and file URLs and CONVEX_CLOUD_URL carry it.
   */
  publicUrl?: string;
  /** The HTTP actions origin clients use; default: the public URL's host on the site port. */
  publicSiteUrl?: string;
  /** Deployment env vars to set (persisted like `env set`). */
  env?: Record<string, string>;
  /**
   * Dev mode: function errors reach clients with their messages, and
   * `POST /api/dev/token` mints tokens (with the admin key, on loopback).
   */
  dev?: boolean;
  /**
   * More host names to answer under (`--allowed-host`; `.name` allows
   * subdomains too, `true` any Host). Loopback names, IP addresses and the
   * bound name always work; see `http/host-policy.ts`.
   */
  allowedHosts?: string[] | true;
  /** Serves the dev token endpoint even when bound beyond loopback (`--allow-remote-dev-token`). */
  remoteDevToken?: boolean;
  /** SQLite `synchronous` (FULL by default). */
  synchronous?: SynchronousMode;
  /** A bundle built earlier for the same folder (tests reuse one). */
  bundle?: AppBundle;
  /** Where engine messages go. */
  logger?: EngineLogger;
  /** Every finished function call (dev mode prints failures with their source frames). */
  onCall?: (record: CallRecord) => void;
  /** Every function console line (dev mode streams them). */
  onFunctionLog?: AppHostEvents["onFunctionLog"];
  /** File storage settings (upload size limit). */
  storage?: StorageOptions;
  /** Scheduler settings (concurrent jobs). */
  scheduler?: Pick<SchedulerDeps, "maxConcurrentJobs">;
  /** WebSocket sync tunables (tests shorten timers or cut connections). */
  sync?: SyncServerOptions;
  /**
   * Reuse results of one-off query calls until a commit touches what they read
   * (on by default, as on Convex; see `runtime/query-cache.ts`).
   */
  queryCache?: boolean;
  /**
   * Query executor threads (default: one per core). Each has its own read-only SQLite
   * connection and copy of the app; they start as queries come. 0 runs queries on the main
   * thread under the executor lock (and a runaway query cannot be stopped).
   */
  queryWorkers?: number;
  /**
   * How far V8 lets the old generation grow past the live heap before the next full
   * collection, in percent, for the whole process (default 100: twice the live heap; 0
   * leaves V8's own factor; a process started with `--heap-growing-percent` keeps its own).
   * See `heap-growth.ts`.
   */
  heapGrowingPercent?: number;
  /** How long a query or mutation may run (ms; default 30 000). */
  transactionTimeoutMs?: number;
  /**
   * Action executor threads: the most actions and HTTP actions running at once, one per
   * thread, started as they come (default 16; more wait for a thread). 0 runs them on the
   * main thread, where a CPU-bound one blocks every client and cannot be stopped.
   */
  actionWorkers?: number;
  /** How long an action or HTTP action may run (ms; default 10 minutes, Convex's limit). */
  actionTimeoutMs?: number;
  /**
   * Run mutations on a writer thread with its own connection (default: whenever there are
   * query workers), so a runaway mutation can be stopped and no user code runs on the
   * thread that serves sockets.
   */
  writerThread?: boolean;
  /**
   * How the writer thread's WAL is flushed before its commits are acknowledged (default:
   * fdatasync on libuv's thread pool). Tests pass one that fails, as a broken disk would.
   */
  flushWal?: FlushFile;
}

/** A running engine. */
export interface Engine {
  /** The API origin clients are told (upload and file URLs, CONVEX_CLOUD_URL); see `public-urls.ts`. */
  readonly cloudUrl: string;
  /** The HTTP actions origin clients are told (CONVEX_SITE_URL). */
  readonly siteUrl: string;
  /** Where this machine reaches the API (equal to `cloudUrl` unless a public URL is set or guessed). */
  readonly localCloudUrl: string;
  /** Where this machine reaches the HTTP actions. */
  readonly localSiteUrl: string;
  readonly adminKey: string;
  readonly dataDir: string;
  readonly store: Store;
  readonly app: AppHost;
  readonly devIssuer: DevIssuer;
  /** The WebSocket sync endpoint (live queries). */
  readonly sync: SyncServer;
  /** Mints a token from the dev issuer for a named user (tests, CLI, dashboard). */
  mintDevToken(claims: { subject: string; name?: string; email?: string }, ttlSeconds?: number): Promise<string>;
  /**
   * Rebuilds (or takes `bundle`), pushes the schema and swaps the functions in
   * without dropping clients. Throws (and keeps the old code) on a build
   * error or a schema the existing documents do not match.
   */
  reload(bundle?: AppBundle): Promise<AppDefinition>;
  /** Stops everything and closes the data folder. */
  close(): Promise<void>;
}
