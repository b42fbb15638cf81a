import { randomBytes } from "node:crypto";
import path from "node:path";
import { lockDataFolder, prepareDataFolder } from "../data-folder.js";
import { createSqliteStore } from "../store/sqlite-store.js";
import type { Store } from "../store/store.js";
import { removeStaleInfo } from "./running-engine.js";

/**
 * Opens a data folder's store directly, for commands that run while no
 * engine serves it (`env`, `export`, `import`), and closes it afterwards.
 * It holds the folder's lock meanwhile, as an engine does: an engine that
 * starts now is refused until the command is done, and this command is
 * refused while an engine holds the folder.
 */
export async function withOfflineStore<T>(dataDir: string, fn: (store: Store) => T | Promise<T>): Promise<T> {
  prepareDataFolder(dataDir, { warn: (message) => process.stderr.write(`${message}\n`) });
  const lock = lockDataFolder(dataDir);
  try {
    // Holding the lock, an engine.json here can only be a crashed engine's.
    removeStaleInfo(dataDir);
    const store = createSqliteStore({
      path: path.join(dataDir, "db.sqlite3"),
      now: () => Date.now(),
      randomBytes: (n) => new Uint8Array(randomBytes(n)),
      notice: (message) => process.stderr.write(`${message}\n`),
    });
    try {
      return await fn(store);
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}
