import type { JSONValue } from "convex/values";
import type { ComponentsBundle } from "../../components/component-bundle.js";
import type { LogLevel } from "../log-capture.js";
import type { DeploymentInfo, Identity } from "../services.js";

/**
 * Messages between the main thread and a query worker (`query-worker-main.ts`). Only
 * data crosses: the worker has its own copy of the app, its own read-only connection
 * and its own document cache.
 */

/** The `ts` of a `done` answer to a job whose pinned snapshot the worker no longer holds. */
export const UNPINNED_TS = -1n;

/** What a worker is started with (`workerData`). */
export interface WorkerStart {
  dbPath: string;
  /** The engine's commit counter (`StoreOptions.commitCounter`); null: a new snapshot for every run. */
  commitCounter: SharedArrayBuffer | null;
  deployment: DeploymentInfo;
  /** The app the worker loads before its first query. */
  app: AppSource | null;
  /**
   * How much lower than the engine's other threads the worker's OS scheduling priority is
   * (a nice value; 0 keeps it equal). See `QUERY_WORKER_NICENESS`.
   */
  niceness: number;
  /** The `BroadcastChannel` the writer thread posts its commits on (`CommitNotice`); null without a writer. */
  commitChannel: string | null;
}

/**
 * A commit's written ids, as query workers hear of it (from the main thread, or straight
 * from the writer's `BroadcastChannel`); `previousTs` -2 when it cannot be chained.
 */
export interface CommitNotice {
  kind: "commit";
  ts: bigint;
  previousTs: bigint;
  ids: string[];
}

/** The app's code as a worker evaluates it. */
export interface AppSource {
  /** Bumped on every (re)load or env change; a query names the version it was resolved against. */
  version: number;
  /** The esbuild bundle (`AppBundle.code`). */
  code: string;
  /** The components `convex.config.ts` installs, bundled (`AppBundle.components`). */
  components: ComponentsBundle | null;
  appDir: string;
  /** The deployment env vars the functions see. */
  env: Record<string, string>;
}

/** One query to run. The main thread has resolved the path and checked the arguments. */
export interface QueryJob {
  id: number;
  /** Canonical path of a query function. */
  path: string;
  /** The component it belongs to (`""`: the app). */
  component: string;
  /** `JSON.stringify([args])`, as the function wrapper takes it. */
  argsJson: string;
  /** The identity it runs with (none inside a component: auth does not cross into components). */
  identity: Identity | null;
  /** The subscription's journal from its previous run. */
  journal: string | null;
  /** Record and return the read set (subscriptions, cached one-off queries). */
  tracked: boolean;
  /** How far the deployment clock is ahead of the wall clock (ms). */
  clockOffsetMs: number;
  appVersion: number;
  /** Run at this pinned snapshot (`/api/query_at_ts`) instead of the latest one. */
  atTs?: bigint;
}

/** Main → worker. */
export type ToWorker =
  | { kind: "app"; app: AppSource }
  | { kind: "run"; job: QueryJob }
  /** Pin a fresh snapshot for `holdMs` (`/api/query_ts`); answered with `pinned`. */
  | { kind: "pin"; id: number; holdMs: number }
  /** A commit: ids whose cached text is stale, and the commit it follows. */
  | CommitNotice
  | { kind: "close" };

/** A function's outcome as it crosses a thread boundary (the value stays text). */
export type WireOutcome =
  | { status: "success"; valueText: string; logLines: string[] }
  | { status: "error"; errorMessage: string; errorData?: JSONValue; appFrames?: string[]; logLines: string[] };

/** How often a worker dropped all its caches (`SnapshotCaches.drops`). */
export interface CacheDrops {
  /** It began a snapshot newer than the last commit it had heard of. */
  unannounced: number;
  /** A commit did not follow the last one it had heard of. */
  gap: number;
}

/** Worker → main. */
export type FromWorker =
  | {
      kind: "done";
      id: number;
      /** A success is posted as a packed buffer instead (`PostedFromWorker`). */
      outcome: WireOutcome;
      /** The commit ts of the snapshot the query read. */
      ts: bigint;
      journal: string | null;
      /** `packReadSet` of what it read; null when the job was not tracked. */
      readSet: ArrayBuffer | null;
      /** How often this worker has dropped all its caches so far (`SnapshotCaches.drops`). */
      cacheDrops?: CacheDrops;
    }
  | { kind: "pinned"; id: number; ts: bigint }
  /** The worker has evaluated the app (when it started, or new code) and starts its next job now. */
  | { kind: "ready" }
  | { kind: "log"; path: string; level: LogLevel; line: string }
  /** An engine fault inside the worker, for the engine's log. */
  | { kind: "internal"; text: string };

/**
 * What a query worker posts: a `FromWorker` message, or a success's "done" packed into one
 * transferred buffer (`packed-answer.ts`).
 */
export type PostedFromWorker = FromWorker | ArrayBuffer;
