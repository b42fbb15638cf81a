import { AUTH_ASYNC_OPS } from "./auth-ops.js";
import { CALL_ASYNC_OPS } from "./call-ops.js";
import { DATABASE_ASYNC_OPS, DATABASE_SYNC_OPS } from "./database-ops.js";
import { META_ASYNC_OPS } from "./meta-ops.js";
import type { JsOpHandler, OpHandler } from "./op-types.js";
import { SCHEDULE_ASYNC_OPS } from "./schedule-ops.js";
import { SEARCH_ASYNC_OPS } from "./search-ops.js";
import { STORAGE_ASYNC_OPS, STORAGE_JS_OPS } from "./storage-ops.js";
import { STREAM_ASYNC_OPS, STREAM_SYNC_OPS } from "./stream-ops.js";
import { UNSUPPORTED_ASYNC_OPS, UNSUPPORTED_JS_OPS } from "./unsupported-ops.js";

/** Ops the package sends through `Convex.syscall` (answered synchronously). */
export const SYNC_OPS: Record<string, OpHandler> = { ...DATABASE_SYNC_OPS, ...STREAM_SYNC_OPS };

/** Ops sent through `Convex.asyncSyscall`, the unsupported ones refused by name. */
export const ASYNC_OPS: Record<string, OpHandler> = {
  ...DATABASE_ASYNC_OPS,
  ...STREAM_ASYNC_OPS,
  ...CALL_ASYNC_OPS,
  ...AUTH_ASYNC_OPS,
  ...STORAGE_ASYNC_OPS,
  ...SCHEDULE_ASYNC_OPS,
  ...META_ASYNC_OPS,
  ...SEARCH_ASYNC_OPS,
  ...UNSUPPORTED_ASYNC_OPS,
};

/** Ops sent through `Convex.jsSyscall` with raw JS values. */
export const JS_OPS: Record<string, JsOpHandler> = { ...STORAGE_JS_OPS, ...UNSUPPORTED_JS_OPS };
