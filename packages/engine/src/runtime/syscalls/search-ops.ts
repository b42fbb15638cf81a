import { EngineError } from "../../errors.js";
import type { OpHandler } from "./op-types.js";

/** Vector search (§3.7); text search rides on `queryStream`/`queryPage`. */
export const SEARCH_ASYNC_OPS: Record<string, OpHandler> = {
  "1.0/actions/vectorSearch": (exec, args: { query?: unknown }) => {
    if (exec.kind !== "action" && exec.kind !== "httpAction") {
      throw new EngineError("NotInAction", "ctx.vectorSearch is only available in actions.");
    }
    // A read like an action's runQuery: one consistent snapshot, never another mutation's uncommitted writes.
    return exec.host.readFromAction(() => ({ results: exec.host.db.vectorSearch(args.query) }));
  },
};
