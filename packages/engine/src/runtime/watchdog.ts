/**
 * Time limits for running queries and mutations with one timer for all of
 * them: arming and clearing a timer per call costs more than many a call
 * itself. The check runs every `tickMs`, so work is stopped between `limitMs`
 * and `limitMs + tickMs` after it started.
 */
export class Watchdog {
  private readonly running = new Set<Guarded>();
  private timer: NodeJS.Timeout | null = null;
  private readonly tickMs: number;

  constructor(
    private readonly limitMs: number,
    tickMs?: number,
  ) {
    this.tickMs = tickMs ?? Math.max(1, Math.min(1000, Math.floor(limitMs / 10)));
  }

  /**
   * Settles like `work`, unless the limit passes first: then `expire` is
   * called and the promise rejects with the error it returns.
   */
  guard<T>(work: Promise<T>, expire: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Guarded = { deadline: performance.now() + this.limitMs, expire: () => reject(expire()) };
      this.running.add(entry);
      this.arm();
      work.then(
        (value) => {
          this.running.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.running.delete(entry);
          reject(error);
        },
      );
    });
  }

  private arm(): void {
    if (this.timer !== null) return;
    this.timer = setInterval(() => this.check(), this.tickMs);
    // A guarded call never keeps the process alive by itself.
    this.timer.unref();
  }

  private check(): void {
    const now = performance.now();
    for (const entry of this.running) {
      if (entry.deadline > now) continue;
      this.running.delete(entry);
      entry.expire();
    }
    if (this.running.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

interface Guarded {
  deadline: number;
  expire(): void;
}
