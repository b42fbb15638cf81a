import { statSync } from "node:fs";
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import type { SynchronousMode } from "./store-options";

/**
 * WAL checkpoints, mostly on a worker thread. SQLite's automatic checkpoint
 * runs inside the COMMIT that crosses its threshold (`WRITER_AUTOCHECKPOINT_PAGES`):
 * on the thread that also runs mutations, it copies the WAL's pages into the
 * database file and fsyncs it. A PASSIVE checkpoint from a second connection
 * does that copying without blocking the writer or any reader, so a worker
 * with its own connection copies frames as they come; when the writer's own
 * checkpoint comes due it finds (almost) nothing left to copy, and it still
 * restarts the WAL from its beginning, which only the writer can do (a WAL
 * left to grow makes every commit slower; measured).
 *
 * The worker starts only once the WAL has grown to megabytes (short-lived
 * stores, tests among them, never pay for a thread).
 */

/**
 * The write connection's own automatic checkpoint threshold (pages; SQLite's default is 1000).
 * That checkpoint runs inside the COMMIT that crosses it, on the thread that commits (the
 * writer), and with it two fsyncs (WAL, then database file) even when the worker has left
 * nothing to copy. At 1000 pages the writer took it ~25 times a second under the
 * durable-likes load, stalled in fsync each time. The worker does the copying; this
 * checkpoint is left for what only the writer can do cheaply (finish the last frames while
 * it holds the write lock, so the next transaction restarts the WAL from its beginning) and
 * as the fallback should the worker fail: the WAL now grows to 32–52 MiB between restarts
 * (measured at 256 durable-likes clients; a batch can overshoot the threshold, and a restart
 * waits until every frame is copied and no reader still uses one).
 */
export const WRITER_AUTOCHECKPOINT_PAGES = 8192;

/** The worker starts once the WAL file has grown this big (bytes). */
const START_AT_WAL_BYTES = 2 << 20;
/** How many commits pass between looks at the WAL file's size before the worker runs. */
const SIZE_CHECK_EVERY = 16;
/** The worker checkpoints at most this often while commits keep coming (ms). */
const CHECKPOINT_EVERY_MS = 20;

/** Checkpoints the WAL of one database file in the background. */
export interface WalCheckpointer {
  /** Called after every commit of the writer connection. */
  committed(): void;
  /** Runs a checkpoint now and reports how far it got (starts the worker if needed). */
  checkpointNow(): Promise<{ walFrames: number; checkpointed: number }>;
  /** Stops the worker (its connection is closed by the worker). */
  close(): void;
  /** True once the worker thread runs. */
  readonly started: boolean;
}

/** Creates the checkpointer for the database file `path` (the writer keeps its own automatic checkpoint). */
export function createWalCheckpointer(path: string, synchronous: SynchronousMode): WalCheckpointer {
  let commits = 0;
  let lastPost = 0;
  let worker: Worker | null = null;
  let closed = false;
  let nextRequest = 0;
  const waiting = new Map<number, (result: { walFrames: number; checkpointed: number }) => void>();

  const walBytes = (): number => {
    try {
      return statSync(`${path}-wal`).size;
    } catch {
      return 0;
    }
  };

  function start(): Worker {
    if (worker !== null) return worker;
    const driver = createRequire(import.meta.url).resolve("better-sqlite3");
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { driver, path, synchronous, everyMs: CHECKPOINT_EVERY_MS } });
    worker.unref();
    worker.on("message", (message: { id: number; walFrames: number; checkpointed: number }) => {
      waiting.get(message.id)?.(message);
      waiting.delete(message.id);
    });
    // A failed worker only means the writer's own checkpoints do all the work again.
    worker.on("error", () => {
      worker = null;
    });
    return worker;
  }

  return {
    committed() {
      if (closed) return;
      commits += 1;
      if (worker === null && (commits % SIZE_CHECK_EVERY !== 0 || walBytes() < START_AT_WAL_BYTES)) return;
      // The worker coalesces anyway; a message per commit would cost more than it tells.
      const now = performance.now();
      if (now - lastPost < CHECKPOINT_EVERY_MS / 2) return;
      lastPost = now;
      start().postMessage({ kind: "dirty" });
    },
    checkpointNow() {
      const id = ++nextRequest;
      return new Promise((resolve) => {
        waiting.set(id, resolve);
        start().postMessage({ kind: "checkpoint", id });
      });
    },
    close() {
      closed = true;
      worker?.postMessage({ kind: "close" });
      worker = null;
    },
    get started() {
      return worker !== null;
    },
  };
}

/**
 * The worker: its own connection, a PASSIVE checkpoint at most every
 * `everyMs` while the writer reports commits, and on request.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.driver);
// fileMustExist: a worker that starts as the store closes (and its folder is
// removed) must fail, not create an empty database file in its place.
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma("busy_timeout = 5000");
db.pragma("synchronous = " + workerData.synchronous);
let timer = null;
const checkpoint = () => {
  const [row] = db.pragma("wal_checkpoint(PASSIVE)");
  return { walFrames: row.log, checkpointed: row.checkpointed };
};
parentPort.on("message", (message) => {
  if (message.kind === "close") {
    if (timer !== null) clearTimeout(timer);
    db.close();
    parentPort.close();
  } else if (message.kind === "checkpoint") {
    parentPort.postMessage({ id: message.id, ...checkpoint() });
  } else if (timer === null) {
    timer = setTimeout(() => {
      timer = null;
      checkpoint();
    }, workerData.everyMs);
  }
});
`;
