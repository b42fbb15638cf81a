import type { ConnectionView } from "./connection-view.js";
import type { TransitionFrames } from "./transition-frames.js";

/** A connection as rounds see it. */
export interface RoundTarget {
  readonly view: ConnectionView;
  readonly closed: boolean;
  /** A successful mutation's commit ts that no Transition sent after its response covers yet. */
  readonly owedTs: bigint | null;
  /**
   * True when a Transition at `ts` may be sent now. When not (the client is
   * behind on reading, or a mutation's response must go first) the target
   * calls `touch` or `emitNow` once it may; the Transition built then covers
   * every change meanwhile.
   */
  readyFor(ts: bigint): boolean;
  /** Sends a Transition to `ts`. */
  deliverTransition(frames: TransitionFrames, ts: bigint): void;
  /** Ends the connection after an engine fault in its bookkeeping. */
  abort(e: unknown): void;
}
