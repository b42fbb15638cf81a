import { EngineError } from "../../errors.js";
import type { JsOpHandler, OpHandler } from "./op-types.js";

/**
 * What convex@1.48.0 can ask for that this engine does not provide, refused with a message
 * that names the feature the app used (never a bare "Unknown async operation"). The audit
 * of every syscall the package can emit against the op table is in docs/architecture.md.
 */

/** The refusal of a feature, named as app code spells it. */
export function notSupported(feature: string, hint = ""): EngineError {
  return new EngineError("NotSupported", `${feature} is not supported by this engine.${hint ? ` ${hint}` : ""}`);
}

const refuse =
  (feature: string, hint?: string): OpHandler =>
  () => {
    throw notSupported(feature, hint);
  };

export const UNSUPPORTED_ASYNC_OPS: Record<string, OpHandler> = {
  // `ctx.storage.store/get` exist on a mutation's ctx at runtime; Convex's backend refuses them too.
  "1.0/storageStore": refuse("ctx.storage.store() in a mutation", "Store files from an action, or upload them through ctx.storage.generateUploadUrl()."),
  "1.0/storageGet": refuse("ctx.storage.get() in a mutation", "Read files in an action, or serve them through ctx.storage.getUrl()."),
  "1.0/auditLog": refuse("log.audit() (audit logging)"),
  "1.0/createServiceToken": refuse("getServiceToken()"),
  "1.0/getServiceUrl": refuse("getServiceUrl()"),
  // Only a query's or mutation's `ctx.meta` has it.
  "1.0/getTransactionMetrics": refuse("ctx.meta.getTransactionMetrics()"),
};

export const UNSUPPORTED_JS_OPS: Record<string, JsOpHandler> = {
  requestFromConvexJson: refuse("HttpRouter.runRequest()", "The engine routes HTTP actions itself: export the router from convex/http.ts."),
  convexJsonFromResponse: refuse("HttpRouter.runRequest()", "The engine routes HTTP actions itself: export the router from convex/http.ts."),
};

/** An op no release of the package this engine was checked against sends (a newer `convex`?). */
export function unknownOperation(op: string): EngineError {
  return notSupported(
    `The Convex operation "${op}"`,
    "It comes from a newer or different `convex` package than the 1.48.0 this engine implements.",
  );
}
