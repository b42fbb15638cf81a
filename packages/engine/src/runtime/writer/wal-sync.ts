import { closeSync, fdatasync, openSync } from "node:fs";

/**
 * Makes the writer's commits durable from the main thread (runs on the main thread; the
 * fdatasync itself runs on libuv's thread pool). The writer's connection commits with
 * `synchronous=NORMAL`: COMMIT appends its frames to the WAL and returns without an
 * fsync, so the writer can run the next batch at once. Before anything that depends on
 * a commit is told (the answers, the commit's announcement to subscribers and to query
 * results that read it), the WAL file is fdatasync'ed here. With frames written in
 * order and synced before they are acknowledged, this gives what `synchronous=FULL`
 * gives (SQLite's FULL does the same fsync inside COMMIT): an acknowledged commit
 * survives power loss; a crash before the sync loses only unacknowledged commits, and
 * WAL checksums make recovery keep the synced prefix. Checkpoints stay safe under
 * NORMAL (SQLite syncs the WAL before copying it and the database after).
 *
 * Syncs are grouped: a request while one runs is served by the next one, which starts
 * when the running one ends and covers every commit made before it starts.
 *
 * The file is opened once and kept: SQLite never unlinks the WAL while a connection is
 * open, and the main thread's own connection stays open while the writer lives
 * (checkpoints may truncate it; the inode stays).
 */
export interface WalSync {
  /** Resolves once every commit made before this call is durable; rejects when the fdatasync failed. */
  sync(): Promise<void>;
  /** Closes the file (after the last sync). */
  close(): void;
  /** fdatasync calls made, and the time they took (ms). */
  stats(): { flushes: number; flushMs: number };
}

/** How the WAL file is flushed; replaceable in tests that need a failing disk. */
export type FlushFile = (fd: number) => Promise<void>;

const flushFile: FlushFile = (fd) => new Promise((resolve, reject) => fdatasync(fd, (e) => (e === null ? resolve() : reject(e))));

export function createWalSync(walPath: string, flush: FlushFile = flushFile): WalSync {
  let fd: number | null = null;
  let running: Promise<void> | null = null;
  let queued: Promise<void> | null = null;
  let flushes = 0;
  let flushMs = 0;

  const start = (): Promise<void> => {
    const done = (async () => {
      // Opened on first use: the WAL exists once a commit has been made.
      fd ??= openSync(walPath, "r");
      const started = performance.now();
      try {
        await flush(fd);
      } finally {
        flushes += 1;
        flushMs += performance.now() - started;
      }
    })();
    running = done;
    const clear = () => {
      if (running === done) running = null;
    };
    done.then(clear, clear);
    return done;
  };

  return {
    sync() {
      if (running === null) return start();
      // The running sync may have started before the caller's commit: wait for the next one.
      queued ??= running.then(
        () => undefined,
        () => undefined,
      ).then(() => {
        queued = null;
        return start();
      });
      return queued;
    },
    stats: () => ({ flushes, flushMs }),
    close() {
      if (fd !== null) closeSync(fd);
      fd = null;
    },
  };
}
