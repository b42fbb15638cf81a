import { randomBytes } from "node:crypto";
import { fdatasyncSync, openSync, readFileSync } from "node:fs";
import { BroadcastChannel, parentPort, workerData } from "node:worker_threads";
import { EngineError } from "../../errors.js";
import { runMutationJob } from "../../scheduler/job-runner.js";
import { createSqliteStore } from "../../store/sqlite-store.js";
import { addComponents } from "../../components/component-instances.js";
import { evaluateBundle } from "../app-loader.js";
import { createRuntimeDatabase } from "../database-adapter.js";
import type { CallOutcome } from "../function-outcome.js";
import { defineApp } from "../function-registry.js";
import type { AppSource, CommitNotice } from "../query-workers/worker-protocol.js";
import type { CommitSummary, RuntimeDatabase } from "../runtime-database.js";
import { Runtime, type CallRequest } from "../runtime.js";
import type { BlobService } from "../services.js";
import { WriterControl, type FromWriter, type ThreadTimes, type ToWriter, type WireMutationOutcome, type WriterStart } from "./writer-protocol.js";

/**
 * Entry of the writer worker thread (built to JavaScript by `worker-script.ts`): the
 * write connection mutations commit on, with its own copy of the app and a Runtime that
 * runs group-committed batches exactly as the main thread would. The main thread watches
 * the control word and terminates this thread when a mutation outruns its limit; a
 * terminated thread's connection closes, so SQLite drops its uncommitted transaction.
 */

const start = workerData as WriterStart;
const port = parentPort!;
const post = (message: FromWriter) => port.postMessage(message);
const control = new WriterControl(start.control);
// The query workers' caches hear of each commit from here, without waiting for the main thread.
const commitChannel = start.commitChannel === null ? null : new BroadcastChannel(start.commitChannel);
commitChannel?.unref();
const wallNow: () => number = Date.now;
/** The deployment clock's lead over the wall clock, as the latest job carried it. */
let clockOffsetMs = 0;
const now = () => wallNow() + clockOffsetMs;

/** Functions read time through Date.now: once the deployment clock leads, they see it (see function-clock.ts). */
function setClockOffset(offsetMs: number): void {
  clockOffsetMs = offsetMs;
  if (offsetMs > 0 && Date.now === wallNow) Date.now = now;
}

const store = createSqliteStore({
  path: start.dbPath,
  // Bumped at each COMMIT, before the commit is posted to anyone (query workers reuse snapshots by it).
  commitCounter: start.commitCounter ?? undefined,
  now,
  randomBytes: (n) => new Uint8Array(randomBytes(n)),
  synchronous: start.synchronous,
});
const storeDb = createRuntimeDatabase(store);
/** Set by a test's `failNextCommit`: the next COMMIT throws this instead of writing. */
let commitFault: string | null = null;
// COMMIT only while the main thread has not claimed a kill, and never killed mid-COMMIT.
const db: RuntimeDatabase = Object.create(storeDb, {
  commit: {
    value: () => {
      if (!control.beginCommit()) throw new EngineError("WriterStopped", "The writer is being stopped; nothing was committed.", "transient");
      if (commitFault !== null) {
        const message = commitFault;
        commitFault = null;
        control.endCommit();
        throw new Error(message);
      }
      try {
        const result = storeDb.commit();
        // Readers of the file see the commit now: the workers' caches hear of it before any sync.
        tellQueryWorkers(result);
        // Still COMMITTING: a kill now would take a durable batch for one that never ran.
        lastCommitSynced = syncInline && syncWalHere();
        return result;
      } finally {
        control.endCommit();
      }
    },
  },
}) as RuntimeDatabase;

/** Posts a commit's written ids to the query workers (a bulk write set names tables: they then drop their caches whole). */
function tellQueryWorkers(commit: CommitSummary): void {
  const chained = commit.previousTs !== undefined && !commit.writes.some((w) => w.wholeTable !== undefined);
  commitChannel?.postMessage({ kind: "commit", ts: commit.ts, previousTs: chained ? commit.previousTs! : -2n, ids: commit.writes.map((w) => w.id) } satisfies CommitNotice);
}

/** The running batch asked for its COMMIT to be synced here (see `WriterClient.runBatch`). */
let syncInline = false;
/** Whether the latest commit was synced here (else the main thread syncs it before telling anyone). */
let lastCommitSynced = false;
let walFd: number | null = null;
/** fdatasync of the WAL on this thread; false when it failed (the main thread then tries, and answers by its result). */
function syncWalHere(): boolean {
  try {
    walFd ??= openSync(`${start.dbPath}-wal`, "r");
    fdatasyncSync(walFd);
    return true;
  } catch {
    return false;
  }
}

let nextRequest = 0;
const requests = new Map<number, { resolve(value: string): void; reject(e: Error): void }>();
const askMain = (op: "issueUploadToken") =>
  new Promise<string>((resolve, reject) => {
    const id = ++nextRequest;
    requests.set(id, { resolve, reject });
    post({ kind: "request", id, op });
  });

