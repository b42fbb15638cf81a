import { WebSocket } from "ws";

/**
 * Flow control of the sync sockets: how far behind each client is, and
 * bounds on what the engine holds for clients that stop reading.
 *
 * `ws.bufferedAmount` only counts bytes still in this process; once the
 * kernel accepted them they sit in socket buffers (megabytes per socket on
 * loopback) where no byte count can see them. So each socket counts the
 * bytes it sent and learns how many the client has read from WebSocket
 * pings: a ping carries the byte count sent before it, and the client's pong
 * comes back only once it has read everything up to the ping (every client
 * answers pings: browsers and `ws` do so by themselves). The difference,
 * *unacknowledged* bytes, is the client's whole backlog wherever it sits.
 *
 * - Above `transitionGateBytes` unacknowledged, a connection gets no new
 *   Transition; the next one, sent once it caught up, covers every change
 *   meanwhile (what Convex does with at most two Transitions in flight).
 * - Above `maxUnackedBytes` (replies to a client that sends but does not
 *   read) it is closed with 1013 "try again later" and a reason; the official
 *   client reconnects after any close (and resubscribes from scratch).
 * - Bytes buffered in this process over all sockets are capped at
 *   `maxBufferedBytes`; past it the largest backlogs are cut at once.
 * - A ping unanswered for `pongTimeoutMs` ends the connection (a client that
 *   stopped reading for good no longer holds buffers and subscriptions).
 *
 * Runs on the sync server's thread.
 */

/** Limits of the flow control; the defaults are in `DEFAULT_FLOW_LIMITS`. */
export interface FlowLimits {
  /** Unacknowledged bytes above which a connection gets no new Transition. */
  transitionGateBytes: number;
  /** Unacknowledged bytes above which a connection is closed instead of sent more. */
  maxUnackedBytes: number;
  /** Bytes buffered in this process for all sync sockets together. */
  maxBufferedBytes: number;
  /** How long a WebSocket ping may stay unanswered (ms). */
  pongTimeoutMs: number;
}

/** Defaults: 1 MiB gate, 64 MiB per client, 256 MiB in all, and Convex's 120 s client timeout. */
export const DEFAULT_FLOW_LIMITS: FlowLimits = {
  transitionGateBytes: 1 << 20,
  maxUnackedBytes: 64 << 20,
  maxBufferedBytes: 256 << 20,
  pongTimeoutMs: 120_000,
};

/** Close code for a client cut off for its backlog or over a quota ("try again later", RFC 6455; Convex's for overload and rate limits). */
export const CLOSE_TRY_AGAIN = 1013;
/** How long a closing socket may still drain its backlog before it is destroyed (ms). */
const CLOSE_GRACE_MS = 2_000;

/** Why the flow control ended a connection, for stats. */
export type FlowCut = "unacked" | "total" | "pong";

/** All sockets of one sync server: the shared byte budget. */
export class FlowBudget {
  readonly sockets = new Set<SocketFlow>();
  /** Connections ended by the flow control, by cause. */
  readonly cuts: Record<FlowCut, number> = { unacked: 0, total: 0, pong: 0 };
  /** An upper estimate of the bytes buffered in this process: recounted when it passes the limit. */
  private estimate = 0;

  constructor(
    readonly limits: FlowLimits,
    readonly now: () => number,
  ) {}

  /** Bytes currently buffered in this process for all sockets. */
  buffered(): number {
    let total = 0;
    for (const socket of this.sockets) total += socket.buffered;
    return total;
  }

  /** A socket was handed `bytes`. */
  noteSend(bytes: number): void {
    this.estimate += bytes;
    if (this.estimate > this.limits.maxBufferedBytes) this.enforce();
  }

  /** Periodic housekeeping: pong timeouts, and a fresh count of buffered bytes. */
  tick(): void {
    const now = this.now();
    for (const socket of this.sockets) socket.checkPong(now);
    this.enforce();
  }

