import { EngineError } from "../errors.js";

/**
 * What one connection may ask of the engine at a time, so that a client
 * flooding its socket (mutation floods, ModifyQuerySet storms, huge frames)
 * gets backpressure or a close, never an unbounded queue or the whole
 * server's attention.
 *
 * - Work: each message costs a unit plus one per KiB (parsing big frames is
 *   what costs the serving thread), each query-set change another; units
 *   refill at `unitsPerSecond` up to `burstUnits` (a reconnect re-sends the
 *   whole query set in one message, so the burst covers the largest one). A
 *   message is handled only once its units are paid (`ready`), so a new
 *   connection cannot spend more than its burst by arriving with a big
 *   frame, and while units are short the socket is not read: TCP pushes
 *   back on the client, and no message is refused.
 * - Bytes: frames received and not yet finished (queued messages, mutation
 *   arguments waiting their turn) are capped at `maxQueuedBytes` per
 *   connection (past it the socket is not read until half are done) and at
 *   `maxTotalQueuedBytes` over all connections (past it the connection
 *   holding the most is closed with 1013 `ServerBusy`).
 * - Requests: Convex's own figure, 1,000 pending mutations and 1,000 actions
 *   in flight per WebSocket; past it the connection is closed with 1013 and
 *   Convex's reason (`TooManyConcurrentMutations`,
 *   `TooManyInflightActionsForSingleClient`); the client reconnects.
 *
 * Runs on the sync server's thread.
 */

/** Per-connection limits; the defaults are in `DEFAULT_CLIENT_QUOTA`. */
export interface ClientQuotaLimits {
  unitsPerSecond: number;
  burstUnits: number;
  maxQueuedBytes: number;
  maxTotalQueuedBytes: number;
  maxPendingMutations: number;
  maxInflightActions: number;
}

/** Defaults: 1,000 units/s, burst 5,000; 64 MiB queued per connection, 256 MiB in all; Convex's 1,000 mutations and actions. */
export const DEFAULT_CLIENT_QUOTA: ClientQuotaLimits = {
  unitsPerSecond: 1_000,
  burstUnits: 5_000,
  maxQueuedBytes: 64 << 20,
  maxTotalQueuedBytes: 256 << 20,
  maxPendingMutations: 1_000,
  maxInflightActions: 1_000,
};

/** The connection a quota belongs to, as the quota needs it. */
export interface QuotaOwner {
  pauseReading(): void;
  resumeReading(): void;
  /** Ends the connection (1013 with the error's code as the reason). */
  overQuota(e: EngineError): void;
}

/** The error that closes a connection over a quota (close 1013 with `code` as the reason). */
export function quotaExceeded(code: string, message: string): EngineError {
  return new EngineError(code, message, "transient");
}

/** The quotas of all connections of one server: the shared byte budget. */
export class QuotaPool {
  readonly quotas = new Set<ClientQuota>();
  /** Connections closed for holding the most queued bytes while the total was over its limit. */
  busyCuts = 0;
  private total = 0;

  constructor(
    readonly limits: ClientQuotaLimits,
    readonly now: () => number,
  ) {}

  /** Bytes received and not yet handled, over all connections. */
  get queuedBytes(): number {
    return this.total;
  }

  /** `delta` queued bytes changed hands; over the limit, the largest queue's connection is closed. */
  add(delta: number): void {
    this.total += delta;
    while (this.total > this.limits.maxTotalQueuedBytes) {
      let largest: ClientQuota | null = null;
      for (const quota of this.quotas) if (largest === null || quota.queued > largest.queued) largest = quota;
      if (largest === null || largest.queued === 0) return;
      this.busyCuts += 1;
      largest.cut(quotaExceeded("ServerBusy", "Too many bytes are waiting to be handled; reconnect later."));
    }
  }
}

