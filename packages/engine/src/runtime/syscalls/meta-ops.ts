import type { OpHandler } from "./op-types.js";

/** `ctx.meta` (§3.7). */
export const META_ASYNC_OPS: Record<string, OpHandler> = {
  "1.0/getFunctionMetadata": (exec) => ({ name: exec.path, componentPath: exec.component }),
  "1.0/getDeploymentMetadata": (exec) =>
    ({ name: exec.host.deployment.name, region: null, class: "s16" }),
  "1.0/getRequestMetadata": (exec) =>
    ({
      ip: null,
      userAgent: null,
      requestId: exec.requestId || null,
      scheduledFunctionId: exec.scheduledJobId,
      authToken: null,
    }),
};