  /** Recounts; past the limit, cuts the largest backlogs until the rest fits. */
  private enforce(): void {
    let total = this.buffered();
    if (total > this.limits.maxBufferedBytes) {
      const largest = [...this.sockets].sort((a, b) => b.buffered - a.buffered);
      for (const socket of largest) {
        if (total <= this.limits.maxBufferedBytes) break;
        total -= socket.buffered;
        socket.cut("total", "ServerBuffersFull: too many bytes are waiting for slow clients; reconnect later", true);
      }
    }
    this.estimate = total;
  }
}

/** One sync socket with flow control; what a session sends through. */
export class SocketFlow {
  private sent = 0;
  private acked = 0;
  /** The outstanding ping: when it was sent, and the byte count it carries. */
  private ping: { at: number; bytes: number } | null = null;
  private drainWaiters: (() => void)[] = [];
  private ended = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly budget: FlowBudget,
    /** Called once when the flow control ends the connection. */
    private readonly onCut: (cause: FlowCut) => void,
  ) {
    budget.sockets.add(this);
    ws.on("pong", (data) => this.pong(data));
    ws.once("close", () => this.closed());
  }

  /** Bytes sent that the client has not confirmed reading. */
  get unacked(): number {
    return this.sent - this.acked;
  }

  /** Bytes waiting in this process (not yet handed to the kernel). */
  get buffered(): number {
    return this.ended ? 0 : this.ws.bufferedAmount;
  }

  /** True while the client is too far behind for another Transition. */
  get gated(): boolean {
    return this.unacked > this.budget.limits.transitionGateBytes;
  }

  /** Sends a frame, unless the client is so far behind that it is cut off instead. */
  send(data: string | Buffer): void {
    if (this.ended || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.unacked > this.budget.limits.maxUnackedBytes) {
      this.cut("unacked", "SlowClient: the client is not reading what it is sent; reconnect", false);
      return;
    }
    const bytes = typeof data === "string" ? Buffer.byteLength(data) : data.length;
    this.ws.send(data);
    this.sent += bytes;
    this.budget.noteSend(bytes);
    this.maybePing();
  }

  /** Calls `callback` once the client caught up below the gate (or the socket ended). */
  whenDrained(callback: () => void): void {
    if (this.ended || !this.gated) {
      callback();
      return;
    }
    this.drainWaiters.push(callback);
    this.maybePing();
  }

  /** Ends the connection if its ping went unanswered too long. */
  checkPong(now: number): void {
    if (this.ping !== null && now - this.ping.at > this.budget.limits.pongTimeoutMs) {
      this.cut("pong", "ClientTimeout: no answer to a ping", true);
    }
  }

  /**
   * Ends the connection: a close frame with `reason` (the client sees it if it
   * reads on), then the socket is destroyed, at once when memory is short.
   */
  cut(cause: FlowCut, reason: string, now: boolean): void {
    if (this.ended) return;
    this.budget.cuts[cause] += 1;
    this.onCut(cause);
    this.ws.resume();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(CLOSE_TRY_AGAIN, reason.slice(0, 123));
    if (now) this.ws.terminate();
    else setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS).unref();
    this.closed();
  }

  /** Pings once a quarter of the gate is unconfirmed, so a reading client is confirmed long before it. */
  private maybePing(): void {
    if (this.ping !== null || this.ended || this.ws.readyState !== WebSocket.OPEN) return;
    if (this.unacked < this.budget.limits.transitionGateBytes / 4) return;
    this.ping = { at: this.budget.now(), bytes: this.sent };
    this.ws.ping(String(this.sent));
  }

  private pong(data: Buffer): void {
    const bytes = Number(data.toString());
    // Pongs to pings that are not ours (none are sent otherwise) carry no count.
    if (!Number.isSafeInteger(bytes) || bytes > this.sent) return;
    if (bytes > this.acked) this.acked = bytes;
    if (this.ping !== null && bytes >= this.ping.bytes) this.ping = null;
    this.maybePing();
    if (!this.gated) this.wake();
  }

  private closed(): void {
    if (this.ended) return;
    this.ended = true;
    this.budget.sockets.delete(this);
    this.wake();
  }

  private wake(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const waiter of waiters) waiter();
  }
}
