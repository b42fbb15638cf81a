import { randomBytes } from "node:crypto";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { createSqliteStore } from "../store/sqlite-store.js";
import type { Store } from "../store/store.js";

/**
 * Opens a data folder's store directly, for commands that run while no
 * engine serves it (`env`, `export`, `import`), and closes it afterwards.
 */
export async function withOfflineStore<T>(dataDir: string, fn: (store: Store) => T | Promise<T>): Promise<T> {
  mkdirSync(dataDir, { recursive: true });
  const store = createSqliteStore({
    path: path.join(dataDir, "db.sqlite3"),
    now: () => Date.now(),
    randomBytes: (n) => new Uint8Array(randomBytes(n)),
  });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
