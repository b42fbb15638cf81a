/** Above this many unsent bytes a connection gets no new Transition until it catches up. */
const BACKLOG_LIMIT = 4 << 20;
/** How often a backlogged socket is checked. */
const DRAIN_POLL_MS = 20;

/**
 * Backpressure of one connection: a client that reads slower than its queries change
 * must not make the server buffer without bound, nor hold up other connections. The
 * update rounds skip a backlogged connection and ask to be called back once its socket
 * has written out half the limit; `ws` has no drain event, so that is polled.
 */
export class SocketBacklog {
  private waiters: (() => void)[] = [];

  constructor(
    /** Bytes handed to the socket but not yet written out. */
    private readonly bufferedAmount: () => number,
    /** A closed connection releases its waiters at once. */
    private readonly closed: () => boolean,
  ) {}

  get backlogged(): boolean {
    return this.bufferedAmount() > BACKLOG_LIMIT;
  }

  /** Calls `callback` once the socket has drained below half the limit (or closed). */
  whenDrained(callback: () => void): void {
    this.waiters.push(callback);
    if (this.waiters.length > 1) return;
    const check = () => {
      if (!this.closed() && this.bufferedAmount() > BACKLOG_LIMIT / 2) {
        setTimeout(check, DRAIN_POLL_MS).unref();
        return;
      }
      const waiters = this.waiters;
      this.waiters = [];
      for (const waiter of waiters) waiter();
    };
    setTimeout(check, DRAIN_POLL_MS).unref();
  }
}
