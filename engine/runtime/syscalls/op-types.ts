import type { Execution } from "../execution.js";

/** A syscall handler: decoded JSON arguments in, JSON text out. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OpHandler = (exec: Execution, args: any) => string | Promise<string>;

/** A JS syscall handler: raw JS values in and out (Blobs). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsOpHandler = (exec: Execution, args: any) => unknown;
