import Database from "better-sqlite3";
import { readdirSync, readlinkSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { isEngineError } from "../src/errors";
import { tableNumberOfId } from "../src/values/document-id";
import { indexKey } from "../src/values/index-key-codec";
import { inTransaction, openTestStore } from "./helpers/temp-store";

function expectEngineError(run: () => unknown, code: string): void {
  let error: unknown;
  try {
    run();
  } catch (e) {
    error = e;
  }
  expect(isEngineError(error, code), `expected EngineError ${code}, got ${String(error)}`).toBe(true);
}

describe("store transactions", () => {
  test("an insert is readable in its transaction and stored as Convex JSON with system fields", () => {
    const { store } = openTestStore();
    store.begin();
    const id = store.insert("posts", { caption: "hi", likes: 3n });
    const text = store.get(id);
    expect(JSON.parse(text!)).toEqual({
      _creationTime: expect.any(Number),
      _id: id,
      caption: "hi",
      likes: { $integer: "AwAAAAAAAAA=" },
    });
    store.commit();
    expect(store.get(id)).toBe(text);
    expect(store.count("posts")).toBe(1);
  });

  test("a rolled-back transaction leaves nothing behind, not even the table it created", () => {
    const { store } = openTestStore();
    let id = "";
    expect(() =>
      inTransaction(store, () => {
        id = store.insert("posts", { caption: "doomed" });
        throw new Error("user code failed");
      }),
    ).toThrow("user code failed");
    expect(store.get(id)).toBeNull();
    expect(store.tableNumber("posts")).toBeNull();
    expect(store.count("posts")).toBe(0);
    // The number of the vanished table is handed out again.
    const next = inTransaction(store, () => store.insert("users", { name: "ada" }));
    expect(tableNumberOfId(next)).toBe(10001);
  });

  test("a transaction that changes no data keeps the commit ts; meta it set is kept", () => {
    const { store } = openTestStore();
    const first = inTransaction(store, () => store.insert("posts", { caption: "one" }));
    const ts = store.lastCommitTs();
    store.begin();
    store.get(first);
    store.setMeta("cron:check", "next=1");
    const result = store.commit();
    expect(result).toEqual({ ts, previousTs: ts, writes: [] });
    expect(store.lastCommitTs()).toBe(ts);
    expect(store.getMeta("cron:check")).toBe("next=1");
    // Writing and deleting the same document is a change: it gets a new ts.
    store.begin();
    store.delete(store.insert("posts", { caption: "fleeting" }));
    expect(store.commit().ts).toBeGreaterThan(ts);
  });

  test("other connections see nothing before commit", () => {
    const { store, path } = openTestStore();
    const reader = new Database(path, { readonly: true });
    const countDocs = () => reader.prepare("SELECT count(*) FROM documents").pluck().get();
    store.begin();
    store.insert("posts", { caption: "pending" });
    expect(countDocs()).toBe(0);
    store.commit();
    expect(countDocs()).toBe(1);
    reader.close();
  });

  test("savepoints undo a nested mutation's writes and keep the outer ones", () => {
    const { store } = openTestStore();
    store.begin();
    const outer = store.insert("posts", { n: 1 });
    const sp = store.savepoint();
    const inner = store.insert("posts", { n: 2 });
    store.replace(outer, { n: 10 });
    const deeper = store.savepoint();
    store.insert("comments", { text: "deep" });
    store.release(deeper);
    store.rollbackTo(sp);
    expect(store.get(inner)).toBeNull();
    expect(JSON.parse(store.get(outer)!).n).toBe(1);
    expect(store.tableNumber("comments")).toBeNull();
    const kept = store.savepoint();
    const third = store.insert("posts", { n: 3 });
    store.release(kept);
    const { writes } = store.commit();
    expect(writes.map((w) => w.id)).toEqual([outer, third]);
    expect(store.count("posts")).toBe(2);
  });

  test.runIf(process.platform === "linux")("a savepoint's undo pages stay in memory, not in a temporary file, and still roll back", () => {
    const { store } = openTestStore();
    const ids = inTransaction(store, () => Array.from({ length: 300 }, (_, n) => store.insert("posts", { n, text: "a".repeat(2000) })));
    // SQLite names its temporary files etilqs_* and unlinks them at once; an open one shows in /proc.
    const openTempFiles = () =>
      readdirSync("/proc/self/fd").filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes("etilqs_");
        } catch {
          return false;
        }
      }).length;
    const before = openTempFiles();
    store.begin();
    store.insert("posts", { n: -1 });
    const sp = store.savepoint();
    // ~600 KiB of changed pages: past the 64 KiB at which SQLite spills a sub-journal to a file.
    for (const id of ids) store.replace(id, { n: 0, text: "b".repeat(2000) });
    expect(openTempFiles()).toBe(before);
    store.rollbackTo(sp);
    store.commit();
    expect(ids.map((id) => JSON.parse(store.get(id)!).text[0])).toEqual(ids.map(() => "a"));
    expect(store.count("posts")).toBe(301);
  });

  test("the document cache never serves uncommitted or rolled-back text", () => {
    const { store } = openTestStore({ documentCacheSize: 2 });
    const id = inTransaction(store, () => store.insert("posts", { v: 1 }));
    const v = () => JSON.parse(store.get(id)!).v;
    expect(v()).toBe(1);
    store.begin();
    store.replace(id, { v: 2 });
    expect(v()).toBe(2);
    const sp = store.savepoint();
    store.replace(id, { v: 3 });
    expect(v()).toBe(3);
    store.rollbackTo(sp);
    expect(v()).toBe(2);
    store.rollback();
    expect(v()).toBe(1);
    inTransaction(store, () => store.replace(id, { v: 4 }));
    expect(v()).toBe(4);
    inTransaction(store, () => store.delete(id));
    expect(store.get(id)).toBeNull();
    // Eviction: more documents than the cache holds still read correctly.
    const many = inTransaction(store, () => [1, 2, 3, 4].map((n) => store.insert("posts", { v: n })));
    for (const [n, other] of many.entries()) expect(JSON.parse(store.get(other)!).v).toBe(n + 1);
  });

  test("a read transaction sees one snapshot from its first read to endRead, and excludes writes", () => {
    const { store, path } = openTestStore();
    const id = inTransaction(store, () => store.insert("posts", { v: 1 }));
    const scanned = () => store.scan("posts.by_creation_time", { lo: new Uint8Array([0]), hi: null }, "asc", 10).map((r) => JSON.parse(r.text).v);
    const outside = new Database(path);
    const bump = (v: number) => outside.prepare("UPDATE documents SET value = json_set(value, '$.v', ?) WHERE json_extract(value, '$._id') = ?").run(v, id);
    store.beginRead();
    bump(2); // before the first read: the snapshot does not exist yet
    expect(scanned()).toEqual([2]);
    bump(3); // after it: not seen until the read transaction ends
    expect(scanned()).toEqual([2]);
    expectEngineError(() => store.begin(), "TransactionOpen");
    expectEngineError(() => store.beginRead(), "TransactionOpen");
    store.endRead();
    store.endRead(); // a second end is a no-op
    expect(scanned()).toEqual([3]);
    outside.close();
    // Writes work again once it has ended.
    inTransaction(store, () => store.insert("posts", { v: 4 }));
    expect(store.count("posts")).toBe(2);
  });

  test("a scanned row carries its entry's key and its document's exact text, with braces and non-ASCII inside", () => {
    const { store } = openTestStore();
    store.begin();
    const texts = ["{not a key}", "é}{ü", "plain", "x".repeat(3000)].map((caption) => store.get(store.insert("posts", { caption }))!);
    store.commit();
    const whole = { lo: new Uint8Array([0]), hi: null };
    // Many rows (one statement) and one row (the LIMIT 1 statement), both orders.
    for (const [order, limit] of [["asc", 10], ["desc", 10], ["asc", 1], ["desc", 1]] as const) {
      const rows = store.scan("posts.by_creation_time", whole, order, limit);
      const expected = order === "asc" ? texts : [...texts].reverse();
      expect(rows.map((row) => row.text)).toEqual(expected.slice(0, limit));
      for (const row of rows) {
        const doc = JSON.parse(row.text) as { _creationTime: number; _id: string };
        expect(row.key).toEqual(indexKey([doc._creationTime, doc._id]));
      }
    }
  });

  test("writes need an open transaction", () => {
    const { store } = openTestStore();
    expectEngineError(() => store.insert("posts", {}), "NoTransaction");
    expectEngineError(() => store.commit(), "NoTransaction");
    store.begin();
    expectEngineError(() => store.begin(), "TransactionOpen");
    store.rollback();
  });

  test("user tables are numbered from 10001 in creation order; system tables use 539/540", () => {
    const { store } = openTestStore();
    inTransaction(store, () => {
      store.insert("users", {});
      store.insert("posts", {});
      store.insert("_storage", { sha256: "x", size: 1, contentType: null });
      store.insert("_scheduled_functions", { name: "a.js:b" });
      store.insert("likes", {});
    });
    expect(store.listTables()).toEqual([
      { name: "_scheduled_functions", number: 539 },
      { name: "_storage", number: 540 },
      { name: "users", number: 10001 },
      { name: "posts", number: 10002 },
      { name: "likes", number: 10003 },
    ]);
    store.begin();
    expectEngineError(() => store.insert("_unknown", {}), "UnknownSystemTable");
    expectEngineError(() => store.insert("bad-name", {}), "InvalidTableName");
    store.rollback();
  });

  test("replace keeps _id and _creationTime; delete and replace of a missing document fail", () => {
    const { store, clock } = openTestStore();
    const id = inTransaction(store, () => store.insert("posts", { caption: "a", extra: true }));
    const before = JSON.parse(store.get(id)!);
    clock.advance(1000);
    inTransaction(store, () => store.replace(id, { caption: "b", _id: id, _creationTime: before._creationTime }));
    expect(JSON.parse(store.get(id)!)).toEqual({ _id: id, _creationTime: before._creationTime, caption: "b" });
    store.begin();
    expectEngineError(() => store.replace(id, { _creationTime: 5 }), "InvalidDocument");
    expectEngineError(() => store.insert("posts", { _secret: 1 }), "InvalidDocument");
    expectEngineError(() => store.insert("posts", { _id: id }), "InvalidDocument");
    store.delete(id);
    expectEngineError(() => store.delete(id), "DocumentNotFound");
    expectEngineError(() => store.replace(id, {}), "DocumentNotFound");
    store.commit();
    expect(store.get(id)).toBeNull();
  });

  test("the write set carries old and new text and keys in every index, coalesced per document", () => {
    const { store } = openTestStore();
    const existing = inTransaction(store, () => store.insert("posts", { n: 1 }));
    store.begin();
    const fresh = store.insert("posts", { n: 2 });
    store.replace(fresh, { n: 3 });
    store.replace(existing, { n: 4 });
    const { writes } = store.commit();
    expect(writes).toHaveLength(2);
    const [first, second] = writes;
    expect(first.id).toBe(fresh);
    expect(first.oldText).toBeNull();
    expect(JSON.parse(first.newText!).n).toBe(3);
    expect(first.keys.map((k) => k.index)).toEqual(["posts.by_id", "posts.by_creation_time"]);
    expect(first.keys.every((k) => k.oldKey === null && k.newKey !== null)).toBe(true);
    expect(JSON.parse(second.oldText!).n).toBe(1);
    expect(JSON.parse(second.newText!).n).toBe(4);
    expect(second.keys.every((k) => k.oldKey!.equals(k.newKey!))).toBe(true);
    store.begin();
    store.delete(existing);
    const deleted = store.commit().writes[0];
    expect(deleted.newText).toBeNull();
    expect(deleted.keys.every((k) => k.oldKey !== null && k.newKey === null)).toBe(true);
  });
});