/** File bytes live with the main thread: deletions are reported with the commit, tokens asked for. */
let deletedBlobs: string[] = [];
const blobs: BlobService = {
  issueUploadToken: () => askMain("issueUploadToken"),
  urlFor: (id) => `${start.deployment.cloudUrl}/api/storage/${id}`,
  deleteBlob: (id) => void deletedBlobs.push(id),
  storeBlob: () => Promise.reject(new EngineError("NotInAction", "storage.store is only available in actions.")),
  readBlob: () => Promise.reject(new EngineError("NotInAction", "storage.get is only available in actions.")),
};

/** The running batch's requests, to tell the control word which item runs. */
let batchIndex = new Map<CallRequest, number>();
let touchedScheduler = false;
const runtime = new Runtime({
  db,
  deployment: start.deployment,
  blobs,
  now,
  transactionTimeoutMs: start.timeoutMs,
  queryCache: false,
  keepRecentCommits: false,
  onMutationStart: (request) => control.running(batchIndex.get(request) ?? 0),
  onSchedulerChange: () => void (touchedScheduler = true),
  onCommit: (commit) => {
    // The documents' texts stay here: only the store's search indexes read them, at COMMIT,
    // on this thread; the main thread needs ids, tables and index keys (posting commits
    // took ~4% of the writer's time in a CPU profile of the durable-likes benchmark).
    const writes = commit.writes.map((w) => ({ ...w, oldText: null, newText: null }));
    post({ kind: "commit", ts: commit.ts, previousTs: commit.previousTs ?? -2n, writes, deletedBlobs, touchedScheduler, synced: lastCommitSynced });
    lastCommitSynced = false;
    deletedBlobs = [];
    touchedScheduler = false;
  },
  onLog: (path, level, line) => post({ kind: "log", path, level, line }),
  logInternal: (e) => post({ kind: "internal", text: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
});

let appVersion = -1;
function setApp(app: AppSource): void {
  if (app.version === appVersion) return;
  appVersion = app.version;
  const definition = defineApp(evaluateBundle({ code: app.code }, app.appDir, app.env));
  runtime.setApp(addComponents(definition, app.components, app.env));
}
if (start.app !== null) setApp(start.app);

port.on("message", (message: ToWriter) => {
  switch (message.kind) {
    case "app":
      setApp(message.app);
      return;
    case "batch":
      setClockOffset(message.clockOffsetMs);
      syncInline = message.syncInline;
      void runBatch(message.id, message.jobs);
      return;
    case "scheduled":
      syncInline = false;
      setClockOffset(message.clockOffsetMs);
      control.running(0);
      void runMutationJob(runtime, now, { id: message.jobId, name: message.name, component: message.component }).then(
        (result) => {
          control.idle();
          post({ kind: "scheduledDone", id: message.id, result });
        },
        (e: unknown) => {
          control.idle();
          post({ kind: "internal", text: String(e) });
          post({ kind: "scheduledDone", id: message.id, result: "skipped" });
        },
      );
      return;
    case "commit":
      store.observeCommit(message.ts, message.previousTs, message.ids);
      return;
    case "failNextCommit":
      commitFault = message.message;
      return;
    case "reply": {
      const pending = requests.get(message.id);
      requests.delete(message.id);
      if (message.error !== undefined) pending?.reject(new EngineError("UploadTokenFailed", message.error));
      else pending?.resolve(message.value!);
      return;
    }
  }
});

/** Submits every job in one turn, so the runtime's batcher runs them as one group commit. */
async function runBatch(id: number, jobs: import("./writer-protocol.js").MutationJob[]): Promise<void> {
  const requests: CallRequest[] = jobs.map((job) => ({ ...job, allowInternal: true, expectKind: "mutation" as const }));
  batchIndex = new Map(requests.map((r, i) => [r, i]));
  control.running(0);
  const outcomes = await Promise.all(requests.map((r) => runtime.call(r)));
  control.idle();
  post({ kind: "batchDone", id, outcomes: outcomes.map(toWire), thread: threadTimes() });
}

let timesReadAt = -Infinity;
let times: ThreadTimes | null = null;
/**
 * This thread's CPU time and the time it was ready to run but waited for a core (ms), from
 * `/proc/thread-self/schedstat` (Linux, nanoseconds; null elsewhere), for the benchmark's
 * counters: what is left of the writer's busy time is time it was blocked (fsync, locks).
 * Read at most every 50 ms (a read costs tens of microseconds).
 */
function threadTimes(): ThreadTimes | null {
  const now = performance.now();
  if (now - timesReadAt < 50) return times;
  timesReadAt = now;
  try {
    const [cpuNs, waitNs] = readFileSync("/proc/thread-self/schedstat", "utf8").split(" ");
    times = { cpuMs: Number(cpuNs) / 1e6, runDelayMs: Number(waitNs) / 1e6 };
  } catch {
    times = null;
  }
  return times;
}

function toWire(outcome: CallOutcome): WireMutationOutcome {
  if (outcome.status === "error") return outcome;
  return { status: "success", valueText: outcome.valueText ?? JSON.stringify(outcome.value), logLines: outcome.logLines, ts: outcome.ts };
}
