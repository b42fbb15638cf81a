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
import { ConnectionView } from "./connection-view.js";
import { QuerySetVersions } from "./query-set-versions.js";
import { encodeServerMessage, type StateVersion } from "./server-message.js";
import type { AuthenticateSession } from "./session-auth.js";
import { SessionOutbox } from "./session-outbox.js";
import { SocketBacklog } from "./socket-backlog.js";
import { TokenExpiry } from "./token-expiry.js";
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
  private readonly backlog: SocketBacklog;
  private readonly querySet = new QuerySetVersions();
  private readonly expiry: TokenExpiry;
  private sessionId: string | null = null;
  private clockSkew: number | null = null;
  private receivedIdentity = 0;
  private identity: Identity | null = null;
  private admin = false;
  private inbox: Promise<void> = Promise.resolve();
  private mutations: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: SessionSocket,
    private readonly deps: SessionDeps,
  ) {
    this.outbox = new SessionOutbox(socket, deps.monotonic);
    this.backlog = new SocketBacklog(() => socket.bufferedAmount(), () => this.isClosed);
    this.expiry = new TokenExpiry(deps.wallClock, () => {
      if (!this.isClosed) this.authFailed("The authentication token has expired.", false, this.receivedIdentity);
    });
    deps.rounds.attach(this);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get owedTs(): bigint | null {
    return this.outbox.owed;
  }

  get backlogged(): boolean {
    return this.backlog.backlogged;
  }

  whenDrained(callback: () => void): void {
    this.backlog.whenDrained(callback);
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
    this.expiry.clear();
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
    const changes = this.querySet.apply(message);
    this.view.enqueue(changes, { querySet: this.querySet.version, identity: this.receivedIdentity });
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
    this.expiry.arm(verified.expiresAt);
    this.view.enqueue([{ kind: "identity", identity: verified.identity, admin: verified.admin }], {
      querySet: this.querySet.version,
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
