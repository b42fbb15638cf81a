import { parentPort, workerData } from "node:worker_threads";
import { createSqliteStore } from "../../store/sqlite-store.js";
import { lowerThisThreadPriority } from "./thread-priority.js";
import { WorkerQueryHost } from "./worker-query-host.js";
import type { FromWorker, ToWorker, WorkerStart } from "./worker-protocol.js";

/**
 * Entry of a query worker thread (built to JavaScript by `worker-script.ts`). It owns a
 * read-only connection to the store file and its own copy of the app, and runs the
 * queries the main thread's pool hands it, one at a time, each at the latest committed
 * snapshot when it starts.
 */

const start = workerData as WorkerStart;
lowerThisThreadPriority(start.niceness);
const port = parentPort!;
const post = (message: FromWorker, transfer?: ArrayBuffer[]) => port.postMessage(message, transfer);
const store = createSqliteStore({
  path: start.dbPath,
  readOnly: true,
  // A reader never stamps anything; its clock and ids are never used.
  now: () => Date.now(),
  randomBytes: (n) => new Uint8Array(n),
});
const host = new WorkerQueryHost(
  store,
  () =>
    // A pinned snapshot has a connection of its own, held in a read transaction; no
    // document cache (the worker's cache follows its main connection's snapshots).
    createSqliteStore({ path: start.dbPath, readOnly: true, documentCacheSize: 0, now: () => Date.now(), randomBytes: (n) => new Uint8Array(n) }),
  start.deployment,
  (m) => post(m),
);
if (start.app !== null) host.setApp(start.app);

// Jobs arrive one at a time (the pool waits for each answer), but commits and code may
// arrive while a query awaits: they are applied between jobs, never under one.
let running: Promise<void> = Promise.resolve();
port.on("message", (message: ToWorker) => {
  running = running.then(() => handle(message));
});

async function handle(message: ToWorker): Promise<void> {
  switch (message.kind) {
    case "run": {
      const done = await host.run(message.job);
      post(done, done.readSet === null ? undefined : [done.readSet]);
      return;
    }
    case "pin":
      post({ kind: "pinned", id: message.id, ts: host.pin(message.holdMs) });
      return;
    case "commit":
      host.committed(message.ts, message.previousTs, message.ids);
      return;
    case "app":
      host.setApp(message.app);
      return;
    case "close":
      store.close();
      port.close();
      return;
  }
}
