/**
 * A FIFO async mutex. Queries and mutations run one at a time under it: with a
 * single SQLite connection that is what makes each transaction serializable
 * and keeps a mutation's uncommitted writes invisible to everyone else.
 */
export class SerialLock {
  private tail: Promise<void> = Promise.resolve();
  private held = false;
  private waiting = 0;

  /** Runs `fn` once every earlier holder has finished; releases on return or throw. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    this.waiting += 1;
    await previous;
    this.waiting -= 1;
    this.held = true;
    try {
      return await fn();
    } finally {
      this.held = false;
      release();
    }
  }

  /** True while some holder runs. */
  get isHeld(): boolean {
    return this.held;
  }

  /** Number of callers queued behind the current holder. */
  get queueLength(): number {
    return this.waiting;
  }
}
