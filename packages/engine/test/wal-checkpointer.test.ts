import Database from "better-sqlite3";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { createWalCheckpointer } from "../src/store/wal-checkpointer";
import { tempDir } from "./helpers/temp-store";

describe("WAL checkpoints on a worker thread", () => {
  test("a checkpoint from the worker backfills every committed frame; the data stays whole", async () => {
    const path = join(tempDir(), "db.sqlite3");
    const writer = new Database(path);
    writer.pragma("journal_mode = WAL");
    writer.exec("CREATE TABLE t (n INTEGER, s TEXT)");
    const checkpointer = createWalCheckpointer(path, "FULL");
    const insert = writer.prepare("INSERT INTO t VALUES (?, ?)");
    // Enough commits for the WAL to pass the size at which the worker starts.
    for (let c = 0; c < 64; c++) {
      writer.transaction(() => {
        for (let i = 0; i < 100; i++) insert.run(c * 100 + i, "x".repeat(1000));
      })();
      checkpointer.committed();
    }
    expect(checkpointer.started).toBe(true);
    const result = await checkpointer.checkpointNow();
    expect(result.walFrames).toBeGreaterThan(0);
    expect(result.checkpointed).toBe(result.walFrames);
    checkpointer.close();
    writer.close();
    const reader = new Database(path, { readonly: true });
    expect(reader.prepare("SELECT count(*), sum(n) FROM t").raw().get()).toEqual([6400, (6399 * 6400) / 2]);
    reader.close();
  });

  test("a store that writes little never starts the worker", () => {
    const path = join(tempDir(), "db.sqlite3");
    const writer = new Database(path);
    writer.pragma("journal_mode = WAL");
    writer.exec("CREATE TABLE t (n INTEGER)");
    const checkpointer = createWalCheckpointer(path, "FULL");
    for (let c = 0; c < 100; c++) {
      writer.prepare("INSERT INTO t VALUES (?)").run(c);
      checkpointer.committed();
    }
    expect(checkpointer.started).toBe(false);
    checkpointer.close();
    writer.close();
  });
});
