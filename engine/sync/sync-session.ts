import { EngineError } from "../errors.js";
import type { CallOutcome } from "../runtime/function-outcome.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Identity } from "../runtime/services.js";
import {
  parseClientMessage,
  protocolError,
  type AuthenticateMessage,
  type ClientMessage,
  type ModifyQuerySetMessage,
  type RequestMessage,
} from "./client-message.js";
import { ConnectionView, type PendingChange } from "./connection-view.js";
import { encodeServerMessage, type StateVersion } from "./server-message.js";
import type { AuthenticateSession } from "./session-auth.js";
import { SessionOutbox } from "./session-outbox.js";
import type { RoundTarget, UpdateRounds } from "./update-rounds.js";

/** The socket a session talks through. */
export interface SessionSocket {
  send(text: string): void;
  close(code: number, reason: string): void;
  /** Bytes handed to the socket but not yet written out. */
  bufferedAmount(): number;
}

/** What a session needs from the server. */
export interface SessionDeps {
  rounds: UpdateRounds;
  runtime: Pick<Runtime, "call">;
  authenticate: AuthenticateSession;
  /** The latest commit ts. */
  lastCommitTs: () => bigint;
  /** Wall clock, ms since the epoch (token expiry, clock skew). */
  wallClock: () => number;
  /** Monotonic ms clock (Pings). */
  monotonic: () => number;
  logInternal: (e: unknown) => void;
}

/** Close codes: the client reconnects after any of them except after a FatalError. */
const CLOSE_NORMAL = 1000;
const CLOSE_PROTOCOL_ERROR = 1008;
const CLOSE_INTERNAL_ERROR = 1011;
/** `setTimeout` cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** Above this many unsent bytes a connection gets no new Transition until it catches up. */
const BACKLOG_LIMIT = 4 << 20;
/** How often a backlogged socket is checked. */
const DRAIN_POLL_MS = 20;

/**
 * One WebSocket connection's state machine (convex-interface.md §5.6).
 *
 * Messages are handled strictly in arrival order: each waits for the one
 * before it, so an Authenticate that fetches keys completes before a later
 * Mutation picks its identity. Mutations then run one at a time in their own
 * queue (so a slow one does not stall query-set changes) with the identity
 * that was current when they arrived; actions run concurrently.
 */
