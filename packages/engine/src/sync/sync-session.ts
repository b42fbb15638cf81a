import { EngineError } from "../errors.js";
import type { Runtime } from "../runtime/runtime.js";
import { parseClientMessage, type AuthenticateMessage, type ClientMessage, type ModifyQuerySetMessage } from "./client-message.js";
import { ClientQuota, type QuotaPool } from "./client-quota.js";
import { ConnectionAuth } from "./connection-auth.js";
import { ConnectionView } from "./connection-view.js";
import { QuerySetVersions } from "./query-set-versions.js";
import { encodeServerMessage } from "./server-message.js";
import type { AuthenticateSession } from "./session-auth.js";
import type { MutationTimings } from "./mutation-timings.js";
import { SessionOutbox } from "./session-outbox.js";
import { SessionRequests } from "./session-requests.js";
import { CLOSE_TRY_AGAIN } from "./socket-flow.js";
import type { TransitionFrames } from "./transition-frames.js";
import type { RoundTarget, UpdateRounds } from "./update-rounds.js";

/** The socket a session talks through (with flow control, `socket-flow.ts`). */
export interface SessionSocket {
  send(data: string | Buffer): void;
  /** Stops reading from the socket (backpressure on the client), and starts again. */
  pauseReading(): void;
  resumeReading(): void;
  close(code: number, reason: string): void;
  /** True while the client is too far behind on reading for another Transition. */
  readonly gated: boolean;
  /** Calls `callback` once the client caught up (or the socket ended). */
  whenDrained(callback: () => void): void;
}

/** What a session needs from the server. */
export interface SessionDeps {
  rounds: UpdateRounds;
  runtime: Pick<Runtime, "call">;
  authenticate: AuthenticateSession;
  /** The latest commit ts. */
  lastCommitTs: () => bigint;
  /** Wall clock, ms since the epoch (token expiry). */
  wallClock: () => number;
  /** Monotonic ms clock (Pings, quotas). */
  monotonic: () => number;
  logInternal: (e: unknown) => void;
  /** What connections may ask at a time (`client-quota.ts`). */
  quotas: QuotaPool;
  /** Live queries the connection may hold. */
  maxQueries: number;
  /** Where WebSocket mutations' time goes (benchmarks). */
  timings: MutationTimings;
}

/** Close codes: the client reconnects after any of them except after a FatalError. */
const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL_ERROR = 1008;
const CLOSE_INTERNAL_ERROR = 1011;
/** Messages of one connection handled back to back before other work gets a turn. */
const MESSAGES_PER_TURN = 32;

/**
 * One WebSocket connection's state machine (convex-interface.md §5.6).
 *
 * Messages are handled strictly in arrival order: each waits for the one
 * before it, so an Authenticate that fetches keys completes before a later
 * Mutation picks its identity. Mutations and actions then run as
 * `session-requests.ts` says. What the connection may queue is bounded by its
 * quota (`client-quota.ts`). Runs on the sync server's thread.
 */
export class SyncSession implements RoundTarget {
  readonly view: ConnectionView;
  private isClosed = false;
  private readonly outbox: SessionOutbox;
  private readonly quota: ClientQuota;
  private readonly auth: ConnectionAuth;
  private readonly querySet = new QuerySetVersions();
  private drainArmed = false;
  private handledThisTurn = 0;
  private sessionId: string | null = null;
  private inbox: Promise<void> = Promise.resolve();
  private readonly requests: SessionRequests;

