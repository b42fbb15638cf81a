import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { createSqliteStore } from "../../src/store/sqlite-store";
import type { Store } from "../../src/store/store";
import type { StoreOptions } from "../../src/store/store-options";
import { createSeededRandom } from "./seeded-random";

/**
 * Real SQLite stores in temporary directories, removed after each test, with a manual
 * clock and seeded ids so that runs are reproducible.
 */

/** A clock the test moves by hand; `now()` returns the current value. */
export interface ManualClock {
  now(): number;
  set(ms: number): void;
  advance(ms: number): void;
}

/** Creates a manual clock starting at `start` ms. */
export function createManualClock(start = Date.UTC(2026, 0, 1)): ManualClock {
  let current = start;
  return { now: () => current, set: (ms) => void (current = ms), advance: (ms) => void (current += ms) };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "engine-store-"));
  dirs.push(dir);
  return dir;
}

/** A store in a fresh temp file; `synchronous` NORMAL keeps tests quick. */
export function openTestStore(overrides: Partial<StoreOptions> = {}): { store: Store; clock: ManualClock; path: string } {
  const clock = createManualClock();
  const random = createSeededRandom(42);
  const path = overrides.path ?? join(tempDir(), "db.sqlite3");
  const store = createSqliteStore({ path, now: clock.now, randomBytes: random.bytes, synchronous: "NORMAL", ...overrides });
  return { store, clock, path };
}

/** Runs `body` in a transaction and commits it. */
export function inTransaction<T>(store: Store, body: () => T): T {
  store.begin();
  try {
    const result = body();
    store.commit();
    return result;
  } catch (e) {
    store.rollback();
    throw e;
  }
}
