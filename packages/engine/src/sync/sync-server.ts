import { availableParallelism } from "node:os";
import { performance } from "node:perf_hooks";
import { WebSocket, WebSocketServer } from "ws";
import type { UpgradeRoute } from "../http/api-server.js";
import type { IdentityResolver, VerifyToken } from "../http/identity-resolver.js";
import type { CommitSummary } from "../runtime/runtime-database.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Store } from "../store/store.js";
import { MAX_REQUEST_JSON_BYTES } from "../values/value-limits.js";
import { DEFAULT_CLIENT_QUOTA, QuotaPool, type ClientQuotaLimits } from "./client-quota.js";
import { MAX_QUERIES_PER_CONNECTION } from "./connection-view.js";
import { MutationTimings } from "./mutation-timings.js";
import { createSessionAuth } from "./session-auth.js";
import { DEFAULT_FLOW_LIMITS, FlowBudget, SocketFlow, type FlowCut, type FlowLimits } from "./socket-flow.js";
import { SyncSession } from "./sync-session.js";
import { UpdateRounds } from "./update-rounds.js";

/** Tunables of the sync server; the defaults follow the backend. */
export interface SyncServerOptions {
  /** Send a `Ping` after this long without sending anything (ms; the client gives up at 60 s). */
  pingAfterMs?: number;
  /** How long a mutation's result is kept for exactly-once retries (ms). */
  mutationResultTtlMs?: number;
  /** How often old mutation results are deleted (ms). */
  pruneEveryMs?: number;
  /** Most subscription runs in flight at once (default: twice the cores, at least 4). */
  maxRunsInFlight?: number;
  /** Live queries one connection may hold (default 4,096). */
  maxQueriesPerConnection?: number;
  /** Backlog bounds for clients that read slowly or not at all (`socket-flow.ts`). */
  flow?: Partial<FlowLimits>;
  /** What one connection may ask at a time (`client-quota.ts`). */
  quota?: Partial<ClientQuotaLimits>;
  /**
   * Sees every frame before it is sent; tests use it to cut a connection at an exact point.
   * The frame comes as it goes to the socket (a Transition is the Buffer every socket that
   * gets it shares): a hook decodes what it looks at, so it adds no text per frame.
   */
  beforeSend?: (frame: string | Buffer, connection: { terminate(): void }) => void;
}

/** What the sync server is built from. */
export interface SyncServerDeps {
  runtime: Pick<Runtime, "lock" | "runTracked" | "call">;
  store: Pick<Store, "lastCommitTs" | "pruneMutationResults">;
  verifyToken: VerifyToken;
  identities: Pick<IdentityResolver, "resolve">;
  logger: { error(message: string, e?: unknown): void };
  options?: SyncServerOptions;
}

/** Counters for tests and benchmarks. */
export interface SyncStats {
  connections: number;
  subscriptions: number;
  rounds: number;
  /** Subscription executions, total and per canonical function path. */
  queryRuns: number;
  queryRunsByPath: Record<string, number>;
  /** Results already invalidated by a commit after their snapshot when they arrived (they ran again). */
  staleResults: number;
  /** Results replaced by a newer one before any connection was sent them. */
  unshownResults: number;
  /** Commits announced while subscription runs were in flight. */
  commitsDuringRuns: number;
  /** Transitions that combined results computed at different snapshots (each valid at the Transition's ts). */
  mixedSnapshotTransitions: number;
  maxRunsInFlight: number;
  /** Run time (dispatch to result, summed) and Transition building time, ms. */
  runMs: number;
  emitMs: number;
  transitionsSent: number;
  /** Distinct Transitions encoded: connections in the same state share one encoding. */
  transitionsEncoded: number;
  /** Bytes buffered in this process for all sync sockets now. */
  bufferedBytes: number;
  /** Connections ended by flow control: too far behind, over the total buffer, unanswered ping. */
  flowCuts: Record<FlowCut, number>;
  /** Bytes received and not yet handled, over all connections; connections closed for holding the most of them. */
  queuedBytes: number;
  busyCuts: number;
  /** Where WebSocket mutations' time went, by phase (`mutation-timings.ts`). */
  mutations: ReturnType<MutationTimings["summary"]>;
}

/** The WebSocket sync endpoint of one engine. */
export interface SyncServer {
  /** Serves `/api/<version>/sync` and `/api/sync` on the API port. */
  readonly upgradeRoute: UpgradeRoute;
  /** Reports a commit (wire to the runtime's `onCommit`). */
  onCommit(commit: CommitSummary): void;
  /** Re-runs every subscription (after a code reload). */
  invalidateAll(): void;
  /** Verifies every signed-in connection's token again (the auth configuration changed). */
  reverifyIdentities(): void;
  stats(): SyncStats;
  /** Starts the mutation timings of `stats()` afresh (a benchmark's next phase). */
  resetMutationTimings(): void;
  /** Resolves once no update round runs or is due. */
  idle(): Promise<void>;
  /** Closes every connection (the clients reconnect) and stops the timers. */
  close(): Promise<void>;
}

const SYNC_PATH = /^\/api\/(?:[^/]+\/)?sync\/?$/;
const DEFAULT_PING_AFTER_MS = 15_000;
const DEFAULT_RESULT_TTL_MS = 30 * 60_000;
const DEFAULT_PRUNE_EVERY_MS = 5 * 60_000;
/**
 * Larger frames from a client are refused by `ws` as they start (close 1009),
 * before they are buffered: the JSON of Convex's largest arguments (16 MiB,
 * bytes as base64) and the message around them, the HTTP body limit too.
 */
