import type { JSONValue } from "convex/values";
import { EngineError } from "../../errors.js";
import type { Store } from "../../store/store.js";
import type { ValidationContext } from "../../values/validator.js";
import { evaluateBundle } from "../app-loader.js";
import { createRuntimeDatabase } from "../database-adapter.js";
import { componentDatabase } from "../../components/component-database.js";
import { addComponents } from "../../components/component-instances.js";
import type { FunctionTarget } from "../../components/function-references.js";
import type { RuntimeDatabase } from "../runtime-database.js";
import { Execution, type ExecutionHost, type FunctionAddress, type TransactionState } from "../execution.js";
import { resolveAddress } from "../function-address.js";
import { reportThrown } from "../function-outcome.js";
import { defineApp, type AppDefinition, type RegisteredFunction } from "../function-registry.js";
import type { LogLevel } from "../log-capture.js";
import type { BlobService, DeploymentInfo } from "../services.js";
import { canonicalUdfPath } from "../udf-path.js";
import { checkArgs, checkReturns } from "../validation.js";
import { checkArgsLimits, checkResultLimits } from "../../values/value-limits.js";
import { resultEncoder, type ResultChecks } from "../../values/result-encoder.js";
import { packReadSet } from "./packed-read-set.js";
import type { SnapshotCaches } from "./scan-cache.js";
import { SnapshotPins } from "./snapshot-pins.js";
import { asCurrent, asNested, checkedAsEncoded, checkResultAsEncoded, installWorkerGlobal, isRunning } from "./worker-syscall-global.js";
import { UNPINNED_TS, type AppSource, type FromWorker, type QueryJob, type WireOutcome } from "./worker-protocol.js";
import { DISCARDED_READS, createReadSetRecorder } from "../../query/read-set.js";
import { TwoGenerations } from "../two-generations.js";

/**
 * The query executor inside one worker thread (runs on that worker; reads at one WAL
 * snapshot of its own read-only connection, or at a pinned one). It runs one query at a
 * time (`worker-syscall-global.ts` routes the syscalls); its caches follow the commits it
 * hears (`SnapshotCaches`).
 */
export class WorkerQueryHost implements ExecutionHost {
  /** The database the running query reads: the main connection's, or a pinned snapshot's. */
  db: RuntimeDatabase;
  private readonly mainDb: RuntimeDatabase;
  /** Snapshots pinned for `/api/query_at_ts`. */
  private readonly pins: SnapshotPins;
  readonly blobs: BlobService;
  private app: { version: number; definition: AppDefinition } | null = null;
  private source: AppSource | null = null;
  private clockOffsetMs = 0;
  private readonly validation: ValidationContext;

  constructor(
    /** The main connection's store, with its scan cache (`scan-cache.ts`). */
    private readonly store: Store,
    private readonly caches: SnapshotCaches,
    openPinStore: () => Store,
    readonly deployment: DeploymentInfo,
    private readonly post: (message: FromWorker) => void,
  ) {
    this.mainDb = this.db = createRuntimeDatabase(store);
    this.pins = new SnapshotPins(openPinStore);
    this.validation = { tableNameOf: (n) => store.tableName(n) };
    const readOnly = (what: string) => () => {
      throw new EngineError("ReadOnly", `${what} can only be used in mutations and actions.`);
    };
    this.blobs = {
      urlFor: fileUrls(deployment.cloudUrl),
      issueUploadToken: readOnly("generateUploadUrl"),
      deleteBlob: readOnly("storage.delete"),
      storeBlob: readOnly("storage.store"),
      readBlob: readOnly("storage.get"),
    };
    installWorkerGlobal();
  }

  /** Takes new code; it is evaluated when the first query asks for its version. */
  setApp(source: AppSource): void {
    this.source = source;
  }

  /** A commit of the writer (in ts order): see `SnapshotCaches.committed`. */
  committed(ts: bigint, previousTs: bigint, ids: string[]): void {
    this.caches.committed(ts, previousTs, ids);
  }

  /** Pins the latest snapshot for `holdMs` and returns its ts (`SnapshotPins.pin`). */
  pin(holdMs: number): bigint {
    return this.pins.pin(holdMs);
  }

  /** Runs one query at a fresh snapshot (or the pinned one it names) and reports its outcome, snapshot ts and reads. */
  async run(job: QueryJob): Promise<FromWorker & { kind: "done" }> {
    if (job.atTs !== undefined) {
      const pinned = this.pins.database(job.atTs);
      if (pinned === null) return unpinned(job);
      this.db = pinned;
      try {
        return await this.runAt(job, job.atTs, false);
      } finally {
        this.db = this.mainDb;
      }
    }
    // The latest snapshot: the one the previous run paused when nobody committed since it
    // began (`Store.pauseRead`), else a new one. Every commit this worker heard of was
    // counted before anyone told of it, so it is in either; should the caches still know
    // of a newer one, a new snapshot rather than a read behind them.
    let ts = this.store.beginSnapshot();
    if (this.caches.heardAfter(ts)) {
      this.store.endRead();
      ts = this.store.beginSnapshot();
    }
    this.caches.reading(ts);
    return this.runAt(job, ts, true);
  }

