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
 *   whole query set in one message, so the burst covers the largest one).
 *   Out of units, the socket stops being read until they refill: TCP pushes
 *   back on the client, and no message is refused.
 * - Bytes: frames received and not yet finished (queued messages, mutation
 *   arguments waiting their turn) are capped at `maxQueuedBytes`; past it the
 *   socket stops being read until half of them are done.
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
  maxPendingMutations: number;
  maxInflightActions: number;
}

/** Defaults: 1,000 units/s with a burst of 5,000; 64 MiB queued; Convex's 1,000 mutations and actions. */
export const DEFAULT_CLIENT_QUOTA: ClientQuotaLimits = {
  unitsPerSecond: 1_000,
  burstUnits: 5_000,
  maxQueuedBytes: 64 << 20,
  maxPendingMutations: 1_000,
  maxInflightActions: 1_000,
};

/** The reading side of a socket the quota can hold back. */
export interface ReadControl {
  pauseReading(): void;
  resumeReading(): void;
}

/** The error that closes a connection over its request quota (close 1013 with `code` as the reason). */
export function quotaExceeded(code: string, message: string): EngineError {
  return new EngineError(code, message, "transient");
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

  constructor(
    private readonly limits: ClientQuotaLimits,
    private readonly reader: ReadControl,
    private readonly now: () => number,
  ) {
    this.units = limits.burstUnits;
    this.refilledAt = now();
  }

  /** A frame of `bytes` arrived, costing `units`; its bytes count until `release(bytes)`. */
  received(bytes: number, units: number): void {
    this.queuedBytes += bytes;
    this.spend(units);
  }

  /** Extra work a message turned out to carry (query-set changes). */
  spend(units: number): void {
    this.refill();
    this.units -= units;
    this.update();
  }

  /** The bytes of a finished message. */
  release(bytes: number): void {
    this.queuedBytes -= bytes;
    this.update();
  }

  /** A mutation was queued; throws past the limit. */
  mutationQueued(): void {
    if (this.pendingMutations >= this.limits.maxPendingMutations) {
      throw quotaExceeded(
        "TooManyConcurrentMutations",
        `Too many concurrent mutations. Only up to ${this.limits.maxPendingMutations} pending mutations allowed on a single websocket.`,
      );
    }
    this.pendingMutations += 1;
  }

  mutationDone(): void {
    this.pendingMutations -= 1;
  }

  /** An action started; throws past the limit. */
  actionStarted(): void {
    if (this.inflightActions >= this.limits.maxInflightActions) {
      throw quotaExceeded(
        "TooManyInflightActionsForSingleClient",
        `Inflight actions overloaded for a single client, max concurrency: ${this.limits.maxInflightActions}`,
      );
    }
    this.inflightActions += 1;
  }

  actionDone(): void {
    this.inflightActions -= 1;
  }

  /** Stops the timers (the connection closed). */
  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private refill(): void {
    const now = this.now();
    this.units = Math.min(this.limits.burstUnits, this.units + ((now - this.refilledAt) / 1000) * this.limits.unitsPerSecond);
    this.refilledAt = now;
  }

  /** Pauses or resumes reading; while out of units, checks again when enough have refilled. */
  private update(): void {
    const overBytes = this.paused ? this.queuedBytes > this.limits.maxQueuedBytes / 2 : this.queuedBytes > this.limits.maxQueuedBytes;
    const outOfUnits = this.units < 1;
    const pause = overBytes || outOfUnits;
    if (pause !== this.paused) {
      this.paused = pause;
      if (pause) this.reader.pauseReading();
      else this.reader.resumeReading();
    }
    if (outOfUnits && this.timer === null) {
      const waitMs = Math.ceil(((1 - this.units) / this.limits.unitsPerSecond) * 1000);
      this.timer = setTimeout(() => {
        this.timer = null;
        this.refill();
        this.update();
      }, waitMs);
      this.timer.unref();
    }
  }
}