export class SyncSession implements RoundTarget {
  readonly view = new ConnectionView();
  private isClosed = false;
  private readonly outbox: SessionOutbox;
  private sessionId: string | null = null;
  private clockSkew: number | null = null;
  private receivedQuerySet = 0;
  private receivedIdentity = 0;
  /** Query ids live after every ModifyQuerySet received so far (for validation). */
  private readonly liveQueryIds = new Set<number>();
  private identity: Identity | null = null;
  private admin = false;
  private expiryTimer: NodeJS.Timeout | null = null;
  private drainWaiters: (() => void)[] = [];
  private inbox: Promise<void> = Promise.resolve();
  private mutations: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: SessionSocket,
    private readonly deps: SessionDeps,
  ) {
    this.outbox = new SessionOutbox(socket, deps.monotonic);
    deps.rounds.attach(this);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get owedTs(): bigint | null {
    return this.outbox.owed;
  }

  get backlogged(): boolean {
    return this.socket.bufferedAmount() > BACKLOG_LIMIT;
  }

  whenDrained(callback: () => void): void {
    this.drainWaiters.push(callback);
    if (this.drainWaiters.length > 1) return;
    const check = () => {
      if (!this.isClosed && this.socket.bufferedAmount() > BACKLOG_LIMIT / 2) {
        setTimeout(check, DRAIN_POLL_MS).unref();
        return;
      }
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const waiter of waiters) waiter();
    };
    setTimeout(check, DRAIN_POLL_MS).unref();
  }

  /** A text frame arrived. */
  receive(text: string): void {
    if (this.isClosed) return;
    this.inbox = this.inbox
      .then(() => (this.isClosed ? undefined : this.handle(parseClientMessage(text))))
      .catch((e: unknown) => this.fail(e));
  }

  /** Sends a `Ping` when nothing was sent for `idleMs`, so the client does not drop a quiet connection. */
  pingIfIdle(idleMs: number): void {
    if (!this.isClosed && this.deps.monotonic() - this.outbox.lastSentAt >= idleMs) {
      this.outbox.send(encodeServerMessage({ type: "Ping" }));
    }
  }

  deliverTransition(start: StateVersion, end: StateVersion, modifications: string[]): void {
    const text = encodeServerMessage({ type: "Transition", startVersion: start, endVersion: end, modifications, clientClockSkew: this.clockSkew });
    this.outbox.sendTransition(text, end.ts);
  }

  /** The socket closed, from either side: release everything. */
  onClosed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.deps.rounds.detach(this);
  }

  /** Closes the connection from the server side. */
  close(code: number, reason: string): void {
    if (this.isClosed) return;
    this.onClosed();
    this.socket.close(code, reason);
  }

  private async handle(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case "Connect":
        this.sessionId = message.sessionId;
        if (message.clientTs !== null) this.clockSkew = Math.round(message.clientTs - this.deps.wallClock());
        return;
      case "ModifyQuerySet":
        return this.modifyQuerySet(message);
      case "Mutation":
        return this.enqueueMutation(message);
      case "Action":
        return this.startAction(message);
      case "Authenticate":
        return this.authenticate(message);
      case "Event":
        return;
      default:
        assertNever(message);
    }
  }

  private modifyQuerySet(message: ModifyQuerySetMessage): void {
    if (message.baseVersion !== this.receivedQuerySet) {
      throw protocolError(
        "BaseVersionMismatch",
        `ModifyQuerySet has baseVersion ${message.baseVersion}, but the query set is at version ${this.receivedQuerySet}.`,
      );
    }
    if (message.newVersion <= message.baseVersion) {
      throw protocolError("InvalidNewVersion", `ModifyQuerySet newVersion ${message.newVersion} must exceed baseVersion ${message.baseVersion}.`);
    }
    const changes: PendingChange[] = [];
    for (const modification of message.modifications) {
      if (modification.type === "Add") {
        if (this.liveQueryIds.has(modification.queryId)) {
          throw protocolError("DuplicateQueryId", `Query id ${modification.queryId} is already in the query set.`);
        }
        this.liveQueryIds.add(modification.queryId);
        const { queryId, udfPath, args, journal } = modification;
        changes.push({ kind: "add", queryId, udfPath, args, journal: journal ?? null });
      } else {
        if (!this.liveQueryIds.delete(modification.queryId)) {
          throw protocolError("UnknownQueryId", `Query id ${modification.queryId} is not in the query set.`);
        }
        changes.push({ kind: "remove", queryId: modification.queryId });
      }
    }
    this.receivedQuerySet = message.newVersion;
    this.view.enqueue(changes, { querySet: this.receivedQuerySet, identity: this.receivedIdentity });
    this.deps.rounds.touch(this);
  }

  private async authenticate(message: AuthenticateMessage): Promise<void> {
    if (message.baseVersion !== this.receivedIdentity) {
      throw protocolError(
        "BaseVersionMismatch",
        `Authenticate has baseVersion ${message.baseVersion}, but ${this.receivedIdentity} Authenticate messages were received.`,
      );
    }
    let verified;
    try {
      verified = await this.deps.authenticate(message);
    } catch (e) {
      // The rejected message's own version always passes the client's staleness check (§5.6).
      this.authFailed(e instanceof Error ? e.message : String(e), true, message.baseVersion);
      return;
    }
    if (this.isClosed) return;
    this.receivedIdentity += 1;
    this.identity = verified.identity;
    this.admin = verified.admin;
    this.armExpiry(verified.expiresAt);
    this.view.enqueue([{ kind: "identity", identity: verified.identity, admin: verified.admin }], {
      querySet: this.receivedQuerySet,
      identity: this.receivedIdentity,
    });
    this.deps.rounds.touch(this);
  }

  private enqueueMutation(message: RequestMessage): void {
    // Captured now: a later Authenticate must not change who this mutation runs as.
    const identity = this.identity;
    const admin = this.admin;
    const sessionId = this.sessionId;
    this.mutations = this.mutations.then(async () => {
      if (this.isClosed) return;
      this.outbox.beginMutation(this.deps.lastCommitTs());
      const outcome = await this.call(message, "mutation", identity, admin, sessionId);
      if (this.isClosed) return;
      const response = encodeServerMessage({ type: "MutationResponse", requestId: message.requestId, outcome });
      const commitTs = outcome.status === "success" ? (outcome.ts ?? null) : null;
      if (this.outbox.endMutation(response, commitTs)) this.deps.rounds.touch(this);
    }).catch((e: unknown) => this.fail(e));
  }

  private startAction(message: RequestMessage): void {
    void this.call(message, "action", this.identity, this.admin, null)
      .then((outcome) => {
        if (!this.isClosed) this.outbox.send(encodeServerMessage({ type: "ActionResponse", requestId: message.requestId, outcome }));
      })
      .catch((e: unknown) => this.fail(e));
  }

  private async call(
    message: RequestMessage,
    kind: "mutation" | "action",
    identity: Identity | null,
    admin: boolean,
    sessionId: string | null,
  ): Promise<CallOutcome> {
    try {
      return await this.deps.runtime.call({
        path: message.udfPath,
        args: message.args,
        identity,
        allowInternal: admin,
        expectKind: kind,
        origin: "client",
        // Exactly-once across reconnects and restarts: the client re-sends with the same id (§5.5).
        idempotencyKey: kind === "mutation" && sessionId !== null ? { sessionId, requestId: message.requestId } : undefined,
      });
    } catch (e) {
      this.deps.logInternal(e);
      return { status: "error", errorMessage: "Server error", logLines: [] };
    }
  }

  private armExpiry(expiresAt: number | null): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (expiresAt === null) return;
    const wait = expiresAt - this.deps.wallClock();
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (this.isClosed) return;
      if (wait > MAX_TIMER_MS) this.armExpiry(expiresAt);
      else this.authFailed("The authentication token has expired.", false, this.receivedIdentity);
    }, Math.max(0, Math.min(wait, MAX_TIMER_MS)));
    this.expiryTimer.unref();
  }

  /** AuthError, then close: a client that gives up on its token only recovers on a new connection (§5.6). */
  private authFailed(error: string, attempted: boolean, baseVersion: number): void {
    if (this.isClosed) return;
    this.outbox.flushHeld();
    this.outbox.send(encodeServerMessage({ type: "AuthError", error, baseVersion, authUpdateAttempted: attempted }));
    this.close(CLOSE_NORMAL, "AuthError");
  }

  private fail(e: unknown): void {
    if (this.isClosed) return;
    if (e instanceof EngineError && e.recovery === "client") {
      // A client that broke the protocol cannot resync: FatalError stops it from retrying the same mistake.
      this.outbox.flushHeld();
      this.outbox.send(encodeServerMessage({ type: "FatalError", error: e.message }));
      this.close(CLOSE_PROTOCOL_ERROR, e.code);
      return;
    }
    this.deps.logInternal(e);
    this.close(CLOSE_INTERNAL_ERROR, "InternalServerError");
  }
}

function assertNever(x: never): never {
  throw new Error(`unexpected client message ${JSON.stringify(x)}`);
}