/** One connection's quota. */
export class ClientQuota {
  private units: number;
  private refilledAt: number;
  private queuedBytes = 0;
  private pendingMutations = 0;
  private inflightActions = 0;
  private paused = false;
  private timer: NodeJS.Timeout | null = null;
  private unitWaiters: (() => void)[] = [];
  private disposed = false;

  constructor(
    private readonly pool: QuotaPool,
    private readonly owner: QuotaOwner,
  ) {
    this.units = pool.limits.burstUnits;
    this.refilledAt = pool.now();
    pool.quotas.add(this);
  }

  /** Bytes received and not yet handled. */
  get queued(): number {
    return this.queuedBytes;
  }

  /** A frame of `bytes` arrived, costing `units`; its bytes count until `release(bytes)`. */
  received(bytes: number, units: number): void {
    this.queuedBytes += bytes;
    this.spend(units);
    this.pool.add(bytes);
  }

  /** Extra work a message turned out to carry (query-set changes). */
  spend(units: number): void {
    this.refill();
    this.units -= units;
    this.update();
  }

  /** Resolves once every unit spent so far is paid (at once, unless the connection overdrew). */
  ready(): Promise<void> | undefined {
    this.refill();
    if (this.units >= 0 || this.disposed) return undefined;
    return new Promise((resolve) => this.unitWaiters.push(resolve));
  }

  /** The bytes of a finished message. */
  release(bytes: number): void {
    this.queuedBytes -= bytes;
    this.pool.add(-bytes);
    this.update();
  }

  /** A mutation was queued; throws past the limit. */
  mutationQueued(): void {
    if (this.pendingMutations >= this.pool.limits.maxPendingMutations) {
      throw quotaExceeded(
        "TooManyConcurrentMutations",
        `Too many concurrent mutations. Only up to ${this.pool.limits.maxPendingMutations} pending mutations allowed on a single websocket.`,
      );
    }
    this.pendingMutations += 1;
  }

  mutationDone(): void {
    this.pendingMutations -= 1;
  }

  /** An action started; throws past the limit. */
  actionStarted(): void {
    if (this.inflightActions >= this.pool.limits.maxInflightActions) {
      throw quotaExceeded(
        "TooManyInflightActionsForSingleClient",
        `Inflight actions overloaded for a single client, max concurrency: ${this.pool.limits.maxInflightActions}`,
      );
    }
    this.inflightActions += 1;
  }

  actionDone(): void {
    this.inflightActions -= 1;
  }

  /** Closes the connection over the shared budget; its queued bytes are dropped with it. */
  cut(e: EngineError): void {
    this.dispose();
    this.owner.overQuota(e);
  }

  /** Stops the timers and returns the queued bytes to the pool (the connection closed). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.pool.quotas.delete(this);
    this.pool.add(-this.queuedBytes);
    this.queuedBytes = 0;
    this.wakeUnitWaiters();
  }

  private refill(): void {
    const now = this.pool.now();
    this.units = Math.min(this.pool.limits.burstUnits, this.units + ((now - this.refilledAt) / 1000) * this.pool.limits.unitsPerSecond);
    this.refilledAt = now;
  }

  /** Pauses or resumes reading; while units are short, checks again when enough have refilled. */
  private update(): void {
    if (this.disposed) return;
    const { maxQueuedBytes, unitsPerSecond } = this.pool.limits;
    const overBytes = this.paused ? this.queuedBytes > maxQueuedBytes / 2 : this.queuedBytes > maxQueuedBytes;
    const short = this.units < 1;
    const pause = overBytes || short;
    if (pause !== this.paused) {
      this.paused = pause;
      if (pause) this.owner.pauseReading();
      else this.owner.resumeReading();
    }
    if (!short) this.wakeUnitWaiters();
    else if (this.timer === null) {
      const waitMs = Math.ceil(((1 - this.units) / unitsPerSecond) * 1000);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.refill();
        this.update();
      }, waitMs);
      this.timer.unref();
    }
  }

  private wakeUnitWaiters(): void {
    const waiters = this.unitWaiters;
    this.unitWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
