import { BroadcastChannel, parentPort, workerData } from "node:worker_threads";
import { createSqliteStore } from "../../store/sqlite-store.js";
import { createScanCache, SnapshotCaches } from "./scan-cache.js";
import { packAnswer } from "./packed-answer.js";
import { lowerThisThreadPriority } from "./thread-priority.js";
import { WorkerQueryHost } from "./worker-query-host.js";
import type { CommitNotice, FromWorker, ToWorker, WorkerStart } from "./worker-protocol.js";

/**
 * Entry of a query worker thread (built to JavaScript by `worker-script.ts`). It owns a
 * read-only connection to the store file and its own copy of the app, and runs the
 * queries the main thread's pool hands it, one at a time, each at the latest committed
 * snapshot when it starts.
 */

const start = workerData as WorkerStart;
lowerThisThreadPriority(start.niceness);
const port = parentPort!;
const post = (message: FromWorker, transfer: ArrayBuffer[] = []) => {
  if (message.kind === "done" && message.outcome.status === "success") {
    // A success crosses as one transferred buffer (`packed-answer.ts`), not as an object graph
    // the main thread would rebuild; the UTF-8 of its value is written on this thread.
    const { id, ts, journal, readSet, cacheDrops, outcome } = message;
    const packed = packAnswer({ id, ts, journal, readSet, valueText: outcome.valueText, logLines: outcome.logLines, drops: cacheDrops ?? caches.drops });
    port.postMessage(packed, [packed]);
  } else port.postMessage(message, transfer);
};
const store = createSqliteStore({
  path: start.dbPath,
  readOnly: true,
  // Runs that follow each other with no commit between read at one snapshot (`Store.pauseRead`).
  commitCounter: start.commitCounter ?? undefined,
  // A reader never stamps anything; its clock and ids are never used.
  now: () => Date.now(),
  randomBytes: (n) => new Uint8Array(n),
});
// Queries read through the scan cache; both caches follow the commits this worker hears.
const scans = createScanCache(store);
const caches = new SnapshotCaches(store, scans);
const host = new WorkerQueryHost(
  scans.store,
  caches,
  () =>
    // A pinned snapshot has a connection of its own, held in a read transaction; no
    // document cache (the worker's cache follows its main connection's snapshots).
    createSqliteStore({ path: start.dbPath, readOnly: true, documentCacheSize: 0, now: () => Date.now(), randomBytes: (n) => new Uint8Array(n) }),
  start.deployment,
  (m) => post(m),
);
if (start.app !== null) host.setApp(start.app);
// Loading the app is not a query's time: its time limit counts from here.
post({ kind: "ready" });

// Messages are handled in order, one at a time, except commits: the pool may have posted
// the next job before a commit (it hands a worker two jobs at once), and that job would
// then start at a snapshot that includes the commit while the document cache still
// predates it (and be dropped whole). So a commit is applied as soon as its message is
// dispatched when no query is running, else right after the running one; and each job
// first lets the event loop dispatch what arrived meanwhile. Never under a query.
let running: Promise<void> = Promise.resolve();
let querying = false;
/**
 * Jobs received and not started yet. While one waits, a finished run leaves its snapshot
 * paused for the next; once none does (shortly after the last answer: the pool usually
 * posts the next job as it reads an answer), the snapshot ends, so that this connection
 * holds no read transaction while idle and WAL checkpoints can restart the log.
 */
let queuedRuns = 0;
const IDLE_AFTER_MS = 2;
const idleTimer = setTimeout(() => {
  if (queuedRuns === 0 && !querying) host.idle();
}, IDLE_AFTER_MS);
idleTimer.unref();
const deferredCommits: CommitNotice[] = [];
const committed = (message: CommitNotice) => {
  if (querying) deferredCommits.push(message);
  else host.committed(message.ts, message.previousTs, message.ids);
};
port.on("message", (message: ToWorker) => {
  if (message.kind === "commit") committed(message);
  else {
    if (message.kind === "run") queuedRuns += 1;
    running = running.then(() => handle(message));
  }
});
// The writer's commits also come straight from the writer (the main thread may be busy);
// whichever copy arrives second is ignored (its ts is not above the caches' any more).
const commitChannel = start.commitChannel === null ? null : new BroadcastChannel(start.commitChannel);
if (commitChannel !== null) {
  commitChannel.onmessage = (event) => committed((event as { data: CommitNotice }).data);
  commitChannel.unref();
}

async function handle(message: ToWorker): Promise<void> {
  switch (message.kind) {
    case "run": {
      await new Promise((resolve) => setImmediate(resolve));
      queuedRuns -= 1;
      querying = true;
      let done: Awaited<ReturnType<WorkerQueryHost["run"]>>;
      try {
        done = await host.run(message.job);
      } finally {
        querying = false;
        for (const commit of deferredCommits.splice(0)) host.committed(commit.ts, commit.previousTs, commit.ids);
      }
      // Set on the (fresh) answer, not spread into a copy: V8 adds a property after a
      // spread in a literal through its slow path.
      done.cacheDrops = caches.drops;
      post(done, done.readSet === null ? undefined : [done.readSet]);
      if (queuedRuns === 0) idleTimer.refresh();
      return;
    }
    case "pin":
      post({ kind: "pinned", id: message.id, ts: host.pin(message.holdMs) });
      return;
    case "commit":
      return;
    case "app":
      host.setApp(message.app);
      post({ kind: "ready" });
      return;
    case "close":
      commitChannel?.close();
      store.close();
      port.close();
      return;
  }
}
