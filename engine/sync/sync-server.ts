import { performance } from "node:perf_hooks";
import { WebSocket, WebSocketServer } from "ws";
import type { UpgradeRoute } from "../http/api-server.js";
import type { IdentityResolver, VerifyToken } from "../http/identity-resolver.js";
import type { CommitSummary } from "../runtime/runtime-database.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Store } from "../store/store.js";
import { createSessionAuth } from "./session-auth.js";
import { SyncSession } from "./sync-session.js";
import { UpdateRounds, type RoundTiming } from "./update-rounds.js";

/** Tunables of the sync server; the defaults follow the backend. */
export interface SyncServerOptions {
  /** Send a `Ping` after this long without sending anything (ms; the client gives up at 60 s). */
  pingAfterMs?: number;
  /** How long a mutation's result is kept for exactly-once retries (ms). */
  mutationResultTtlMs?: number;
  /** How often old mutation results are deleted (ms). */
  pruneEveryMs?: number;
  /** How long an update round may hold the executor lock before queued mutations get a turn (ms). */
  sliceMs?: number;
  /** Sees every frame before it is sent; tests use it to cut a connection at an exact point. */
  beforeSend?: (text: string, connection: { terminate(): void }) => void;
}

/** What the sync server is built from. */
export interface SyncServerDeps {
  runtime: Pick<Runtime, "lock" | "runQueryLocked" | "call">;
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
  /** Where the last update round's time went. */
  lastRound: RoundTiming | null;
}

/** The WebSocket sync endpoint of one engine. */
export interface SyncServer {
  /** Serves `/api/<version>/sync` and `/api/sync` on the API port. */
  readonly upgradeRoute: UpgradeRoute;
  /** Reports a commit (wire to the runtime's `onCommit`). */
  onCommit(commit: CommitSummary): void;
  /** Re-runs every subscription (after a code reload). */
  invalidateAll(): void;
  stats(): SyncStats;
  /** Resolves once no update round runs or is due. */
  idle(): Promise<void>;
  /** Closes every connection (the clients reconnect) and stops the timers. */
  close(): Promise<void>;
}

const SYNC_PATH = /^\/api\/(?:[^/]+\/)?sync\/?$/;
const DEFAULT_PING_AFTER_MS = 15_000;
const DEFAULT_RESULT_TTL_MS = 30 * 60_000;
const DEFAULT_PRUNE_EVERY_MS = 5 * 60_000;
/** Larger frames from a client are refused by `ws` (the largest client messages are mutation arguments). */
const MAX_CLIENT_FRAME = 64 << 20;

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
    now: () => performance.now(),
    sliceMs: options.sliceMs,
  });
  const authenticate = createSessionAuth({ verifyToken: deps.verifyToken, identities: deps.identities });
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: MAX_CLIENT_FRAME });
  const sessions = new Map<SyncSession, WebSocket>();


  const accept = (ws: WebSocket): void => {
    const handle = { terminate: () => ws.terminate() };
    const session = new SyncSession(
      {
        send(text) {
          options.beforeSend?.(text, handle);
          if (ws.readyState === WebSocket.OPEN) ws.send(text);
        },
        close(code, reason) {
          if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
        },
        bufferedAmount: () => ws.bufferedAmount,
      },
      {
        rounds,
        runtime: deps.runtime,
        authenticate,
        lastCommitTs: () => deps.store.lastCommitTs(),
        wallClock: () => Date.now(),
        monotonic: () => performance.now(),
        logInternal,
      },
    );
    sessions.set(session, ws);
    ws.on("message", (data, isBinary) => {
      // The protocol is JSON text only; a binary frame is handled like malformed JSON.
      session.receive(isBinary ? "\u0000" : data.toString());
    });
    ws.on("close", () => {
      session.onClosed();
      sessions.delete(session);
    });
    ws.on("error", () => {
      // A 'close' event always follows; nothing else to do.
    });
  };

  const pinger = setInterval(() => {
    for (const session of sessions.keys()) session.pingIfIdle(pingAfterMs);
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
    stats: () => ({
      connections: sessions.size,
      subscriptions: rounds.registry.size,
      rounds: rounds.stats.rounds,
      queryRuns: rounds.stats.queryRuns,
      queryRunsByPath: Object.fromEntries(rounds.stats.queryRunsByPath),
      lastRound: rounds.stats.lastRound,
    }),
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
