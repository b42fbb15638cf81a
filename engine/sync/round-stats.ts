/** Counters for tests and benchmarks. */
export interface RoundStats {
  rounds: number;
  /** Subscription executions, total and per canonical function path. */
  queryRuns: number;
  queryRunsByPath: Map<string, number>;
  /** Where the last round's time went (ms), for benchmarks. */
  lastRound: RoundTiming | null;
}

/** Time spent in one update round, by phase. */
export interface RoundTiming {
  /** Waiting for the executor lock: before the first slice, and between slices while mutations ran. */
  lockWaitMs: number;
  /** Executing subscriptions (the function, its reads, result encoding). */
  executeMs: number;
  /** Building Transitions and handing them to the sockets. */
  emitMs: number;
  /** From the round being due to its end. */
  totalMs: number;
  /** Lock acquisitions the round took. */
  slices: number;
  subscriptionsRun: number;
  transitionsSent: number;
}

/** A round's timing before it starts. */
export function emptyTiming(): RoundTiming {
  return { lockWaitMs: 0, executeMs: 0, emitMs: 0, totalMs: 0, slices: 0, subscriptionsRun: 0, transitionsSent: 0 };
}