  /** No job is queued: ends the paused snapshot, so WAL checkpoints can restart the log. */
  idle(): void {
    this.store.endRead();
  }

  /** Runs `job` at `ts`; `pause`: the main connection's snapshot, paused for the next run afterwards. */
  private async runAt(job: QueryJob, ts: bigint, pause: boolean): Promise<FromWorker & { kind: "done" }> {
    this.clockOffsetMs = job.clockOffsetMs;
    // Functions read time through Date.now; once the deployment clock runs ahead of the
    // wall clock (a scheduler drain), they must see the deployment's time (function-clock.ts).
    if (job.clockOffsetMs > 0 && Date.now === wallNow) Date.now = () => wallNow() + (isRunning() ? this.clockOffsetMs : 0);
    const logLines: string[] = [];
    const reads = job.tracked ? createReadSetRecorder() : DISCARDED_READS;
    const tx: TransactionState = { writable: false, reads, afterCommit: [], touchedScheduler: false, journalIn: job.journal, journalOut: null };
    let outcome: WireOutcome;
    try {
      const fn = this.resolve(job.path, job.component, job.appVersion);
      const exec = new Execution(this, "query", fn.path, job.identity, "", logLines, tx, null, fn.component);
      try {
        const text = await this.invoke(fn, exec, job.argsJson);
        outcome = { status: "success", valueText: text, logLines };
      } finally {
        exec.finish();
      }
    } catch (e) {
      outcome = this.errorOutcome(e, logLines);
    } finally {
      if (pause) this.store.pauseRead();
    }
    return { kind: "done", id: job.id, outcome, ts, journal: tx.journalOut, readSet: job.tracked ? packReadSet(reads.readSet()) : null };
  }

  now(): number {
    return wallNow() + this.clockOffsetMs;
  }

  functionKind(path: string, component = ""): "query" | "mutation" | "action" | null {
    return this.app?.definition.components.get(component)?.functions.get(canonicalUdfPath(path))?.kind ?? null;
  }

  findFunction(target: FunctionTarget): RegisteredFunction | null {
    const fn = this.app?.definition.components.get(target.component)?.functions.get(canonicalUdfPath(target.path));
    return fn === undefined || (target.exportedOnly && fn.visibility === "internal") ? null : fn;
  }

  /** Component views of the database the running query reads (per connection: main or a pin). */
  private readonly componentDbs = new WeakMap<RuntimeDatabase, Map<string, RuntimeDatabase>>();

  databaseFor(component: string): RuntimeDatabase {
    // The app's own view is scoped too: it must not reach components' tables.
    let views = this.componentDbs.get(this.db);
    if (views === undefined) this.componentDbs.set(this.db, (views = new Map()));
    let view = views.get(component);
    if (view === undefined) views.set(component, (view = componentDatabase(this.db, component)));
    return view;
  }

  async runNested(parent: Execution, udfType: string, address: FunctionAddress, rawArgs: JSONValue): Promise<string> {
    const tx = parent.requireTx("runQuery");
    if (udfType === "mutation") throw new EngineError("ReadOnly", "A query cannot call ctx.runMutation.");
    const target = resolveAddress(address, parent.component);
    const fn = this.findFunction(target);
    if (fn === null || fn.kind !== "query") {
      const where = target.component === "" ? "" : ` in component "${target.component}"`;
      throw new EngineError("FunctionNotFound", `Could not find query function for '${target.path}'${where}.`);
    }
    const args = rawArgs ?? {};
    checkArgsLimits(fn.path, args);
    checkArgs(fn, args, this.validation);
    // Auth crosses no component boundary (as on the main thread's runtime).
    const identity = parent.component === "" && fn.component === "" ? parent.identity : null;
    const exec = new Execution(this, "query", fn.path, identity, parent.requestId, parent.logLines, tx, null, fn.component);
    try {
      return await asNested(exec, () => this.invoke(fn, exec, JSON.stringify([args])));
    } catch (e) {
      const reported = reportThrown(e, (err) => this.logInternal(err));
      const message = reported.message.replace(/^Uncaught (ConvexError: )?/, "");
      throw reported.data !== undefined ? { message, data: reported.data } : { message };
    } finally {
      exec.finish();
    }
  }

  runFromAction(): Promise<string> {
    throw new EngineError("NotInAction", "ctx.runQuery/runMutation/runAction from this context is only available in actions.");
  }

  transact<T>(): Promise<T> {
    throw new EngineError("ReadOnly", "A query cannot write.");
  }

  readFromAction<T>(): Promise<T> {
    throw new EngineError("NotInAction", "This operation is only available in actions.");
  }

