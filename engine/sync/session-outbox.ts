import { randomBytes } from "node:crypto";

/**
 * The outgoing side of one connection: ordering, chunking and liveness.
 *
 * Ordering rule (convex-interface.md §5.5): a mutation's promise resolves on
 * the first Transition with `ts ≥ commitTs` that arrives *after* its
 * MutationResponse. While a mutation runs, Transitions produced meanwhile may
 * already reflect its commit, so they are held and sent right after its
 * response. Holding is always safe: a Transition that arrives after the
 * response either completes the mutation or is followed by one that does.
 */

/** Transitions above this many characters travel as TransitionChunks (the backend splits above ~5 MB). */
const CHUNK_THRESHOLD = 5_000_000;
/** Characters per TransitionChunk. */
const CHUNK_SIZE = 1_000_000;

/** Where an outbox writes frames. */
export interface FrameSink {
  send(text: string): void;
}

/** Creates the outbox of one connection. */
export class SessionOutbox {
  /** Monotonic time of the last frame sent (for Pings). */
  lastSentAt: number;
  private holding = false;
  /** While holding, Transitions at or below this ts cannot contain the running mutation's commit. */
  private holdAfterTs = 0n;
  private held: { text: string; ts: bigint }[] = [];
  /** A successful mutation's commit ts still waiting for a Transition that covers it; null when none. */
  private owedTs: bigint | null = null;
  private transitionCounter = 0;

  constructor(
    private readonly sink: FrameSink,
    private readonly now: () => number,
  ) {
    this.lastSentAt = now();
  }

  /** Sends a non-Transition message now (responses, errors, pings). */
  send(text: string): void {
    this.lastSentAt = this.now();
    this.sink.send(text);
  }

  /** Sends a Transition, or holds it behind the running mutation's response. */
  sendTransition(text: string, ts: bigint): void {
    if (this.held.length > 0 || (this.holding && ts > this.holdAfterTs)) {
      this.held.push({ text, ts });
      return;
    }
    this.deliver(text, ts);
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
   * Sends the mutation's response, then what was held. Returns true when a
   * successful mutation still needs a later Transition with `ts ≥ commitTs`.
   */
  endMutation(responseText: string, commitTs: bigint | null): boolean {
    this.send(responseText);
    // Only Transitions that reach the client after the response count for it.
    if (commitTs !== null && (this.owedTs === null || this.owedTs < commitTs)) this.owedTs = commitTs;
    this.flushHeld();
    return this.owedTs !== null;
  }

  /** The commit ts a Transition is still owed for, or null. */
  get owed(): bigint | null {
    return this.owedTs;
  }

  /** Sends everything held (the connection is about to close with an error). */
  flushHeld(): void {
    this.holding = false;
    const held = this.held;
    this.held = [];
    for (const { text, ts } of held) this.deliver(text, ts);
  }

  private deliver(text: string, ts: bigint): void {
    if (this.owedTs !== null && ts >= this.owedTs) this.owedTs = null;
    if (text.length <= CHUNK_THRESHOLD) {
      this.send(text);
      return;
    }
    // The client reassembles consecutive parts; nothing else may come between them (§5.4).
    const id = `${randomBytes(6).toString("hex")}-${this.transitionCounter++}`;
    const parts = splitText(text, CHUNK_SIZE);
    parts.forEach((chunk, partNumber) => {
      this.send(JSON.stringify({ type: "TransitionChunk", chunk, partNumber, totalParts: parts.length, transitionId: id }));
    });
  }
}

/** Splits text into pieces of at most `size` characters without cutting a surrogate pair. */
function splitText(text: string, size: number): string[] {
  const parts: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(start + size, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts;
}