export const MAX_CLIENT_FRAME = MAX_REQUEST_JSON_BYTES;

/** Creates the sync server; it accepts connections once its `upgradeRoute` is registered. */
export function createSyncServer(deps: SyncServerDeps): SyncServer {
  const options = deps.options ?? {};
  const pingAfterMs = options.pingAfterMs ?? DEFAULT_PING_AFTER_MS;
  const ttlMs = options.mutationResultTtlMs ?? DEFAULT_RESULT_TTL_MS;
  const logInternal = (e: unknown) => deps.logger.error("sync: internal error", e);
  const rounds = new UpdateRounds({
    runtime: deps.runtime,
    lastCommitTs: () => deps.store.lastCommitTs(),
    logInternal,
    maxRunsInFlight: options.maxRunsInFlight ?? Math.max(4, 2 * availableParallelism()),
  });
  const authenticate = createSessionAuth({ verifyToken: deps.verifyToken, identities: deps.identities });
  const budget = new FlowBudget({ ...DEFAULT_FLOW_LIMITS, ...options.flow }, () => performance.now());
  const quotas = new QuotaPool({ ...DEFAULT_CLIENT_QUOTA, ...options.quota }, () => performance.now());
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_CLIENT_FRAME });
  const sessions = new Map<SyncSession, WebSocket>();
  const timings = new MutationTimings();

  const accept = (ws: WebSocket): void => {
    const handle = { terminate: () => ws.terminate() };
    let session: SyncSession | null = null;
    const flow = new SocketFlow(ws, budget, () => session?.onClosed());
    session = new SyncSession(
      {
        send(data) {
          options.beforeSend?.(data, handle);
          flow.send(data);
        },
        close(code, reason) {
          // Reading may be paused by the quota; the close handshake needs the client's close frame.
          ws.resume();
          if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
        },
        get gated() {
          return flow.gated;
        },
        whenDrained: (callback) => flow.whenDrained(callback),
        pauseReading: () => ws.pause(),
        resumeReading: () => ws.resume(),
      },
      {
        rounds,
        runtime: deps.runtime,
        authenticate,
        lastCommitTs: () => deps.store.lastCommitTs(),
        wallClock: () => Date.now(),
        monotonic: () => performance.now(),
        logInternal,
        quotas,
        maxQueries: options.maxQueriesPerConnection ?? MAX_QUERIES_PER_CONNECTION,
        timings,
      },
    );
    const live = session;
    sessions.set(live, ws);
    ws.on("message", (data, isBinary) => {
      // The protocol is JSON text only; a binary frame is handled like malformed JSON.
      live.receive(isBinary ? "\u0000" : data.toString());
    });
    ws.on("close", () => {
      live.onClosed();
      sessions.delete(live);
    });
    ws.on("error", () => {
      // A 'close' event always follows (an oversized frame closes with 1009); nothing else to do.
    });
  };

  const pinger = setInterval(() => {
    for (const session of sessions.keys()) session.pingIfIdle(pingAfterMs);
    budget.tick();
  }, Math.max(250, Math.floor(pingAfterMs / 3)));
  pinger.unref();

  const prune = () =>
    deps.runtime.lock
      .run(async () => deps.store.pruneMutationResults(ttlMs))
      .catch(logInternal);
  void prune();
  const pruner = setInterval(() => void prune(), options.pruneEveryMs ?? DEFAULT_PRUNE_EVERY_MS);
  pruner.unref();

  return {
    upgradeRoute(req, socket, head, url) {
      if (!SYNC_PATH.test(url.pathname)) return false;
      wss.handleUpgrade(req, socket, head, accept);
      return true;
    },
    onCommit: (commit) => rounds.onCommit(commit),
    invalidateAll: () => rounds.invalidateAll(),
    reverifyIdentities() {
      for (const session of sessions.keys()) session.reverifyIdentity();
    },
    stats: () => ({
      connections: sessions.size,
      subscriptions: rounds.registry.size,
      rounds: rounds.stats.rounds,
      queryRuns: rounds.stats.queryRuns,
      queryRunsByPath: Object.fromEntries(rounds.stats.queryRunsByPath),
      staleResults: rounds.stats.staleResults,
      unshownResults: rounds.stats.unshownResults,
      commitsDuringRuns: rounds.stats.commitsDuringRuns,
      mixedSnapshotTransitions: rounds.stats.mixedSnapshotTransitions,
      maxRunsInFlight: rounds.stats.maxInFlight,
      runMs: rounds.stats.runMs,
      emitMs: rounds.stats.emitMs,
      transitionsSent: rounds.stats.transitionsSent,
      transitionsEncoded: rounds.encoder.encoded,
      bufferedBytes: budget.buffered(),
      flowCuts: { ...budget.cuts },
      queuedBytes: quotas.queuedBytes,
      busyCuts: quotas.busyCuts,
      mutations: timings.summary(),
    }),
    resetMutationTimings: () => timings.reset(),
    idle: () => rounds.idle(),
    async close() {
      clearInterval(pinger);
      clearInterval(pruner);
      // 1001 "going away": the clients reconnect (to this address, once the engine is back).
      for (const session of sessions.keys()) session.close(1001, "ServerShutdown");
      sessions.clear();
      // Not waiting for close handshakes: a client that stopped reading would hold shutdown for
      // ws's 30 s timeout. The HTTP server destroys the sockets right after this.
      wss.close();
      await rounds.idle();
    },
  };
}
