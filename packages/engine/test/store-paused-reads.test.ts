import Database from "better-sqlite3";
import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { describe, expect, test } from "vitest";
import { CommitCounter } from "../src/store/commit-counter";
import type { Store } from "../src/store/store";
import { schemaExport } from "./helpers/convex-json";
import { inTransaction, openTestStore } from "./helpers/temp-store";

/**
 * A reader connection (as a query worker's) that pauses its read transaction between runs
 * reads at the same snapshot again only while no connection sharing the engine's commit
 * counter committed: a document write and a schema change each make the next run read at
 * a new snapshot, with the new catalog. Writes through a connection that does not count
 * (a plain SQLite connection here) show that a run did read at the paused snapshot.
 */

type Opened = { writer: Store; reader: Store; path: string; counter: CommitCounter };

function openPair(withCounter = true): Opened {
  const counter = new CommitCounter();
  const commitCounter = withCounter ? counter.buffer : undefined;
  const { store: writer, path } = openTestStore({ commitCounter });
  inTransaction(writer, () => writer.insert("posts", { v: 1 }));
  const { store: reader } = openTestStore({ path, readOnly: true, commitCounter });
  return { writer, reader, path, counter };
}

const values = (store: Store) =>
  store.scan("posts.by_creation_time", { lo: new Uint8Array([0]), hi: null }, "asc", 10).map((r) => JSON.parse(r.text).v as number);

/** Changes every post's `v` behind the engine's back: no commit ts, no count. */
function uncountedWrite(path: string, v: number): void {
  const outside = new Database(path);
  try {
    outside.prepare("UPDATE documents SET value = json_set(value, '$.v', ?)").run(v);
  } finally {
    outside.close();
  }
}

/** Whether a checkpoint can empty the WAL now (no reader holds a snapshot in it). */
function walCanReset(path: string): boolean {
  const probe = new Database(path, { timeout: 0 });
  try {
    const [row] = probe.pragma("wal_checkpoint(TRUNCATE)") as { busy: number }[];
    return row!.busy === 0;
  } finally {
    probe.close();
  }
}

describe("paused read transactions", () => {
  test("a run after a pause reads at the same snapshot while nothing was committed, and at a new one after each commit", () => {
    const { writer, reader, path, counter } = openPair();
    // Run 1 reads; between runs the transaction is paused, not ended.
    const first = reader.beginSnapshot();
    expect(values(reader)).toEqual([1]);
    reader.pauseRead();
    uncountedWrite(path, 2);
    // Run 2: same snapshot (the uncounted write is not in it), same ts.
    expect(reader.beginSnapshot()).toBe(first);
    expect(values(reader)).toEqual([1]);
    reader.pauseRead();
    // A commit of the writer connection is counted: run 3 reads a new snapshot.
    const before = counter.read();
    inTransaction(writer, () => writer.insert("posts", { v: 3 }));
    expect(counter.read()).toBe(before + 1);
    const third = reader.beginSnapshot();
    expect(third).toBe(writer.lastCommitTs());
    expect(third).toBeGreaterThan(first);
    expect(values(reader)).toEqual([2, 3]);
    reader.pauseRead();
    // A transaction that changed nothing is not a commit anyone hears of: the snapshot stays.
    inTransaction(writer, () => writer.setMeta("note", "x"));
    expect(reader.beginSnapshot()).toBe(third);
    reader.endRead();
  });

  test("a schema change is counted: the next run sees the new table and index", () => {
    const { writer, reader } = openPair();
    reader.beginSnapshot();
    expect(reader.resolveIndex("posts.by_v")).toBeNull();
    reader.pauseRead();
    writer.applySchema(schemaExport(defineSchema({ posts: defineTable({ v: v.number() }).index("by_v", ["v"]) })));
    expect(reader.beginSnapshot()).toBe(writer.lastCommitTs());
    expect(reader.resolveIndex("posts.by_v")).not.toBeNull();
    expect(reader.scan("posts.by_v", { lo: new Uint8Array([0]), hi: null }, "asc", 10)).toHaveLength(1);
    reader.endRead();
  });

  test("without a commit counter a pause ends the read: every run reads the latest data", () => {
    const { reader, path } = openPair(false);
    reader.beginSnapshot();
    expect(values(reader)).toEqual([1]);
    reader.pauseRead();
    uncountedWrite(path, 2);
    reader.beginSnapshot();
    expect(values(reader)).toEqual([2]);
    reader.endRead();
  });

  test("a paused read holds its snapshot in the WAL until endRead, and writes wait for nothing", () => {
    const { writer, reader, path } = openPair();
    inTransaction(writer, () => writer.insert("posts", { v: 2 }));
    reader.beginSnapshot();
    expect(values(reader)).toEqual([1, 2]);
    reader.pauseRead();
    expect(walCanReset(path)).toBe(false);
    // The writer commits meanwhile (WAL readers never block it).
    inTransaction(writer, () => writer.insert("posts", { v: 3 }));
    reader.endRead();
    expect(walCanReset(path)).toBe(true);
    // After endRead the next run begins anew.
    reader.beginSnapshot();
    expect(values(reader)).toEqual([1, 2, 3]);
    reader.endRead();
  });
});
