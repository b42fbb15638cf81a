import type { JSONValue } from "convex/values";
import { addComponents } from "../../components/component-instances.js";
import type { FunctionTarget } from "../../components/function-references.js";
import { EngineError } from "../../errors.js";
import { evaluateBundle } from "../app-loader.js";
import { Execution, type ExecutionHost } from "../execution.js";
import { reportThrown } from "../function-outcome.js";
import { defineApp, type AppDefinition, type RegisteredFunction } from "../function-registry.js";
import type { LogLevel } from "../log-capture.js";
import type { AppSource, WireOutcome } from "../query-workers/worker-protocol.js";
import type { RuntimeDatabase } from "../runtime-database.js";
import type { DeploymentInfo } from "../services.js";
import { runWithSyscalls, type SyscallTarget } from "../syscall-router.js";
import { STORAGE_JS_OPS } from "../syscalls/storage-ops.js";
import { canonicalUdfPath } from "../udf-path.js";
import type { RunClock } from "../run-clock.js";
import type { ActionJob, FromActionWorker, HttpActionJob, WireOpError, WireResponseHead } from "./action-protocol.js";

/**
 * Ops an action's worker answers itself: they need only the run's own facts (identity,
 * path, request id) and the worker's copy of the app. Every other op goes to the main
 * thread, which runs it with the same handlers as for a function running there.
 */
const LOCAL_OPS = new Set(["1.0/getUserIdentity", "1.0/getFunctionMetadata", "1.0/getDeploymentMetadata", "1.0/getRequestMetadata", "1.0/createFunctionHandle"]);

/**
 * The action executor inside one worker thread (runs on that worker). It runs one action
 * or HTTP action at a time (the pool hands it the next one only after this one ended), on
 * its own copy of the app; syscalls reach it through the same AsyncLocalStorage-routed
 * `Convex` global as on the main thread (`syscall-router.ts`), so a promise the function
 * left running after it returned still reaches its own, finished, run.
 */
export class WorkerActionHost implements ExecutionHost {
  readonly db: RuntimeDatabase = NO_DATABASE;
  readonly blobs = null;
  private source: AppSource | null = null;
  private app: { version: number; definition: AppDefinition } | null = null;
  private clockOffsetMs = 0;
  private readonly runs = new Map<number, RunTarget>();

  constructor(
    readonly deployment: DeploymentInfo,
    private readonly clock: RunClock,
    private readonly post: (message: FromActionWorker, transfer?: Transferable[]) => void,
  ) {}

  /** New code or env vars: evaluated before the next run. */
  setApp(source: AppSource): void {
    this.source = source;
  }

  /** Runs an action and reports its outcome (`done`). */
  async runAction(job: ActionJob): Promise<void> {
    const target = this.begin(job.id, job.clockOffsetMs);
    let outcome: WireOutcome;
    try {
      const fn = this.resolve(job.path, job.component);
      const exec = new Execution(this, "action", fn.path, job.identity, job.requestId, [], null, job.scheduledJobId, fn.component);
      target.exec = exec;
      this.clock.start();
      const text = await runWithSyscalls(target, () => fn.invoke(job.argsJson, job.requestId));
      outcome = { status: "success", valueText: text, logLines: [] };
    } catch (e) {
      outcome = this.errorOutcome(e);
    }
    this.end(target);
    this.post({ kind: "done", runId: job.id, outcome });
  }

