import { mkdtempSync, rmSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { readSetIntersects } from "../src/query/read-set";
import { createSqliteStore } from "../src/store/sqlite-store";
import type { Store } from "../src/store/store";
import { WHOLE_TABLE_AFTER_WRITES } from "../src/store/write-log";
import { MIN_KEY } from "../src/values/index-key-codec";

/**
 * A transaction that writes more documents than any mutation may (an import)
 * reports its writes per table, not per document, so its write set stays a
 * few entries however large the import; every reader of those tables counts
 * as touched.
 */
describe("bulk transactions report their writes per table", () => {
  let dir: string;
  let store: Store;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "bulk-writes-"));
    store = createSqliteStore({ path: path.join(dir, "db.sqlite3"), now: () => Date.now(), randomBytes: (n) => new Uint8Array(randomBytes(n)) });
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const whole = (index: string) => ({ intervals: [{ index, lo: MIN_KEY, hi: null }], ids: [] as string[] });

  test("past the threshold: one entry per table, matching any read of the table and nothing else", () => {
    store.begin();
    const other = store.insert("other", { x: 1 });
    store.commit();

    store.begin();
    const first = store.insert("people", { n: 0 });
    for (let i = 1; i <= WHOLE_TABLE_AFTER_WRITES; i++) store.insert("people", { n: i });
    store.insert("pets", { name: "rex" });
    // The transaction still reads its own writes, uncached.
    expect(JSON.parse(store.get(first)!).n).toBe(0);
    const { writes } = store.commit();
    expect(writes).toEqual([
      { id: "", table: "people", oldText: null, newText: null, keys: [], wholeTable: { tableNumber: store.tableNumber("people") } },
      { id: "", table: "pets", oldText: null, newText: null, keys: [], wholeTable: { tableNumber: store.tableNumber("pets") } },
    ]);
    expect(readSetIntersects(whole("people.by_creation_time"), writes)).toBe(true);
    expect(readSetIntersects({ intervals: [], ids: [first] }, writes)).toBe(true);
    expect(readSetIntersects(whole("other.by_id"), writes)).toBe(false);
    expect(readSetIntersects({ intervals: [], ids: [other] }, writes)).toBe(false);
    expect(store.count("people")).toBe(WHOLE_TABLE_AFTER_WRITES + 1);

    // The next transaction is listed document by document again.
    store.begin();
    const one = store.insert("people", { n: -1 });
    expect(store.commit().writes.map((w) => w.id)).toEqual([one]);
  });

  test("a rolled-back bulk transaction leaves nothing, not even in the document cache", () => {
    store.begin();
    const kept = store.insert("people", { n: "kept" });
    store.commit();
    expect(store.get(kept)).not.toBeNull();
    store.begin();
    store.delete(kept);
    const ids: string[] = [];
    for (let i = 0; i <= WHOLE_TABLE_AFTER_WRITES; i++) ids.push(store.insert("people", { n: i }));
    expect(store.get(kept)).toBeNull();
    expect(store.get(ids[5]!)).not.toBeNull();
    store.rollback();
    expect(store.get(ids[5]!)).toBeNull();
    expect(JSON.parse(store.get(kept)!).n).toBe("kept");
    expect(store.count("people")).toBe(1);
  });
});