describe("store clocks", () => {
  test("commit ts strictly increases, even when the wall clock stands still or goes back", () => {
    const { store, clock } = openTestStore();
    const seen: bigint[] = [];
    for (let i = 0; i < 5; i++) {
      store.begin();
      store.insert("ticks", { i });
      seen.push(store.commit().ts);
      if (i === 2) clock.advance(-60_000);
    }
    for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
    expect(seen[0]).toBe(BigInt(clock.now() + 60_000) * 1_000_000n);
    expect(store.lastCommitTs()).toBe(seen[4]);
  });

  test("commit ts and _creationTime survive a reopen, written with the data", () => {
    const first = openTestStore();
    first.clock.set(Date.UTC(2030, 0, 1));
    const id = inTransaction(first.store, () => first.store.insert("posts", {}));
    const lastTs = first.store.lastCommitTs();
    const lastCreation = JSON.parse(first.store.get(id)!)._creationTime as number;
    first.store.close();

    // Reopened with a clock ten years behind: both clocks continue from the stored values.
    const second = openTestStore({ path: first.path });
    expect(second.store.lastCommitTs()).toBe(lastTs);
    second.store.begin();
    const next = second.store.insert("posts", {});
    const { ts } = second.store.commit();
    expect(ts).toBe(lastTs + 1n);
    expect(JSON.parse(second.store.get(next)!)._creationTime).toBeGreaterThan(lastCreation);
    second.store.close();
  });

  test("_creationTime strictly increases per insert, taking the next double when time stands still", () => {
    const { store, clock } = openTestStore();
    store.begin();
    const ids = Array.from({ length: 5 }, () => store.insert("posts", {}));
    clock.advance(2);
    ids.push(store.insert("posts", {}));
    store.commit();
    const times = ids.map((id) => JSON.parse(store.get(id)!)._creationTime as number);
    expect(times[0]).toBe(clock.now() - 2);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
    // The next representable double above ~1.77e12 ms is 2^-12 ms later.
    expect(times[1] - times[0]).toBe(2 ** -12);
    expect(times[5]).toBe(clock.now());
  });
});

