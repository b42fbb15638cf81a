import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import type { EngineLogger } from "../logger.js";
import type { CronJobJson } from "../runtime/function-registry.js";
import type { Runtime } from "../runtime/runtime.js";
import { SCHEDULED_FUNCTIONS_TABLE } from "../runtime/syscalls/schedule-ops.js";
import { backendUdfPath, canonicalUdfPath } from "../runtime/udf-path.js";
import type { Store } from "../store/store.js";
import { nextFireTime } from "./cron-schedule.js";
import type { DeploymentClock } from "./deployment-clock.js";

/** What the cron runner needs. */
export interface CronRunnerDeps {
  runtime: () => Runtime;
  store: Store;
  clock: DeploymentClock;
  logger: EngineLogger;
}

/** Runs the app's `crons.ts`. */
export interface CronRunner {
  /** Starts firing (call after the app is loaded and the scheduler started). */
  start(): Promise<void>;
  /** Stops firing; waits for a firing in progress. */
  stop(): Promise<void>;
}

/** Per-cron state in the store's meta map: the next fire time and the definition it was computed for. */
const META_PREFIX = "cron:";
/** Even with nothing due, the runner looks again this often (ms): new code may have changed `crons.ts`. */
const RECHECK_MS = 60_000;

type CronState = { next: number; spec: string };

/**
 * `crons.ts` on the scheduler: when a cron is due, one `_scheduled_functions`
 * job is inserted for it, in the same transaction that stores the cron's next
 * fire time, so each period yields exactly one job however often the engine
 * restarts; the job then runs like any other (no identity, exactly-once
 * mutations, at-most-once actions). Runs missed while the engine was down
 * are not made up: a late cron fires once and moves on. Unlike Convex's
 * cloud, cron runs are therefore visible in `_scheduled_functions`.
 */
export function createCronRunner(deps: CronRunnerDeps): CronRunner {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = false;
  let firing: Promise<void> = Promise.resolve();

  function arm(next: number | null): void {
    if (timer !== null) clearTimeout(timer);
    if (stopped) return;
    const delay = next === null ? RECHECK_MS : Math.min(Math.max(next - deps.clock.now(), 0), RECHECK_MS);
    timer = setTimeout(() => void fire(), delay);
    timer.unref();
  }

  function fire(): Promise<void> {
    firing = firing.then(async () => {
      if (stopped) return;
      let next: number | null = null;
      try {
        // Without crons there is nothing to store: no empty commit every minute (it would move the commit clock).
        const scopes = [...deps.runtime().definition.components.values()];
        if (scopes.every((scope) => Object.keys(scope.crons ?? {}).length === 0)) {
          arm(null);
          return;
        }
        next = await deps.runtime().transact((tx) => {
          // The app's crons and each component's: a component's jobs go to its own scheduler.
          let earliest: number | null = null;
          for (const scope of scopes) {
            const due = fireDue(deps, scope.path, scope.crons ?? {});
            if (due.inserted > 0) tx.touchedScheduler = true;
            if (due.next !== null && (earliest === null || due.next < earliest)) earliest = due.next;
          }
          return earliest;
        });
      } catch (e) {
        if (!stopped) deps.logger.error("crons: could not schedule due crons", e);
      }
      arm(next);
    });
    return firing;
  }

  // A drain that moves the clock may make crons due at once.
  deps.clock.onAdvance(() => {
    if (timer !== null) void fire();
  });

  return {
    start: () => fire(),
    async stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
      await firing;
    },
  };
}

/**
 * Inserts a job for every due cron of the component at `component` (`""`: the
 * app) and advances its state; returns the earliest next fire time.
 */
function fireDue(deps: CronRunnerDeps, component: string, crons: Record<string, CronJobJson>): { inserted: number; next: number | null } {
  const runtime = deps.runtime();
  const now = deps.clock.now();
  let inserted = 0;
  let earliest: number | null = null;
  for (const [identifier, cron] of Object.entries(crons)) {
    // The app's keys stay as they were; a component's have their own prefix and carry its path.
    const key = component === "" ? META_PREFIX + identifier : `component-${META_PREFIX}${component}:${identifier}`;
    const spec = JSON.stringify(cron);
    const saved = readState(deps.store.getMeta(key));
    let state: CronState;
    try {
      state = saved !== null && saved.spec === spec ? saved : { next: nextFireTime(cron.schedule, now), spec };
      if (state.next <= now) {
        if (insertJob(runtime, deps.logger, component, identifier, cron, state.next)) inserted += 1;
        state = { next: nextFireTime(cron.schedule, Math.max(state.next, now)), spec };
      }
    } catch (e) {
      deps.logger.error(`crons: "${identifier}" cannot be scheduled`, e);
      continue;
    }
    if (saved === null || saved.next !== state.next || saved.spec !== spec) deps.store.setMeta(key, JSON.stringify(state));
    if (earliest === null || state.next < earliest) earliest = state.next;
  }
  return { inserted, next: earliest };
}

function insertJob(runtime: Runtime, logger: EngineLogger, component: string, identifier: string, cron: CronJobJson, scheduledTime: number): boolean {
  const path = canonicalUdfPath(cron.name);
  const kind = runtime.functionKind(path, component);
  if (kind !== "mutation" && kind !== "action") {
    logger.warn(`crons: "${identifier}" names ${path}, which is not a mutation or action; skipped`);
    return false;
  }
  const args = (cron.args?.[0] ?? {}) as JSONValue;
  runtime.databaseFor(component).insert(SCHEDULED_FUNCTIONS_TABLE, {
    name: backendUdfPath(path),
    args: [jsonToConvex(args) as Value],
    scheduledTime,
    state: { kind: "pending" },
  });
  return true;
}

function readState(text: string | null): CronState | null {
  if (text === null) return null;
  try {
    const parsed = JSON.parse(text) as CronState;
    return typeof parsed.next === "number" && typeof parsed.spec === "string" ? parsed : null;
  } catch {
    return null;
  }
}
