import { EngineError } from "../../errors.js";
import { JsonText, type OpHandler } from "./op-types.js";

/** `ctx.auth` (§3.3). The identity was verified before the function started. */
export const AUTH_ASYNC_OPS: Record<string, OpHandler> = {
  "1.0/getUserIdentity": (exec) => {
    if (exec.identityError !== null) throw exec.identityError;
    // A fresh object each time: the package hands it to user code as it is.
    return new JsonText(JSON.stringify(exec.identity));
  },
  "1.0/signJwt": () => {
    throw new EngineError("Unsupported", "ctx.auth signing is not supported by this engine.");
  },
};