describe("store engine state", () => {
  test("meta values persist and join the open transaction", () => {
    const { store, path } = openTestStore();
    store.setMeta("env:KEY", "v1");
    store.begin();
    store.setMeta("env:KEY", "v2");
    store.rollback();
    expect(store.getMeta("env:KEY")).toBe("v1");
    store.setMeta("gone", "x");
    store.setMeta("gone", null);
    store.close();
    const reopened = openTestStore({ path }).store;
    expect(reopened.getMeta("env:KEY")).toBe("v1");
    expect(reopened.getMeta("gone")).toBeNull();
    reopened.close();
  });

  test("mutation results are stored with their commit ts, vanish on rollback and are pruned by age", () => {
    const { store, clock } = openTestStore();
    store.begin();
    store.recordMutationResult("session-a", 1, '{"ok":true}');
    const { ts } = store.commit();
    expect(store.getMutationResult("session-a", 1)).toEqual({ result: '{"ok":true}', ts });

    store.begin();
    store.recordMutationResult("session-a", 2, "null");
    store.rollback();
    expect(store.getMutationResult("session-a", 2)).toBeNull();

    store.begin();
    const sp = store.savepoint();
    store.recordMutationResult("session-a", 3, "null");
    store.rollbackTo(sp);
    store.commit();
    expect(store.getMutationResult("session-a", 3)).toBeNull();

    clock.advance(10 * 60_000);
    inTransaction(store, () => store.recordMutationResult("session-b", 1, "1"));
    expect(store.pruneMutationResults(5 * 60_000)).toBe(1);
    expect(store.getMutationResult("session-a", 1)).toBeNull();
    expect(store.getMutationResult("session-b", 1)).not.toBeNull();
  });
});
