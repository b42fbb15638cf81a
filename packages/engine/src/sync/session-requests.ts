import type { CallOutcome } from "../runtime/function-outcome.js";
import type { Runtime } from "../runtime/runtime.js";
import type { Identity } from "../runtime/services.js";
import type { RequestMessage } from "./client-message.js";
import type { ClientQuota } from "./client-quota.js";
import type { ConnectionAuth } from "./connection-auth.js";
import { encodeServerMessage } from "./server-message.js";
import type { MutationTimings } from "./mutation-timings.js";
import type { SessionOutbox } from "./session-outbox.js";

/** What a connection's requests need from its session. */
export interface SessionRequestDeps {
  runtime: Pick<Runtime, "call">;
  /** The latest commit ts. */
  lastCommitTs: () => bigint;
  logInternal: (e: unknown) => void;
  quota: ClientQuota;
  auth: ConnectionAuth;
  outbox: SessionOutbox;
  closed: () => boolean;
  /** The client's session id from its Connect (exactly-once keys), or null before one. */
  sessionId: () => string | null;
  /** A mutation's response went out and the connection wants a Transition now. */
  wantsTransition: () => void;
  /** Ends the connection after an error outside any one function. */
  fail: (e: unknown) => void;
  timings: MutationTimings;
  /** Monotonic ms clock. */
  monotonic: () => number;
}

/**
 * The Mutation and Action requests of one connection (convex-interface.md §5.5).
 * Mutations run one at a time in their own queue, so a slow one does not stall
 * query-set changes, each with the identity that was current when it arrived and
 * an idempotency key, and each response goes out before the Transition that
 * covers its commit (`SessionOutbox`); actions run concurrently. What a
 * connection may have queued is bounded by its quota. Runs on the sync
 * server's thread.
 */
export class SessionRequests {
  private mutations: Promise<void> = Promise.resolve();

  constructor(private readonly deps: SessionRequestDeps) {}

  /** Queues a mutation (its frame arrived at `receivedAt`); its bytes stay counted against the quota until it has run. */
  enqueueMutation(message: RequestMessage, bytes: number, receivedAt: number): void {
    const { quota, auth, outbox, timings, monotonic } = this.deps;
    quota.mutationQueued();
    // Captured now: a later Authenticate must not change who this mutation runs as.
    const { identity, admin } = auth;
    const sessionId = this.deps.sessionId();
    this.mutations = this.mutations
      .then(async () => {
        // A re-verification of this identity (the auth configuration changed) comes first.
        await auth.checked;
        if (this.deps.closed()) return;
        outbox.beginMutation(this.deps.lastCommitTs());
        const started = monotonic();
        timings.inbox.add(started - receivedAt);
        const outcome = await this.call(message, "mutation", identity, admin, sessionId);
        timings.call.add(monotonic() - started);
        if (this.deps.closed()) return;
        const response = encodeServerMessage({ type: "MutationResponse", requestId: message.requestId, outcome });
        const commitTs = outcome.status === "success" ? (outcome.ts ?? null) : null;
        if (outbox.endMutation(response, commitTs)) this.deps.wantsTransition();
      })
      .catch((e: unknown) => this.deps.fail(e))
      .finally(() => {
        quota.mutationDone();
        quota.release(bytes);
      });
  }

  /** Starts an action; it runs alongside everything else of the connection. */
  startAction(message: RequestMessage, bytes: number): void {
    const { quota, auth, outbox } = this.deps;
    quota.actionStarted();
    const { identity, admin } = auth;
    void auth.checked
      .then(() => (this.deps.closed() ? null : this.call(message, "action", identity, admin, null)))
      .then((outcome) => {
        if (outcome !== null && !this.deps.closed()) outbox.send(encodeServerMessage({ type: "ActionResponse", requestId: message.requestId, outcome }));
      })
      .catch((e: unknown) => this.deps.fail(e))
      .finally(() => {
        quota.actionDone();
        quota.release(bytes);
      });
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
}
