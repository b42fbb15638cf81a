import type { JSONValue } from "convex/values";
import { EngineError } from "../../errors.js";
import type { FunctionAddress } from "../execution-context.js";
import { functionHandle } from "../../components/function-references.js";
import { resolveAddress } from "../function-address.js";
import { JsonText, type OpHandler } from "./op-types.js";

type CallArgs = FunctionAddress & { args?: JSONValue; udfType?: string };

/** Calling other functions (§3.6). */
export const CALL_ASYNC_OPS: Record<string, OpHandler> = {
  "1.0/runUdf": (exec, args: CallArgs) => {
    if (exec.tx === null) {
      throw new EngineError("NotInTransaction", "runUdf is only available in queries and mutations.");
    }
    return exec.host.runNested(exec, args.udfType ?? "query", args, args.args ?? {}).then(asText);
  },
  "1.0/actions/query": (exec, args: CallArgs) => fromAction(exec.kind, "runQuery") ?? exec.host.runFromAction(exec, "query", args, args.args ?? {}).then(asText),
  "1.0/actions/mutation": (exec, args: CallArgs) =>
    fromAction(exec.kind, "runMutation") ?? exec.host.runFromAction(exec, "mutation", args, args.args ?? {}).then(asText),
  "1.0/actions/action": (exec, args: CallArgs) =>
    fromAction(exec.kind, "runAction") ?? exec.host.runFromAction(exec, "action", args, args.args ?? {}).then(asText),
  "1.0/createFunctionHandle": (exec, args: FunctionAddress) => {
    const target = resolveAddress(args, exec.component);
    const fn = exec.host.findFunction(target);
    if (fn === null) {
      throw new EngineError("FunctionNotFound", `Cannot create a handle for ${target.path}: no such function${target.component ? ` in component "${target.component}"` : ""}.`);
    }
    return functionHandle(fn.component, fn.path);
  },
};

/** A called function's result, as the text it returned. */
const asText = (text: string): JsonText => new JsonText(text);

function fromAction(kind: string, op: string): null {
  if (kind !== "action" && kind !== "httpAction") {
    throw new EngineError("NotInAction", `ctx.${op} from this context is only available in actions.`);
  }
  return null;
}
