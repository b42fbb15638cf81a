import type { JSONValue } from "convex/values";
import { canonicalUdfPath } from "../runtime/udf-path.js";
import type { Identity } from "../runtime/services.js";
import { encodeQueryModification, encodeQueryRemoved, type StateVersion } from "./server-message.js";
import type { Subscription, SubscriptionRegistry } from "./subscription-registry.js";

/**
 * What one connection has been shown, and what it asked for since.
 *
 * Client messages only append to `pending` (with the versions they carry);
 * the update round applies the pending changes under the executor lock and
 * then builds the Transition from `sent` to the new versions. Keeping the two
 * apart is what lets a round compute every result at one snapshot while the
 * connection keeps receiving messages.
 */

/** A change the client asked for, applied at the next update round. */
export type PendingChange =
  | { kind: "add"; queryId: number; udfPath: string; args: JSONValue; journal: string | null }
  | { kind: "remove"; queryId: number }
  | { kind: "identity"; identity: Identity | null; admin: boolean };

/** One of the connection's live queries. */
export interface ConnectionQuery {
  readonly view: ConnectionView;
  readonly queryId: number;
  readonly udfPath: string;
  readonly args: JSONValue;
  sub: Subscription<ConnectionQuery>;
  /** The result text last sent for this id; null before the first. */
  sentBody: string | null;
}

/** The transition-side state of one connection. */
export class ConnectionView {
  /** The version of the last Transition produced for this connection. */
  sent: StateVersion = { querySet: 0, identity: 0, ts: 0n };
  readonly queries = new Map<number, ConnectionQuery>();
  /** Changes received but not yet applied, with the versions reached after them. */
  private pending: PendingChange[] = [];
  private pendingVersions = { querySet: 0, identity: 0 };
  private applied = { querySet: 0, identity: 0 };
  private removed: number[] = [];
  private identity: Identity | null = null;
  private identityKey = "null";
  private admin = false;

  /** Queues changes the client made; `versions` are the received versions after them. */
  enqueue(changes: PendingChange[], versions: { querySet: number; identity: number }): void {
    this.pending.push(...changes);
    this.pendingVersions = versions;
  }

  /** Applies the queued changes: attaches and detaches subscriptions. */
  applyPending(registry: SubscriptionRegistry<ConnectionQuery>): void {
    const changes = this.pending;
    this.pending = [];
    for (const change of changes) {
      switch (change.kind) {
        case "add": {
          const existing = this.queries.get(change.queryId);
          if (existing !== undefined) registry.release(existing.sub, existing);
          const query: ConnectionQuery = {
            view: this,
            queryId: change.queryId,
            udfPath: canonicalUdfPath(change.udfPath),
            args: change.args,
            sub: undefined as unknown as Subscription<ConnectionQuery>,
            sentBody: null,
          };
          query.sub = registry.acquire(this.spec(query, change.journal), query);
          this.queries.set(change.queryId, query);
          this.removed = this.removed.filter((id) => id !== change.queryId);
          break;
        }
        case "remove": {
          const query = this.queries.get(change.queryId);
          if (query === undefined) break;
          registry.release(query.sub, query);
          this.queries.delete(change.queryId);
          this.removed.push(change.queryId);
          break;
        }
        case "identity": {
          this.identity = change.identity;
          this.identityKey = stableJson(change.identity);
          this.admin = change.admin;
          // Attach before detaching, so a token refresh for the same user keeps its subscriptions warm:
          // then `acquire` hands back the subscription the query already holds, which stays attached.
          for (const query of this.queries.values()) {
            const previous = query.sub;
            query.sub = registry.acquire(this.spec(query, previous.journal), query);
            if (query.sub !== previous) registry.release(previous, query);
          }
          break;
        }
        default:
          assertNever(change);
      }
    }
    this.applied = { ...this.pendingVersions };
  }

  /** Detaches every query (the connection closed). */
  detachAll(registry: SubscriptionRegistry<ConnectionQuery>): void {
    for (const query of this.queries.values()) registry.release(query.sub, query);
    this.queries.clear();
    this.pending = [];
  }

  /**
   * The Transition to `ts`, or null when the client would learn nothing from
   * it (`force` sends one anyway: a mutation is waiting for a Transition).
   * Every attached subscription must hold a result valid at `ts`.
   */
  buildTransition(ts: bigint, force: boolean): { start: StateVersion; end: StateVersion; modifications: string[] } | null {
    const modifications = this.removed.map(encodeQueryRemoved);
    for (const query of this.queries.values()) {
      const result = query.sub.result;
      if (result !== null && result.body !== query.sentBody) modifications.push(encodeQueryModification(query.queryId, result));
    }
    const end: StateVersion = { querySet: this.applied.querySet, identity: this.applied.identity, ts };
    const versionsMoved = end.querySet !== this.sent.querySet || end.identity !== this.sent.identity;
    if (modifications.length === 0 && !versionsMoved && !force) return null;
    return { start: this.sent, end, modifications };
  }

  /** Records that the Transition built last was sent. */
  markSent(end: StateVersion): void {
    this.sent = end;
    this.removed = [];
    for (const query of this.queries.values()) {
      if (query.sub.result !== null) query.sentBody = query.sub.result.body;
    }
  }

  private spec(query: ConnectionQuery, journal: string | null) {
    return { udfPath: query.udfPath, args: query.args, identity: this.identity, identityKey: this.identityKey, admin: this.admin, journal };
  }
}

/** JSON with object keys sorted, so equal identities give equal text. */
function stableJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
}

function assertNever(x: never): never {
  throw new Error(`unexpected change ${JSON.stringify(x)}`);
}
