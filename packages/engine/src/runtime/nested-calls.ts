import type { JSONValue } from "convex/values";
import { EngineError } from "../errors.js";
import { nestedRejection } from "./call-reporting.js";
import { Execution, type ExecutionHost, type FunctionAddress } from "./execution.js";
import { resolveAddress } from "./function-address.js";
import { callerIdentity, type FunctionCalls } from "./function-calls.js";
import type { CallOutcome } from "./function-outcome.js";
import type { UdfKind } from "./function-registry.js";
import type { CallRequest } from "./runtime-types.js";

/**
 * Calls a running function makes (`ctx.runQuery`, `ctx.runMutation`, `ctx.runAction`), on
 * the thread its execution belongs to: inside a query or mutation they join its transaction;
 * from an action each is a top-level call of its own.
 */
export class NestedCalls {
  constructor(
    private readonly host: ExecutionHost,
    private readonly calls: FunctionCalls,
    /** A top-level call (`Runtime.call`). */
    private readonly call: (request: CallRequest) => Promise<CallOutcome>,
    private readonly logInternal: (e: unknown) => void,
  ) {}

  /** `ctx.runQuery`/`ctx.runMutation` inside a transaction (§3.6): same transaction, savepoint for mutations. */
  async runNested(parent: Execution, udfType: string, address: FunctionAddress, rawArgs: JSONValue): Promise<string> {
    const db = this.host.db;
    const tx = parent.requireTx("runQuery/runMutation");
    const wanted: UdfKind = udfType === "mutation" ? "mutation" : "query";
    if (wanted === "mutation" && !tx.writable) {
      throw new EngineError("ReadOnly", "A query cannot call ctx.runMutation.");
    }
    const target = resolveAddress(address, parent.component);
    const fn = this.calls.resolve(target.path, !target.exportedOnly, wanted, target.component);
    const argsJson = this.calls.decodeArgs(fn, rawArgs);
    const identity = parent.component === "" ? callerIdentity(fn, parent.identity) : null;
    const exec = new Execution(this.host, fn.kind, fn.path, identity, parent.requestId, parent.logLines, tx, parent.scheduledJobId, fn.component);
    const savepoint = wanted === "mutation" ? db.savepoint() : null;
    const effectsBefore = tx.afterCommit.length;
    try {
      const { text } = await this.calls.invoke(fn, exec, argsJson);
      if (savepoint !== null) db.release(savepoint);
      return text;
    } catch (e) {
      if (savepoint !== null) {
        db.rollbackTo(savepoint);
        // Effects the failed nested mutation queued (file deletions) go with its writes.
        tx.afterCommit.length = effectsBefore;
      }
      throw nestedRejection(e, this.logInternal);
    } finally {
      exec.finish();
    }
  }

  /** `ctx.runQuery/runMutation/runAction` from an action: a separate top-level call with the caller's identity. */
  async runFromAction(parent: Execution, kind: UdfKind, address: FunctionAddress, args: JSONValue): Promise<string> {
    const target = resolveAddress(address, parent.component);
    const outcome = await this.call({
      path: target.path,
      component: target.component,
      args,
      // Auth crosses no component boundary: only the app calling itself keeps the caller's identity.
      identity: parent.component === "" ? parent.identity : null,
      allowInternal: !target.exportedOnly,
      expectKind: kind,
      origin: "action",
    });
    if (outcome.status === "success") return outcome.valueText ?? JSON.stringify(outcome.value);
    throw { message: outcome.errorMessage, data: outcome.errorData };
  }
}