  onLog(execution: Execution, level: LogLevel, line: string): void {
    this.post({ kind: "log", path: execution.path, level, line });
  }

  private definition(): AppDefinition {
    if (this.app === null) throw new EngineError("NoFunctions", "No functions are loaded yet.", "transient");
    return this.app.definition;
  }

  private resolve(path: string, component: string, version: number): RegisteredFunction {
    if (this.app?.version !== version) {
      const source = this.source;
      if (source === null || source.version !== version) {
        throw new EngineError("NoFunctions", "The functions this query was resolved against are not loaded in its worker.", "transient");
      }
      const app = defineApp(evaluateBundle({ code: source.code }, source.appDir, source.env));
      this.app = { version, definition: addComponents(app, source.components, source.env) };
    }
    const fn = this.app.definition.components.get(component)?.functions.get(path);
    if (fn === undefined || fn.kind !== "query") throw new EngineError("FunctionNotFound", `Could not find query function for '${path}'.`);
    return fn;
  }

  /** Calls the wrapper with `exec` answering its syscalls; checks the return value when it has a validator. */
  private async invoke(fn: RegisteredFunction, exec: Execution, argsJson: string): Promise<string> {
    // The wrapper's result is checked as the wrapper encodes it (`Convex.encodeResult`), on
    // the value it encoded; from a wrapper that did not say, on its text parsed.
    const resultChecks = this.resultChecksOf(fn);
    checkResultAsEncoded(exec, resultChecks);
    const text = await asCurrent(exec, () => fn.invoke(argsJson, exec.requestId));
    const checked = checkedAsEncoded(exec);
    if (checked === undefined) {
      const json = JSON.parse(text) as JSONValue;
      resultChecks.limits(json);
      resultChecks.returns(json);
    } else if (checked.failure !== undefined) throw checked.failure;
    return text;
  }

  /** Each function's result checks, made once per loaded function. */
  private readonly resultChecks = new WeakMap<RegisteredFunction, ResultChecks>();

  private resultChecksOf(fn: RegisteredFunction): ResultChecks {
    let found = this.resultChecks.get(fn);
    if (found === undefined) {
      found = {
        encoder: resultEncoder(fn.returnsValidator, this.validation),
        // Convex's size and nesting limits first: they bound what the (recursive) validator walks.
        limits: (json) => checkResultLimits(fn.path, json),
        returns: (json) => checkReturns(fn, json, this.validation),
      };
      this.resultChecks.set(fn, found);
    }
    return found;
  }

  private errorOutcome(e: unknown, logLines: string[]): WireOutcome {
    const reported = reportThrown(e, (err) => this.logInternal(err));
    const outcome: WireOutcome = { status: "error", errorMessage: reported.message, logLines };
    if (reported.data !== undefined) outcome.errorData = reported.data;
    if (reported.appFrames && reported.appFrames.length > 0) outcome.appFrames = reported.appFrames;
    return outcome;
  }

  private logInternal(e: unknown): void {
    this.post({ kind: "internal", text: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
}

const wallNow: () => number = Date.now;

/** The answer to a job naming a snapshot this worker no longer holds: no outcome, so the caller falls back. */
function unpinned(job: QueryJob): FromWorker & { kind: "done" } {
  return { kind: "done", id: job.id, outcome: { status: "error", errorMessage: "snapshot not pinned", logLines: [] }, ts: UNPINNED_TS, journal: null, readSet: null };
}

/**
 * `storage.getUrl`'s answer for a file id: the same text as `${cloudUrl}/api/storage/${id}`,
 * one string per file, kept for the thread's life in two generations (`TwoGenerations`, as
 * the parsed documents are), as the worker's `urlFor`. A feed re-run asks for every post's photo, and the
 * thousand re-runs after a commit ask for the same files: a fresh concatenation each time
 * is a rope the result's `JSON.stringify` must flatten into a copy of its own (and both are
 * garbage after the run); a kept one is flat and shared. Runs on the query worker thread;
 * the deployment's URL is fixed for the worker's life (it comes with its `workerData`).
 */
function fileUrls(cloudUrl: string): (id: string) => string {
  const prefix = `${cloudUrl}/api/storage/`;
  const urls = new TwoGenerations<string, string>(FILE_URLS_PER_GENERATION);
  const make = (id: string) => flat(prefix + id);
  return (id) => urls.get(id, make);
}

/** Files whose URLs a generation of `fileUrls` holds (~100 bytes each with the id). */
const FILE_URLS_PER_GENERATION = 4_096;

/**
 * `text` flattened: V8 makes a concatenation a rope (a pair of pointers) and copies it into
 * one run of characters the first time something reads them; `charCodeAt` does that here,
 * once per kept URL, rather than every result's `JSON.stringify` doing it per run.
 */
function flat(text: string): string {
  text.charCodeAt(0);
  return text;
}
