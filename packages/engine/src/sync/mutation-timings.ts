/**
 * Where a WebSocket mutation's time goes on the engine's side, by phase (the sustained
 * benchmark prints it; runs on the sync server's thread):
 *
 * - `inbox`: its frame arrived → it starts (the quota, the connection's earlier messages
 *   and mutations, an identity check before it);
 * - `call`: the runtime's call (queue for the writer, its batch, the WAL sync, the answer);
 * - `transition`: its response went out → the Transition that covers its commit went out
 *   (the client's promise settles on that one, §5.5).
 *
 * Each phase is a histogram of power-of-two-ish buckets (about 19% wide), so percentiles
 * cost no memory per mutation however long the engine runs.
 */

/** Bucket i holds durations up to `BASE_MS * GROWTH ** i`. */
const BASE_MS = 0.01;
const GROWTH = 2 ** 0.25;
const BUCKETS = 100;

/** Durations of one phase. */
export class DurationHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  totalMs = 0;
  maxMs = 0;

  add(ms: number): void {
    const bucket = ms <= BASE_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / BASE_MS) / Math.log(GROWTH)));
    this.counts[bucket]! += 1;
    this.count += 1;
    this.totalMs += ms;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** The upper edge of the bucket holding the q-quantile (ms); 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxMs, BASE_MS * GROWTH ** i);
    }
    return this.maxMs;
  }

  summary(): { count: number; meanMs: number; p50Ms: number; p99Ms: number; maxMs: number } {
    return { count: this.count, meanMs: this.count === 0 ? 0 : this.totalMs / this.count, p50Ms: this.quantile(0.5), p99Ms: this.quantile(0.99), maxMs: this.maxMs };
  }
}

/** The phases of WebSocket mutations on one sync server. */
export class MutationTimings {
  inbox = new DurationHistogram();
  call = new DurationHistogram();
  transition = new DurationHistogram();

  /** Starts counting afresh (a benchmark's next phase). */
  reset(): void {
    this.inbox = new DurationHistogram();
    this.call = new DurationHistogram();
    this.transition = new DurationHistogram();
  }

  summary() {
    return { inbox: this.inbox.summary(), call: this.call.summary(), transition: this.transition.summary() };
  }
}
