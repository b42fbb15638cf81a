import type { JSONValue } from "convex/values";
import type { FunctionTarget } from "../components/function-references.js";
import type { RegisteredFunction } from "./function-registry.js";
import type { LogLevel } from "./log-capture.js";
import type { DocumentStream, ReadRecorder, RuntimeDatabase } from "./runtime-database.js";
import type { BlobService, DeploymentInfo, Identity } from "./services.js";

// The shapes a running function shares with its syscall handlers and its host (runtime,
// query worker, action worker). No imports of the modules that use them.

/** Kinds of running functions; nested calls get their own frame. */
export type FrameKind = "query" | "mutation" | "action" | "httpAction";

/** State shared by a top-level query or mutation and the functions it calls. */
export interface TransactionState {
  writable: boolean;
  reads: ReadRecorder;
  /** Side effects that may only happen once the transaction is durable (file deletes). */
  afterCommit: (() => void)[];
  /** Set when the transaction scheduled or cancelled a job. */
  touchedScheduler: boolean;
  /** The end cursor the previous run of this subscription returned (its journal), if any. */
  journalIn: string | null;
  /** The end cursor of this run's paginated query, to keep as the subscription's journal. */
  journalOut: string | null;
}

/** An address of a function as the syscalls send it (§3.6). */
export interface FunctionAddress {
  name?: string;
  reference?: string;
  functionHandle?: string;
}

/** What syscall handlers need from the runtime that owns the execution. */
export interface ExecutionHost {
  readonly db: RuntimeDatabase;
  /** The database as the component at `component` sees it (`components/component-database.ts`). */
  databaseFor(component: string): RuntimeDatabase;
  readonly blobs: BlobService | null;
  readonly deployment: DeploymentInfo;
  now(): number;
  /** `ctx.runQuery`/`ctx.runMutation` inside a query or mutation: same transaction. */
  runNested(parent: ExecutionContext, udfType: string, address: FunctionAddress, args: JSONValue): Promise<string>;
  /** `ctx.runQuery/runMutation/runAction` from an action: a new top-level call. */
  runFromAction(parent: ExecutionContext, kind: "query" | "mutation" | "action", address: FunctionAddress, args: JSONValue): Promise<string>;
  /** Runs `fn` in a transaction of its own, for actions (scheduling, storage deletes); commits it. */
  transact<T>(fn: (tx: TransactionState) => T | Promise<T>): Promise<T>;
  /** Runs a read for an action under the lock, so it never sees another mutation's uncommitted writes. */
  readFromAction<T>(fn: (tx: TransactionState) => T): Promise<T>;
  /** The kind of the function at a canonical path (of the app, or of `component`), or null when there is none. */
  functionKind(path: string, component?: string): "query" | "mutation" | "action" | null;
  /** The function a call target names, or null when there is none (or it is internal and only exports may be reached). */
  findFunction(target: FunctionTarget): RegisteredFunction | null;
  /** Records one console line for the engine's own log (dev terminal, dashboard). */
  onLog(execution: ExecutionContext, level: LogLevel, line: string): void;
}

/**
 * One running function as syscall handlers and hosts see it (the `Execution` class in
 * `execution.ts` implements it). Handlers take this shape rather than the class, so the
 * class can dispatch to them without an import circle.
 */
export interface ExecutionContext {
  readonly host: ExecutionHost;
  readonly kind: FrameKind;
  readonly path: string;
  readonly identity: Identity | null;
  readonly requestId: string;
  readonly logLines: string[];
  readonly tx: TransactionState | null;
  /** Set for a scheduled function's own execution (request metadata). */
  readonly scheduledJobId: string | null;
  /** The component the function belongs to; `""` is the app. */
  readonly component: string;
  /** The database in this execution's component's terms. */
  readonly db: RuntimeDatabase;
  readonly streams: Map<number, DocumentStream>;
  nextStreamId: number;
  paginated: boolean;
  finished: boolean;
  /** Set when the caller's token failed verification: `getUserIdentity()` throws it (HTTP actions). */
  identityError: Error | null;
  readonly log: (level: LogLevel, line: string) => void;
  /** The transaction, or an error naming the operation when there is none (actions). */
  requireTx(op: string): TransactionState;
  /** The transaction of a mutation, or an error for queries and actions. */
  requireWritable(op: string): TransactionState;
  /** Ends the execution: later syscalls from stray promises fail. */
  finish(): void;
}
