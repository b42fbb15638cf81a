import { convexToJson, type JSONValue, type Value } from "convex/values";
import type { TransactionState } from "../runtime/execution.js";
import type { CallOutcome } from "../runtime/function-outcome.js";
import type { Runtime } from "../runtime/runtime.js";
import type { JobEntry, JobState } from "./job-state.js";

/** What running one job needs. */
export interface JobRunnerDeps {
  runtime: () => Runtime;
  /** The deployment clock (ms), for `completedTime`. */
  now: () => number;
  /** True once the scheduler stopped: a finishing action then leaves its job for restart recovery. */
  stopped: () => boolean;
}

/** How a job attempt ended, for the scheduler's counters. */
export type JobRun = "ran" | "skipped";

export type JobDoc = Record<string, Value> & { name: string; args: Value[]; state: JobState };

/**
 * Runs one due job with Convex's guarantees (convex-interface.md §3.5):
 *
 * - a mutation runs exactly once: it executes inside the transaction that
 *   flips its job to `success`, under a savepoint, so a failing job's writes
 *   roll back while its `failed` state still commits. A job that is no longer
 *   `pending` when that transaction starts (cancelled, already run) is skipped.
 * - an action runs at most once: `inProgress` is committed before it starts,
 *   and only a job still `inProgress` is finished; restart recovery fails any
 *   action left `inProgress` instead of running it again.
 *
 * Scheduled functions run without an identity and may be internal.
 */
export async function runJob(deps: JobRunnerDeps, job: JobEntry): Promise<JobRun> {
  if (deps.runtime().functionKind(job.name, job.component) === "action") return runAction(deps, job);
  // Missing functions and queries fail inside the same transaction path (resolve refuses them).
  const runtime = deps.runtime();
  // With a writer thread the job runs there, as a named operation (user code stays off this thread).
  if (!runtime.runsMutationsOnWriter) return runMutationJob(runtime, deps.now, job);
  const result = await runtime.runScheduledMutation(job.id, job.name, job.component);
  if (typeof result !== "object") return result;
  // Stopped at its time limit: nothing of it committed; it fails (once) instead of running again.
  await runtime.transact((tx) => {
    const doc = jobInState(runtime, tx, job.id, "pending");
    if (doc !== null) finish(runtime, deps, job.id, doc, { kind: "failed", error: result.error });
  });
  return "ran";
}

/**
 * A due mutation job in one transaction with its state flip (on whichever thread owns the
 * runtime's write connection: the main thread, or the writer worker).
 */
export async function runMutationJob(runtime: Runtime, now: () => number, job: Pick<JobEntry, "id" | "name" | "component">): Promise<JobRun> {
  const deps = { now };
  return runtime.transact(async (tx) => {
    const doc = jobInState(runtime, tx, job.id, "pending");
    if (doc === null) return "skipped";
    const savepoint = runtime.db.savepoint();
    // Effects queued by the job (file deletions) must not run if its writes are rolled back.
    const effectsBefore = tx.afterCommit.length;
    let outcome: CallOutcome;
    try {
      outcome = await runtime.runMutationInOpenTransaction(callRequest(job, doc), tx, []);
    } catch (e) {
      outcome = { status: "error", errorMessage: e instanceof Error ? e.message : String(e), logLines: [] };
    }
    if (outcome.status === "success") {
      runtime.db.release(savepoint);
    } else {
      runtime.db.rollbackTo(savepoint);
      tx.afterCommit.length = effectsBefore;
    }
    finish(runtime, deps, job.id, doc, stateOf(outcome));
    return "ran";
  });
}

async function runAction(deps: JobRunnerDeps, job: JobEntry): Promise<JobRun> {
  const runtime = deps.runtime();
  const claimed = await runtime.transact((tx) => {
    const doc = jobInState(runtime, tx, job.id, "pending");
    if (doc !== null) replaceJob(runtime, job.id, doc, { state: { kind: "inProgress" } });
    return doc;
  });
  if (claimed === null) return "skipped";
  const outcome = await runtime.call({ ...callRequest(job, claimed), expectKind: "action" });
  if (deps.stopped()) return "ran";
  await runtime.transact((tx) => {
    // A job cancelled while running keeps `canceled` (Convex lets the action finish).
    const doc = jobInState(runtime, tx, job.id, "inProgress");
    if (doc !== null) finish(runtime, deps, job.id, doc, stateOf(outcome));
  });
  return "ran";
}

function callRequest(job: Pick<JobEntry, "id" | "name" | "component">, doc: JobDoc) {
  const args = (Array.isArray(doc.args) ? doc.args[0] : undefined) ?? {};
  return {
    path: job.name,
    component: job.component,
    args: convexToJson(args) as JSONValue,
    identity: null,
    allowInternal: true,
    origin: "scheduler" as const,
    scheduledJobId: job.id,
  };
}

/** The job's document if it is in state `kind`, else null. */
export function jobInState(runtime: Runtime, tx: TransactionState, id: string, kind: JobState["kind"]): JobDoc | null {
  const doc = runtime.db.getValue(id, tx.reads) as JobDoc | null;
  return doc !== null && doc.state?.kind === kind ? doc : null;
}

function finish(runtime: Runtime, deps: Pick<JobRunnerDeps, "now">, id: string, doc: JobDoc, state: JobState): void {
  replaceJob(runtime, id, doc, { state, completedTime: deps.now() });
}

/** Writes the job back with `change` applied (its system fields stay as they are). */
export function replaceJob(runtime: Runtime, id: string, doc: JobDoc, change: Record<string, Value>): void {
  const { _id, _creationTime, ...fields } = doc;
  void _id;
  void _creationTime;
  runtime.db.replace(id, { ...fields, ...change });
}

function stateOf(outcome: CallOutcome): JobState {
  return outcome.status === "success" ? { kind: "success" } : { kind: "failed", error: outcome.errorMessage };
}
