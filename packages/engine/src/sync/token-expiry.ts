/** `setTimeout` cannot wait longer than this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * One connection's token expiry: a timer armed for the current token's `exp` (re-armed
 * in steps when it is further away than a timer can wait), cleared when the token is
 * replaced or the connection closes. The timer is unref'd: it never keeps the process up.
 */
export class TokenExpiry {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    /** Wall clock, ms since the epoch (tokens' `exp` is wall time). */
    private readonly wallClock: () => number,
    /** Called once when the armed token expires. */
    private readonly onExpired: () => void,
  ) {}

  /** Arms the timer for a token expiring at `expiresAt` (ms), or for none (`null`). */
  arm(expiresAt: number | null): void {
    this.clear();
    if (expiresAt === null) return;
    const wait = expiresAt - this.wallClock();
    this.timer = setTimeout(() => {
      this.timer = null;
      if (wait > MAX_TIMER_MS) this.arm(expiresAt);
      else this.onExpired();
    }, Math.max(0, Math.min(wait, MAX_TIMER_MS)));
    this.timer.unref();
  }

  clear(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
