/**
 * The scheduler: runs due `_scheduled_functions` jobs (convex-interface.md
 * §3.5, §4.8) and the app's `crons.ts` (§2.1, §8). Jobs are written by the
 * `1.0/schedule` syscalls in their caller's transaction (and by the cron
 * runner when a cron is due); the scheduler finds and runs them.
 */
export interface Scheduler {
  /**
   * Recovers after a stop or crash (actions left `inProgress` become
   * `failed`, never re-run), loads the pending jobs and arms the timer for
   * the first one. Call once, after the app is loaded.
   */
  start(): Promise<void>;
  /** A commit scheduled or cancelled jobs: re-read the new ones and re-arm the timer. */
  wake(): void;
  /**
   * Operator and test tool: runs jobs until none is pending, including jobs
   * due in the future, by moving the deployment clock forward to each one's
   * time (unless `advanceClock` is false, which runs only what is due now).
   * Stops after `maxJobs` runs so a job that reschedules itself forever
   * cannot hang the caller.
   */
  drain(options?: DrainOptions): Promise<DrainResult>;
  /**
   * Stops starting jobs and waits for running mutations. Running actions are
   * abandoned: their outcome is not recorded, and the next start marks them
   * failed.
   */
  stop(): Promise<void>;
}

/** Options of {@link Scheduler.drain}. */
export interface DrainOptions {
  /** Move the deployment clock forward to run future jobs (default true). */
  advanceClock?: boolean;
  /** Most jobs to run before returning (default 100,000). */
  maxJobs?: number;
}

/** What a drain did. */
export interface DrainResult {
  /** Jobs run (mutations and actions, successful or failed). */
  ran: number;
  /** Jobs still pending afterwards (0 unless stopped by `maxJobs` or `advanceClock: false`). */
  pending: number;
  /** How far the deployment clock is now ahead of the wall clock (ms). */
  clockOffsetMs: number;
}
