import type { TransitionFrames } from "./transition-frames.js";

/**
 * The outgoing side of one connection: ordering and liveness.
 *
 * Ordering rule (convex-interface.md §5.5): a mutation's promise resolves on
 * the first Transition with `ts ≥ commitTs` that arrives *after* its
 * MutationResponse. While a mutation runs, a Transition past the latest
 * commit at its start may already reflect its commit, so none is built for
 * the connection meanwhile (`accepts` says no); once the response is out the
 * connection asks for one at the then latest snapshot, which covers
 * everything it missed. Nothing is held in memory for it.
 */

/** Where an outbox writes frames. */
export interface FrameSink {
  send(data: string | Buffer): void;
}

/** The outbox of one connection. */
export class SessionOutbox {
  /** Monotonic time of the last frame sent (for Pings). */
  lastSentAt: number;
  private holding = false;
  /** While holding, Transitions at or below this ts cannot contain the running mutation's commit. */
  private holdAfterTs = 0n;
  /** A Transition was refused while holding: one is wanted once the response is out. */
  private deferred = false;
  /** A successful mutation's commit ts still waiting for a Transition that covers it; null when none. */
  private owedTs: bigint | null = null;
  /** When the response that made a Transition owed went out. */
  private owedSince = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly now: () => number,
    /** A Transition covering an owed commit went out, `ms` after the response that owed it. */
    private readonly owedPaid: (ms: number) => void = () => {},
  ) {
    this.lastSentAt = now();
  }

  /** Sends a non-Transition message now (responses, errors, pings). */
  send(data: string | Buffer): void {
    this.lastSentAt = this.now();
    this.sink.send(data);
  }

  /** False while a running mutation's response must come first; the refusal is remembered. */
  accepts(ts: bigint): boolean {
    if (this.holding && ts > this.holdAfterTs) {
      this.deferred = true;
      return false;
    }
    return true;
  }

  /** Sends a Transition at `ts` (the caller checked `accepts`). */
  sendTransition(frames: TransitionFrames, ts: bigint): void {
    if (this.owedTs !== null && ts >= this.owedTs) {
      this.owedTs = null;
      this.owedPaid(this.now() - this.owedSince);
    }
    // The client reassembles chunks only when nothing else comes between them (§5.4): they go out back to back.
    for (const frame of frames) this.send(frame);
  }

  /**
   * A mutation starts while the latest commit is `latestTs`: Transitions past
   * that ts may reflect it, so they wait for its response.
   */
  beginMutation(latestTs: bigint): void {
    this.holding = true;
    this.holdAfterTs = latestTs;
  }

  /**
   * Sends the mutation's response. Returns true when the connection wants a
   * Transition now: one was refused meanwhile, or a successful mutation needs
   * a later Transition with `ts ≥ commitTs`.
   */
  endMutation(responseText: string, commitTs: bigint | null): boolean {
    this.send(responseText);
    // Only Transitions that reach the client after the response count for it.
    if (commitTs !== null && (this.owedTs === null || this.owedTs < commitTs)) {
      if (this.owedTs === null) this.owedSince = this.now();
      this.owedTs = commitTs;
    }
    return this.release();
  }

  /** Stops holding (the connection is about to close, or a mutation ended); true when a Transition is wanted. */
  release(): boolean {
    this.holding = false;
    const wanted = this.deferred || this.owedTs !== null;
    this.deferred = false;
    return wanted;
  }

  /** The commit ts a Transition is still owed for, or null. */
  get owed(): bigint | null {
    return this.owedTs;
  }
}