  /**
   * Runs an HTTP action: posts its response head with the body as a transferred stream,
   * then `responseEnd` once the main thread has read the body (or cancelled it). The run,
   * and its time limit, last until then: user code may still be producing the body.
   */
  async runHttpAction(job: HttpActionJob): Promise<void> {
    const target = this.begin(job.id, job.clockOffsetMs);
    let head: WireResponseHead;
    let ended: Promise<string | undefined>;
    try {
      const match = this.definition().httpRouter?.lookup(job.routedPath, job.method.toUpperCase()) ?? null;
      if (match === null) throw new EngineError("FunctionNotFound", `No HttpAction routed for ${job.routedPath}`);
      const [handler, , pattern] = match;
      const exec = new Execution(this, "httpAction", `${job.method.toUpperCase()} ${pattern}`, job.identity, job.requestId, [], null);
      if (job.authError !== null) exec.identityError = new EngineError(job.authError.code, job.authError.message);
      target.exec = exec;
      const init: RequestInit & { duplex?: "half" } = { method: job.method, headers: job.headers };
      if (job.body !== null) {
        init.body = job.body;
        init.duplex = "half";
      }
      const request = new Request(job.url, init);
      this.clock.start();
      const response = await runWithSyscalls(target, () => handler.invokeHttpAction(request));
      if (!(response instanceof Response)) throw new EngineError("InvalidHttpResponse", `The HTTP action for ${exec.path} did not return a Response.`);
      const body = response.body === null ? null : watchedBody(response.body, target);
      ended = body?.ended ?? Promise.resolve(undefined);
      const headers: [string, string][] = [];
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie") headers.push([name, value]);
      });
      for (const cookie of response.headers.getSetCookie()) headers.push(["set-cookie", cookie]);
      head = { status: response.status, statusText: response.statusText, headers, body: body?.stream ?? null };
    } catch (e) {
      this.end(target);
      this.post({ kind: "done", runId: job.id, outcome: this.errorOutcome(e) });
      return;
    }
    this.post({ kind: "response", runId: job.id, head }, head.body === null ? [] : [head.body as unknown as Transferable]);
    const error = await ended;
    this.end(target);
    this.post(error === undefined ? { kind: "responseEnd", runId: job.id } : { kind: "responseEnd", runId: job.id, error });
  }

  /** The main thread's answer to an op of run `runId`. */
  answer(runId: number, opId: number, value: unknown, error: WireOpError | undefined): void {
    this.runs.get(runId)?.settle(opId, value, error);
  }

  now(): number {
    return wallNow() + this.clockOffsetMs;
  }

  databaseFor(): RuntimeDatabase {
    return NO_DATABASE;
  }

  functionKind(path: string, component = ""): "query" | "mutation" | "action" | null {
    return this.app?.definition.components.get(component)?.functions.get(canonicalUdfPath(path))?.kind ?? null;
  }

  findFunction(target: FunctionTarget): RegisteredFunction | null {
    const fn = this.app?.definition.components.get(target.component)?.functions.get(canonicalUdfPath(target.path));
    return fn === undefined || (target.exportedOnly && fn.visibility === "internal") ? null : fn;
  }

  // The rest of ExecutionHost is reached only through ops, which go to the main thread.
  runNested(): Promise<string> {
    throw onMainThread();
  }

  runFromAction(): Promise<string> {
    throw onMainThread();
  }

  transact<T>(): Promise<T> {
    throw onMainThread();
  }

  readFromAction<T>(): Promise<T> {
    throw onMainThread();
  }

  onLog(): void {}

  private begin(runId: number, clockOffsetMs: number): RunTarget {
    this.clockOffsetMs = clockOffsetMs;
    // Functions read time through Date.now; once the deployment clock runs ahead of the
    // wall clock (a scheduler drain), they must see the deployment's time (function-clock.ts).
    if (clockOffsetMs > 0 && Date.now === wallNow) Date.now = () => wallNow() + this.clockOffsetMs;
    const target = new RunTarget(runId, this.post);
    this.runs.set(runId, target);
    return target;
  }

  private end(target: RunTarget): void {
    this.clock.stop();
    target.finish();
    this.runs.delete(target.runId);
  }

  private definition(): AppDefinition {
    const source = this.source;
    if (source === null) throw new EngineError("NoFunctions", "No functions are loaded yet.", "transient");
    if (this.app?.version !== source.version) {
      // Evaluated between runs only: the pool hands this worker one run at a time.
      const app = defineApp(evaluateBundle({ code: source.code }, source.appDir, source.env));
      this.app = { version: source.version, definition: addComponents(app, source.components, source.env) };
    }
    return this.app.definition;
  }

  private resolve(path: string, component: string): RegisteredFunction {
    const fn = this.definition().components.get(component)?.functions.get(path);
    if (fn === undefined || fn.kind !== "action") {
      const where = component === "" ? "" : ` in component "${component}"`;
      throw new EngineError("FunctionNotFound", `Could not find action function for '${path}'${where}.`);
    }
    return fn;
  }

  private errorOutcome(e: unknown): WireOutcome {
    const reported = reportThrown(e, (err) => this.post({ kind: "internal", text: err instanceof Error ? (err.stack ?? err.message) : String(err) }));
    const outcome: WireOutcome = { status: "error", errorMessage: reported.message, logLines: [] };
    if (reported.data !== undefined) outcome.errorData = reported.data;
    if (reported.appFrames && reported.appFrames.length > 0) outcome.appFrames = reported.appFrames;
    return outcome;
  }
}

/**
 * Answers one run's syscalls: local ops through its `Execution`, the others as messages to
 * the main thread, settled by `opResult`. Console lines go to the main thread as they come.
 */
