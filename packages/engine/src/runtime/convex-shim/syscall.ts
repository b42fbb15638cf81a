import type { JSONValue } from "convex/values";
import { asyncSyscallError } from "./syscall-errors.js";

/**
 * Stands in for `convex/dist/esm/server/impl/syscall.js` of the official package in the
 * engine's worker threads (query workers, the writer): `worker-script.ts` bundles
 * `convex` into the workers' entries and `convex-shim-plugin.ts` resolves the package's
 * own imports of that module to this one. Same exports, same checks, same errors as
 * upstream; the difference is what crosses to the engine: the arguments object and the
 * reply as JSON values (`Convex.syscallValue`/`asyncSyscallValue`) instead of
 * `JSON.stringify`d on this side, parsed on the engine's, and the reply stringified there
 * and parsed here again. Where the engine offers no value protocol (another `Convex`
 * implementation), the official text protocol is used as upstream uses it.
 *
 * Upstream's callers convert with `convexToJson`/`jsonToConvex` around these calls, so
 * values keep Convex's JSON shape on both sides; replies are fresh objects (or ones the
 * callers copy with `jsonToConvex`), never an engine object user code could change.
 *
 * Kept in step with upstream by `test/convex-shim.test.ts`: it fails when the
 * installed package's `syscall.js` changes its exports or the `Convex.*` calls it makes,
 * or when the set of modules importing it (and what they import) changes.
 */

declare const Convex:
  | {
      syscall(op: string, argsJson: string): string;
      asyncSyscall(op: string, argsJson: string): Promise<string>;
      jsSyscall(op: string, args: unknown): unknown;
      syscallValue?(op: string, args: unknown): JSONValue;
      asyncSyscallValue?(op: string, args: unknown): Promise<JSONValue>;
      asyncSyscallSettled?(op: string, args: unknown): Promise<JSONValue>;
    }
  | undefined;

const OUTSIDE_BACKEND =
  "The Convex database and auth objects are being used outside of a Convex backend. Did you mean to use `useQuery` or `useMutation` to call a Convex function?";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function performSyscall(op: string, arg: Record<string, any>): any {
  if (typeof Convex === "undefined" || Convex.syscall === undefined) throw new Error(OUTSIDE_BACKEND);
  if (Convex.syscallValue !== undefined) return Convex.syscallValue(op, arg);
  return JSON.parse(Convex.syscall(op, JSON.stringify(arg)));
}

/**
 * Not an async function, unlike upstream's: the engine's promise with one `then` for the
 * error, or none where the engine rejects with that error itself (`asyncSyscallSettled`,
 * query workers): an async function costs a promise, its frame and an await per call,
 * and a feed run makes a few hundred. Every outcome is still a promise, never a
 * synchronous throw.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function performAsyncSyscall(op: string, arg: Record<string, any>): Promise<any> {
  if (typeof Convex === "undefined" || Convex.asyncSyscall === undefined) return Promise.reject(new Error(OUTSIDE_BACKEND));
  try {
    // A query worker's failures reject with the error already (`asyncSyscallSettled`).
    if (Convex.asyncSyscallSettled !== undefined) return Convex.asyncSyscallSettled(op, arg);
    if (Convex.asyncSyscallValue !== undefined) return Convex.asyncSyscallValue(op, arg).then(undefined, rethrownAsUpstream);
    return Convex.asyncSyscall(op, JSON.stringify(arg)).then(JSON.parse).then(undefined, rethrownAsUpstream);
  } catch (e) {
    return Promise.reject(asyncSyscallError(e));
  }
}

/** As upstream: a rejection carrying `data` is a ConvexError (its data in Convex JSON). */
function rethrownAsUpstream(e: unknown): never {
  throw asyncSyscallError(e);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function performJsSyscall(op: string, arg: Record<string, any>): any {
  if (typeof Convex === "undefined" || Convex.jsSyscall === undefined) throw new Error(OUTSIDE_BACKEND);
  return Convex.jsSyscall(op, arg);
}
