import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { EngineError } from "../../errors.js";
import type { ExecutionContext as Execution, FunctionAddress, TransactionState } from "../execution-context.js";
import { resolveAddress } from "../function-address.js";
import { displayFunctionName } from "../../components/function-references.js";
import { backendUdfPath } from "../udf-path.js";
import type { OpHandler } from "./op-types.js";
import { measureValue } from "../../values/value-limits.js";
import { budgetOf, type TransactionBudget } from "../transaction-budget.js";

type ScheduleArgs = FunctionAddress & { ts: number; args?: JSONValue };

/** The system table holding scheduled jobs (§4.8). */
export const SCHEDULED_FUNCTIONS_TABLE = "_scheduled_functions";

/** `ctx.scheduler` (§3.5): jobs are `_scheduled_functions` rows written in the caller's transaction. */
export const SCHEDULE_ASYNC_OPS: Record<string, OpHandler> = {
  "1.0/schedule": (exec, args: ScheduleArgs) => {
    const tx = exec.requireWritable("scheduler.runAfter/runAt");
    // Counted for mutations only: an action's jobs each get a transaction of their own, as on Convex.
    return insertJob(exec, tx, args, budgetOf(tx));
  },
  "1.0/cancel_job": (exec, args: { id: string }) => {
    const tx = exec.requireWritable("scheduler.cancel");
    cancelJob(exec, tx, args.id);
    return null;
  },
  "1.0/actions/schedule": async (exec, args: ScheduleArgs) => {
    const id = await exec.host.transact((tx) => insertJob(exec, tx, args));
    return id;
  },
  "1.0/actions/cancel_job": async (exec, args: { id: string }) => {
    await exec.host.transact((tx) => cancelJob(exec, tx, args.id));
    return null;
  },
};

/**
 * Inserts the job into the `_scheduled_functions` of the scheduling
 * component. A job that runs a function of another component (a handle or a
 * child's export) records that component in a `component` field, as Convex
 * keeps it beside the job; the function path stays relative to it.
 */
function insertJob(exec: Execution, tx: TransactionState, args: ScheduleArgs, budget?: TransactionBudget): string {
  const target = resolveAddress(args, exec.component);
  const path = displayFunctionName(target.component, target.path);
  const kind = exec.host.findFunction(target)?.kind ?? null;
  if (kind === null) {
    throw new EngineError("FunctionNotFound", `Cannot schedule ${path}: no such function.`);
  }
  if (kind === "query") {
    throw new EngineError("InvalidScheduledFunction", `Cannot schedule ${path}: only mutations and actions can be scheduled.`);
  }
  if (typeof args.ts !== "number" || !Number.isFinite(args.ts)) {
    throw new EngineError("InvalidScheduledTime", "The scheduled time must be a finite number.");
  }
  const jobArgs = args.args ?? {};
  // Convex measures the arguments array `[args]`: nesting and arrays here, the mutation's total below.
  const { size } = measureValue([jobArgs]);
  budget?.functionScheduled(size);
  if (JSON.stringify(jobArgs).includes('"$commitTs"')) {
    throw new EngineError("InvalidScheduledArgs", "Scheduled function arguments cannot contain db.vars.commitTs.");
  }
  const id = exec.db.insert(SCHEDULED_FUNCTIONS_TABLE, {
    name: backendUdfPath(target.path),
    args: [jsonToConvex(jobArgs) as Value],
    scheduledTime: args.ts * 1000,
    state: { kind: "pending" },
    ...(target.component === exec.component ? {} : { component: target.component }),
  });
  tx.touchedScheduler = true;
  return id;
}

function cancelJob(exec: Execution, tx: TransactionState, id: string): void {
  cancelScheduledJob(exec.db, () => exec.host.now(), tx, id, exec.scheduledJobId);
}

/**
 * Cancels a pending or running job in the open transaction `tx` (a finished
 * one is left as it is); answers the job's state afterwards. `db` names
 * tables as the caller sees them: an execution's own component, or the
 * store's names for the dashboard (a component's jobs live in
 * `<component>/_scheduled_functions`). `selfId` is the job the caller runs
 * as, which may not cancel itself. Shared by `ctx.scheduler.cancel` and the
 * dashboard.
 */
export function cancelScheduledJob(
  db: Pick<Execution["db"], "tableOfId" | "getValue" | "replace">,
  now: () => number,
  tx: TransactionState,
  id: string,
  selfId: string | null,
): string {
  const table = db.tableOfId(id);
  if (typeof table !== "string" || (table !== SCHEDULED_FUNCTIONS_TABLE && !table.endsWith(`/${SCHEDULED_FUNCTIONS_TABLE}`))) {
    throw new EngineError("InvalidId", `"${id}" is not the id of a scheduled function.`);
  }
  const job = db.getValue(id, tx.reads);
  if (job === null) throw new EngineError("ScheduledFunctionNotFound", `Scheduled function ${id} not found.`);
  if (id === selfId) {
    throw new EngineError("InvalidCancel", "A scheduled function cannot cancel itself.");
  }
  const state = job.state as { kind: string };
  if (state.kind !== "pending" && state.kind !== "inProgress") return state.kind;
  const { _id, _creationTime, ...fields } = job;
  db.replace(id, { ...fields, state: { kind: "canceled" }, completedTime: now() });
  tx.touchedScheduler = true;
  return "canceled";
}
