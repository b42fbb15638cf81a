import { addComponents } from "../../components/component-instances.js";
import type { FunctionTarget } from "../../components/function-references.js";
import { EngineError } from "../../errors.js";
import { evaluateBundle } from "../app-loader.js";
import { Execution, type ExecutionHost } from "../execution.js";
import { reportThrown } from "../function-outcome.js";
import { defineApp, type AppDefinition, type RegisteredFunction } from "../function-registry.js";
import type { AppSource, WireOutcome } from "../query-workers/worker-protocol.js";
import type { RuntimeDatabase } from "../runtime-database.js";
import type { DeploymentInfo } from "../services.js";
import { runWithSyscalls } from "../syscall-router.js";
import { canonicalUdfPath } from "../udf-path.js";
import type { RunClock } from "../run-clock.js";
import type { ActionJob, FromActionWorker, HttpActionJob, WireOpError, WireResponseHead } from "./action-protocol.js";
import { RunTarget } from "./action-run-target.js";
import { watchedBody } from "./response-body-streams.js";

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
