import { performance } from "node:perf_hooks";
import type { RoundTarget } from "./round-target.js";

/**
 * Connections that may have a Transition due, sent in bounded slices (runs on the sync
 * server's thread). One result of a subscription shared by thousands of connections, or a
 * round after thousands of slow clients caught up, means thousands of Transitions built
 * and written to sockets: in one stretch that is tens to hundreds of milliseconds in which
 * this thread reads no socket, so an incoming mutation, its response and every other
 * client wait behind the whole fan-out. Here each slice sends at most `SLICE_TARGETS`
 * connections' Transitions or runs `SLICE_MS`, whichever comes first; the rest continue
 * from a macrotask of their own, after the I/O that arrived meanwhile. Waiting loses
 * nothing: a connection's Transition is built when its turn comes, from the newest
 * results then, and a connection queued twice is sent once.
 */

/** Most connections served in one slice. */
export const SLICE_TARGETS = 64;
/** A slice stops taking connections once it has run this long (ms). */
const SLICE_MS = 4;

export class EmitSlices {
  /** In the order they became due (a Set keeps insertion order; each at most once). */
  private readonly due = new Set<RoundTarget>();
  private scheduled = false;

  constructor(
    /** Builds and sends one connection's Transition if it may have one now. */
    private readonly emit: (target: RoundTarget) => void,
    /**
     * After the slice that leaves nothing due (the owner drops its shared encodings then:
     * kept across the slices of one fan-out, each distinct Transition is encoded once).
     */
    private readonly allSent: () => void,
    /** Called when a later slice served the last due connection. */
    private readonly drained: () => void,
  ) {}

  /** True while connections wait for their slice. */
  get busy(): boolean {
    return this.due.size > 0 || this.scheduled;
  }

  /** The connection may have a Transition due: served in this slice or a later one. */
  add(target: RoundTarget): void {
    this.due.add(target);
  }

  /** A connection closed: nothing is due to it any more. */
  delete(target: RoundTarget): void {
    this.due.delete(target);
  }

  /** Serves one slice now; what remains continues from the next macrotask. */
  run(): void {
    if (this.due.size === 0) return;
    const started = performance.now();
    let served = 0;
    for (const target of this.due) {
      this.due.delete(target);
      this.emit(target);
      if (++served >= SLICE_TARGETS || performance.now() - started >= SLICE_MS) break;
    }
    if (this.due.size > 0) this.schedule();
    else this.allSent();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.run();
      if (!this.busy) this.drained();
    });
  }
}
