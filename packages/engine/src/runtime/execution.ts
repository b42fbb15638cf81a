import type { JSONValue } from "convex/values";
import { EngineError } from "../errors.js";
import type { LogLevel } from "./log-capture.js";
import type { RuntimeDatabase, DocumentStream } from "./runtime-database.js";
import type { Identity } from "./services.js";
import type { SyscallTarget } from "./syscall-router.js";
import { ASYNC_OPS, JS_OPS, SYNC_OPS } from "./syscalls/op-table.js";
import { unknownOperation } from "./syscalls/unsupported-ops.js";
import { asSyscallRejection, replyText, replyValue, type OpReply } from "./syscalls/op-types.js";
import type { ExecutionContext, ExecutionHost, FrameKind, TransactionState } from "./execution-context.js";

export type { ExecutionContext, ExecutionHost, FrameKind, FunctionAddress, TransactionState } from "./execution-context.js";

/**
 * One running function: answers the syscalls its user code makes. Nested
 * `runQuery`/`runMutation` get their own Execution sharing the transaction
 * and the log lines of the top-level call. `component` is the component the
 * function belongs to (`""` for the app): its database view, its scheduler and
 * how it names other functions follow from it.
 */
export class Execution implements SyscallTarget, ExecutionContext {
  readonly streams = new Map<number, DocumentStream>();
  /** The database in this execution's component's terms. */
  readonly db: RuntimeDatabase;
  nextStreamId = 0;
  paginated = false;
  finished = false;
  /** Set when the caller's token failed verification: `getUserIdentity()` throws it (HTTP actions). */
  identityError: Error | null = null;

  constructor(
    readonly host: ExecutionHost,
    readonly kind: FrameKind,
    readonly path: string,
    readonly identity: Identity | null,
    readonly requestId: string,
    readonly logLines: string[],
    readonly tx: TransactionState | null,
    /** Set for a scheduled function's own execution (request metadata). */
    readonly scheduledJobId: string | null = null,
    /** The component the function belongs to; `""` is the app. */
    readonly component: string = "",
  ) {
    this.db = host.databaseFor(component);
  }

  readonly log = (level: LogLevel, line: string): void => {
    this.logLines.push(`[${level}] ${line}`);
    this.host.onLog(this, level, line);
  };

  syscall(op: string, argsJson: string): string {
    return replyText(this.syncReply(op, JSON.parse(argsJson)));
  }

  asyncSyscall(op: string, argsJson: string): Promise<string> {
    try {
      const reply = this.asyncReply(op, JSON.parse(argsJson));
      // Most handlers answer at once; only the others need a promise chain of their own.
      if (!(reply instanceof Promise)) return Promise.resolve(replyText(reply));
      // Rejections keep `data` (Convex JSON) so a nested ConvexError surfaces as one (§2.3).
      return reply.then(replyText, (e: unknown) => Promise.reject(asSyscallRejection(e)));
    } catch (e) {
      return Promise.reject(asSyscallRejection(e));
    }
  }

  /** `syscall` with JSON values instead of text (the substituted `syscall.js`, `convex-shim/`). */
  syscallValue(op: string, args: JSONValue): JSONValue {
    return replyValue(this.syncReply(op, args));
  }

  /**
   * `asyncSyscall` with JSON values instead of text. `rejected` makes what a failure
   * rejects with from the syscall's rejection (`asSyscallRejection`'s): a query worker
   * makes the error user code sees right here (`worker-syscall-global.ts`).
   */
  asyncSyscallValue(op: string, args: JSONValue, rejected: (rejection: unknown) => unknown = identity): Promise<JSONValue> {
    try {
      const reply = this.asyncReply(op, args);
      if (!(reply instanceof Promise)) return Promise.resolve(replyValue(reply));
      return reply.then(replyValue, (e: unknown) => Promise.reject(rejected(asSyscallRejection(e))));
    } catch (e) {
      return Promise.reject(rejected(asSyscallRejection(e)));
    }
  }

  private syncReply(op: string, args: JSONValue): OpReply {
    this.assertLive(op);
    const handler = SYNC_OPS[op];
    if (handler === undefined) throw unknownOperation(op);
    return handler(this, args) as OpReply;
  }

  private asyncReply(op: string, args: JSONValue): OpReply | Promise<OpReply> {
    this.assertLive(op);
    const handler = ASYNC_OPS[op];
    if (handler === undefined) throw unknownOperation(op);
    return handler(this, args);
  }

  jsSyscall(op: string, args: unknown): unknown {
    this.assertLive(op);
    const handler = JS_OPS[op];
    if (handler === undefined) throw unknownOperation(op);
    return handler(this, args as Record<string, unknown>);
  }

  /** The transaction, or an error naming the operation when there is none (actions). */
  requireTx(op: string): TransactionState {
    if (this.tx === null) {
      throw new EngineError("NotInTransaction", `${op} can only be used in a query or mutation.`);
    }
    return this.tx;
  }

  /** The transaction of a mutation, or an error for queries and actions. */
  requireWritable(op: string): TransactionState {
    const tx = this.requireTx(op);
    if (!tx.writable) {
      throw new EngineError("ReadOnly", `${op} can only be used in a mutation, not in a query.`);
    }
    return tx;
  }

  /** Ends the execution: later syscalls from stray promises fail instead of touching a finished transaction. */
  finish(): void {
    this.finished = true;
    for (const stream of this.streams.values()) stream.close();
    this.streams.clear();
  }

  /** Throws when the execution has finished (a stray promise's syscall after the function returned). */
  assertLive(op: string): void {
    if (this.finished) {
      throw new EngineError(
        "ExecutionFinished",
        `${op} was called after the function ${this.path} had returned; await every promise before returning.`,
      );
    }
  }
}

const identity = <T>(value: T): T => value;