class RunTarget implements SyscallTarget {
  exec: Execution | null = null;
  private nextOpId = 0;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(e: unknown): void }>();
  private finished = false;

  constructor(
    readonly runId: number,
    private readonly post: (message: FromActionWorker) => void,
  ) {}

  readonly log = (level: LogLevel, line: string): void => {
    if (!this.finished) this.post({ kind: "log", runId: this.runId, level, line });
  };

  syscall(op: string, argsJson: string): string {
    // Synchronous ops are the database's, which actions do not have: the execution refuses them.
    return this.execution(op).syscall(op, argsJson);
  }

  syscallValue(op: string, args: JSONValue): JSONValue {
    return this.execution(op).syscallValue(op, args);
  }

  /** The official text protocol (the app's own copy of `convex`, when it is not the substituted one). */
  asyncSyscall(op: string, argsJson: string): Promise<string> {
    try {
      return this.asyncSyscallValue(op, JSON.parse(argsJson) as JSONValue).then((value) => JSON.stringify(value));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** The substituted `syscall.js`'s protocol (`convex-shim/`): JSON values in and out. */
  asyncSyscallValue(op: string, args: JSONValue): Promise<JSONValue> {
    try {
      const exec = this.execution(op);
      if (LOCAL_OPS.has(op)) return exec.asyncSyscallValue(op, args);
      return this.forward(op, args, false) as Promise<JSONValue>;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  jsSyscall(op: string, args: unknown): unknown {
    const exec = this.execution(op);
    // Only the storage ops need the engine (and answer with a promise); the others (refused
    // features, unknown ops) are answered here, as synchronously as the package expects.
    if (!(op in STORAGE_JS_OPS)) return exec.jsSyscall(op, args);
    return this.forward(op, args, true);
  }

  settle(opId: number, value: unknown, error: WireOpError | undefined): void {
    const waiter = this.pending.get(opId);
    if (waiter === undefined) return;
    this.pending.delete(opId);
    if (error === undefined) waiter.resolve(value);
    // What the `convex` package's syscall wrapper reads of a rejection: message and data (§2.3).
    else waiter.reject(Object.assign(new Error(error.message), error.data === undefined ? {} : { data: error.data as JSONValue }));
  }

  /** The run ended: later syscalls fail as on the main thread, and answers still in flight are dropped. */
  finish(): void {
    this.finished = true;
    this.exec?.finish();
    this.pending.clear();
  }

  private execution(op: string): Execution {
    if (this.exec === null) throw new EngineError("NoFunctions", `${op} was called before the function started.`, "transient");
    if (this.finished) this.exec.assertLive(op);
    return this.exec;
  }

  private forward(op: string, args: unknown, js: boolean): Promise<unknown> {
    const opId = ++this.nextOpId;
    return new Promise((resolve, reject) => {
      this.pending.set(opId, { resolve, reject });
      try {
        this.post({ kind: "op", runId: this.runId, opId, op, args, js });
      } catch (e) {
        // Arguments that cannot cross a thread (a function, a class instance holding one).
        this.pending.delete(opId);
        reject(new EngineError("InvalidArgument", `${op}: ${e instanceof Error ? e.message : String(e)}`));
      }
    });
  }
}

/**
 * A response body as the stream that crosses to the main thread, and when it has been
 * read to its end, cancelled or failed (the error's text). Pull-based: the user's stream is
 * read only as fast as the main thread writes to the socket. Each read runs in the run's
 * syscall context, so code producing the body can still use `ctx` (its pulls are called
 * from the stream's message events, outside the handler's async context).
 */
function watchedBody(source: ReadableStream<Uint8Array>, target: RunTarget): { stream: ReadableStream<Uint8Array>; ended: Promise<string | undefined> } {
  const reader = source.getReader();
  let settle!: (error: string | undefined) => void;
  const ended = new Promise<string | undefined>((resolve) => (settle = resolve));
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await runWithSyscalls(target, () => reader.read());
        if (done) {
          controller.close();
          settle(undefined);
        } else controller.enqueue(value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBufferLike));
      } catch (e) {
        controller.error(e);
        settle(e instanceof Error ? e.message : String(e));
      }
    },
    async cancel(reason) {
      settle(undefined);
      await reader.cancel(reason).catch(() => {});
    },
  });
  return { stream, ended };
}

const wallNow: () => number = Date.now;

function onMainThread(): EngineError {
  return new EngineError("Internal", "This operation runs on the engine's main thread.", "fatal");
}

/** Actions have no database: the ops that would reach it are refused with this. */
const NO_DATABASE = new Proxy({} as RuntimeDatabase, {
  get() {
    throw new EngineError("NotInTransaction", "The database can only be used in a query or mutation; an action calls ctx.runQuery or ctx.runMutation.");
  },
});
