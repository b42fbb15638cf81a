import type { JSONValue } from "convex/values";
import { canonicalUdfPath } from "../runtime/udf-path.js";
import type { Identity } from "../runtime/services.js";
import { encodeQueryRemoved, encodeResult, sameEncodedResult, type EncodedResult, type StateVersion } from "./server-message.js";
import type { Subscription, SubscriptionRegistry } from "./subscription-registry.js";

/**
 * What one connection has been shown, and what it asked for since.
 *
 * Client messages only append to `pending` (with the versions they carry);
 * update rounds apply the pending changes and build the Transition from
 * `sent` to the new versions, at a ts where every one of the connection's
 * results is valid. Keeping the two apart is what lets a Transition show one
 * snapshot while the connection keeps receiving messages. Runs on the sync
 * server's thread.
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
  /** The result last sent for this id; null before the first. */
  sentResult: EncodedResult | null;
}

/** A Transition as built for one connection: versions and the results it carries. */
export interface TransitionPlan {
  start: StateVersion;
  end: StateVersion;
  /** `QueryRemoved` ids, then `[queryId, result]` for every changed result. */
  removed: number[];
  updated: [number, EncodedResult][];
  /**
   * True when some result in it is this connection's alone (its subscription has one
   * watcher): no other connection can be planned an equal Transition, so its encoding is
   * not kept for sharing (`TransitionEncoder.encode`). Absent: it may be shared.
   */
  alone?: boolean;
}

/**
 * Live queries a connection may hold. Convex sets no documented figure; this
 * is "a few thousand", far above what a screen subscribes to, and it bounds
 * what one connection can ask every commit to re-run.
 */
export const MAX_QUERIES_PER_CONNECTION = 4096;

/** The transition-side state of one connection. */
export class ConnectionView {
  /** The version of the last Transition produced for this connection. */
  sent: StateVersion = { querySet: 0, identity: 0, ts: 0n };
  readonly queries = new Map<number, ConnectionQuery>();
  /**
   * Subscriptions this connection waits for, in the order they went stale.
   * Update rounds take one at a time from each connection in turn; entries
   * that another connection's turn already ran are skipped then.
   */
  readonly runQueue = new Set<Subscription<ConnectionQuery>>();
  /** Changes received but not yet applied, with the versions reached after them. */
  private pending: PendingChange[] = [];
  private pendingVersions = { querySet: 0, identity: 0 };
  private applied = { querySet: 0, identity: 0 };
  private removed: number[] = [];
  private identity: Identity | null = null;
  private identityKey = "null";
  private admin = false;

  constructor(private readonly maxQueries = MAX_QUERIES_PER_CONNECTION) {}

  /** Queues changes the client made; `versions` are the received versions after them. */
  enqueue(changes: PendingChange[], versions: { querySet: number; identity: number }): void {
    this.pending.push(...changes);
    this.pendingVersions = versions;
  }

  /** True when changes wait to be applied. */
  get hasPending(): boolean {
    return this.pending.length > 0 || this.applied.querySet !== this.pendingVersions.querySet || this.applied.identity !== this.pendingVersions.identity;
  }

  /** Applies the queued changes: attaches and detaches subscriptions, and queues what must run. */
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
            sentResult: null,
          };
          const full = existing === undefined && this.queries.size >= this.maxQueries;
          query.sub = full ? registry.refused(this.spec(query, change.journal), query, tooManyQueries(this.maxQueries)) : registry.acquire(this.spec(query, change.journal), query);
          this.queries.set(change.queryId, query);
          this.removed = this.removed.filter((id) => id !== change.queryId);
          this.queueIfStale(query.sub);
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
            if (previous.key === "") continue; // a refused query stays refused
            query.sub = registry.acquire(this.spec(query, previous.journal), query);
            if (query.sub !== previous) registry.release(previous, query);
            this.queueIfStale(query.sub);
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
    this.runQueue.clear();
    this.pending = [];
  }

  /** Takes the next subscription this connection waits for that is not already running; null when none. */
  nextToRun(): Subscription<ConnectionQuery> | null {
    for (const sub of this.runQueue) {
      this.runQueue.delete(sub);
      if (sub.dirty && !sub.running && sub.live) return sub;
    }
    return null;
  }

  /**
   * The ts of the next Transition: the latest one at which every result the
   * connection holds is valid and that is not below what it was sent; null
   * while some query has no result yet or no such ts exists. With every
   * result current that is `latestTs`.
   */
  transitionTs(latestTs: bigint): bigint | null {
    let lo = this.sent.ts;
    let hi: bigint | null = null;
    for (const query of this.queries.values()) {
      const sub = query.sub;
      if (sub.result === null) return null;
      if (sub.validFrom > lo) lo = sub.validFrom;
      if (sub.validTo !== null && (hi === null || sub.validTo < hi)) hi = sub.validTo;
    }
    if (hi === null) return latestTs > lo ? latestTs : lo;
    return lo < hi ? hi - 1n : null;
  }

  /** True when the connection's results were computed at more than one snapshot. */
  mixesSnapshots(): boolean {
    let first: bigint | null = null;
    for (const query of this.queries.values()) {
      if (first === null) first = query.sub.validFrom;
      else if (query.sub.validFrom !== first) return true;
    }
    return false;
  }

  /**
   * The Transition to `ts`, or null when the client would learn nothing from
   * it (`force` plans one anyway: a mutation is waiting for a Transition).
   * Every attached subscription must hold a result valid at `ts`.
   */
  planTransition(ts: bigint, force: boolean): TransitionPlan | null {
    const updated: [number, EncodedResult][] = [];
    let alone = false;
    for (const query of this.queries.values()) {
      const result = query.sub.result;
      if (result !== null && !sameEncodedResult(result, query.sentResult)) {
        updated.push([query.queryId, result]);
        // A result object is one subscription's (`encodeResult` makes one per run).
        if (query.sub.watchers.size === 1) alone = true;
      }
    }
    const end: StateVersion = { querySet: this.applied.querySet, identity: this.applied.identity, ts };
    const versionsMoved = end.querySet !== this.sent.querySet || end.identity !== this.sent.identity;
    if (updated.length === 0 && this.removed.length === 0 && !versionsMoved && !force) return null;
    return { start: this.sent, end, removed: this.removed, updated, alone };
  }

  /** Records that a planned Transition was sent. */
  markSent(plan: TransitionPlan): void {
    this.sent = plan.end;
    this.removed = [];
    for (const [queryId, result] of plan.updated) {
      const query = this.queries.get(queryId);
      if (query !== undefined) query.sentResult = result;
    }
  }

  private queueIfStale(sub: Subscription<ConnectionQuery>): void {
    if (sub.dirty && !sub.running) this.runQueue.add(sub);
  }

  private spec(query: ConnectionQuery, journal: string | null) {
    return { udfPath: query.udfPath, args: query.args, identity: this.identity, identityKey: this.identityKey, admin: this.admin, journal };
  }
}


/** What a query past the per-connection limit reports instead of running. */
function tooManyQueries(limit: number): EncodedResult {
  return encodeResult(
    {
      status: "error",
      errorMessage: `TooManyQueries: this connection already has ${limit} live queries, the most one connection may hold. Remove some before adding more.`,
      logLines: [],
    },
    null,
  );
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