  constructor(
    private readonly socket: SessionSocket,
    private readonly deps: SessionDeps,
  ) {
    this.view = new ConnectionView(deps.maxQueries);
    this.outbox = new SessionOutbox(socket, deps.monotonic, (ms) => deps.timings.transition.add(ms));
    this.quota = new ClientQuota(deps.quotas, {
      pauseReading: () => socket.pauseReading(),
      resumeReading: () => socket.resumeReading(),
      overQuota: (e) => this.fail(e),
    });
    this.auth = new ConnectionAuth({
      authenticate: deps.authenticate,
      wallClock: deps.wallClock,
      authFailed: (error, attempted, baseVersion) => this.authFailed(error, attempted, baseVersion),
    });
    this.requests = new SessionRequests({
      runtime: deps.runtime,
      lastCommitTs: deps.lastCommitTs,
      logInternal: deps.logInternal,
      quota: this.quota,
      auth: this.auth,
      outbox: this.outbox,
      closed: () => this.isClosed,
      sessionId: () => this.sessionId,
      wantsTransition: () => deps.rounds.emitNow(this),
      fail: (e) => this.fail(e),
      timings: deps.timings,
      monotonic: deps.monotonic,
    });
    deps.rounds.attach(this);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get owedTs(): bigint | null {
    return this.outbox.owed;
  }

  readyFor(ts: bigint): boolean {
    if (this.isClosed) return false;
    if (this.socket.gated) {
      // A Transition is a diff from what was sent: skipping one loses nothing, the next covers both.
      if (!this.drainArmed) {
        this.drainArmed = true;
        this.socket.whenDrained(() => {
          this.drainArmed = false;
          this.deps.rounds.touch(this);
        });
      }
      return false;
    }
    return this.outbox.accepts(ts);
  }

  /** A text frame arrived. */
  receive(text: string): void {
    if (this.isClosed) return;
    const bytes = text.length;
    const receivedAt = this.deps.monotonic();
    // One unit per message and per KiB: big frames are the costly ones to parse.
    this.quota.received(bytes, 1 + Math.floor(bytes / 1024));
    this.inbox = this.inbox
      // A message is handled once its units are paid: a big frame on a fresh connection waits too.
      .then(() => this.quota.ready())
      .then(() => this.takeTurn())
      .then(() => (this.isClosed ? undefined : this.handle(parseClientMessage(text), bytes, receivedAt)))
      .catch((e: unknown) => this.fail(e));
  }

  /**
   * Frames that arrive together are handled as a chain of microtasks; every
   * `MESSAGES_PER_TURN` messages the chain waits for a macrotask, so a burst
   * of thousands from one socket does not hold the thread for its whole length.
   */
  private takeTurn(): Promise<void> | undefined {
    if (++this.handledThisTurn < MESSAGES_PER_TURN) return undefined;
    this.handledThisTurn = 0;
    return new Promise((resolve) => setImmediate(resolve));
  }

  /** Sends a `Ping` when nothing was sent for `idleMs`, so the client does not drop a quiet connection. */
  pingIfIdle(idleMs: number): void {
    if (!this.isClosed && this.deps.monotonic() - this.outbox.lastSentAt >= idleMs) {
      this.outbox.send(encodeServerMessage({ type: "Ping" }));
    }
  }

  deliverTransition(frames: TransitionFrames, ts: bigint): void {
    this.outbox.sendTransition(frames, ts);
  }

  abort(e: unknown): void {
    this.fail(e);
  }

  /**
   * The auth configuration changed: the user token this connection signed in
   * with is verified again, and a token the new configuration refuses ends
   * the session with AuthError, as an expired one does. Mutations and
   * actions wait for the check.
   */
  reverifyIdentity(): void {
    if (!this.isClosed) this.auth.reverify();
  }

  /** The socket closed, from either side: release everything. */
  onClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.auth.dispose();
    this.quota.dispose();
    this.deps.rounds.detach(this);
  }

  /** Closes the connection from the server side. */
  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.onClosed();
    this.socket.close(code, reason);
  }

  private async handle(message: ClientMessage, bytes: number, receivedAt: number): Promise<void> {
    switch (message.type) {
      case "Connect":
        this.sessionId = message.sessionId;
        break;
      case "ModifyQuerySet":
        this.quota.spend(message.modifications.length);
        this.modifyQuerySet(message);
        break;
      case "Mutation":
        // Its bytes stay counted until it has run.
        return this.requests.enqueueMutation(message, bytes, receivedAt);
      case "Action":
        return this.requests.startAction(message, bytes);
      case "Authenticate":
        await this.authenticate(message);
        break;
      case "Event":
        break;
      default:
        assertNever(message);
    }
    this.quota.release(bytes);
  }

  private modifyQuerySet(message: ModifyQuerySetMessage): void {
    const changes = this.querySet.apply(message);
    this.view.enqueue(changes, { querySet: this.querySet.version, identity: this.auth.version });
    this.deps.rounds.touch(this);
  }

  private async authenticate(message: AuthenticateMessage): Promise<void> {
    if (!(await this.auth.authenticate(message)) || this.isClosed) return;
    const { identity, admin, version } = this.auth;
    this.view.enqueue([{ kind: "identity", identity, admin }], { querySet: this.querySet.version, identity: version });
    this.deps.rounds.touch(this);
  }

  /** AuthError, then close: a client that gives up on its token only recovers on a new connection (§5.6). */
  private authFailed(error: string, attempted: boolean, baseVersion: number): void {
    if (this.isClosed) return;
    this.outbox.release();
    this.outbox.send(encodeServerMessage({ type: "AuthError", error, baseVersion, authUpdateAttempted: attempted }));
    this.close(CLOSE_NORMAL, "AuthError");
  }

  private fail(e: unknown): void {
    if (this.isClosed) return;
    if (e instanceof EngineError && e.recovery === "client") {
      // A client that broke the protocol cannot resync: FatalError stops it from retrying the same mistake.
      this.outbox.release();
      this.outbox.send(encodeServerMessage({ type: "FatalError", error: e.message }));
      this.close(CLOSE_PROTOCOL_ERROR, e.code);
      return;
    }
    if (e instanceof EngineError && e.recovery === "transient") {
      // Over a quota: the client reconnects after a backoff (Convex's 1013 and reason).
      this.close(CLOSE_TRY_AGAIN, `${e.code}: ${e.message}`.slice(0, 123));
      return;
    }
    this.deps.logInternal(e);
    this.close(CLOSE_INTERNAL_ERROR, "InternalServerError");
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected client message ${JSON.stringify(x)}`);
}
