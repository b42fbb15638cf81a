import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { beforeEach, describe, expect, test } from "vitest";
import { isEngineError } from "../src/errors";
import { paginateQuery, type PageResult, type PaginateOptions } from "../src/query/paginate";
import { computedFingerprint, queryFingerprint } from "../src/query/pagination-cursor";
import { planQuery } from "../src/query/query-plan";
import { createReadSetRecorder } from "../src/query/read-set";
import type { SerializedQuery } from "../src/query/serialized-query";
import type { Store } from "../src/store/store";
import { schemaExport } from "./helpers/convex-json";
import { indexRange, r, tableScan } from "./helpers/query-json";
import { createSeededRandom } from "./helpers/seeded-random";
import { inTransaction, openTestStore } from "./helpers/temp-store";

const schema = defineSchema({ items: defineTable({ n: v.number(), tag: v.string() }).index("by_n", ["n"]) });
const byN = indexRange("items.by_n");

let store: Store;
beforeEach(() => {
  ({ store } = openTestStore());
  store.applySchema(schemaExport(schema));
});

function insertN(...ns: number[]): string[] {
  return inTransaction(store, () => ns.map((n) => store.insert("items", { n, tag: n % 2 === 1 ? "odd" : "even" })));
}

function page(query: SerializedQuery, options: Partial<PaginateOptions>): PageResult & { ns: number[] } {
  const result = paginateQuery(store, query, { cursor: null, endCursor: null, pageSize: 3, ...options }, createReadSetRecorder());
  return { ...result, ns: result.page.map((t) => JSON.parse(t).n) };
}

function errorCode(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (isEngineError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "no error";
}

describe("paginate", () => {
  test("an empty range is done at once, still with a continueCursor", () => {
    const first = page(byN, {});
    expect(first).toMatchObject({ ns: [], isDone: true, splitCursor: null, pageStatus: null });
    expect(typeof first.continueCursor).toBe("string");
  });

  test("pages follow each other; a page that takes the last document is not yet done", () => {
    insertN(1, 2, 3, 4, 5, 6);
    const p1 = page(byN, { pageSize: 3 });
    expect(p1).toMatchObject({ ns: [1, 2, 3], isDone: false });
    const p2 = page(byN, { pageSize: 3, cursor: p1.continueCursor });
    expect(p2).toMatchObject({ ns: [4, 5, 6], isDone: false });
    const p3 = page(byN, { pageSize: 3, cursor: p2.continueCursor });
    expect(p3).toMatchObject({ ns: [], isDone: true });
    const q1 = page(byN, { pageSize: 4 });
    expect(page(byN, { pageSize: 4, cursor: q1.continueCursor })).toMatchObject({ ns: [5, 6], isDone: true });
    expect(page(byN, { pageSize: 7 })).toMatchObject({ ns: [1, 2, 3, 4, 5, 6], isDone: true });
    // The End cursor yields an empty, done page.
    expect(page(byN, { cursor: p3.continueCursor })).toMatchObject({ ns: [], isDone: true });
  });

  test("descending order, and filters counting only matching documents", () => {
    insertN(1, 2, 3, 4, 5, 6);
    const desc = indexRange("items.by_n", [], "desc");
    const d1 = page(desc, { pageSize: 4 });
    expect(d1.ns).toEqual([6, 5, 4, 3]);
    expect(page(desc, { pageSize: 4, cursor: d1.continueCursor })).toMatchObject({ ns: [2, 1], isDone: true });
    const odd = indexRange("items.by_n", [], null, [{ filter: { $eq: [{ $field: "tag" }, { $literal: "odd" }] } }]);
    const o1 = page(odd, { pageSize: 2 });
    expect(o1).toMatchObject({ ns: [1, 3], isDone: false });
    // The cursor sits after 3, the last document examined: the next page starts at 4.
    expect(page(odd, { pageSize: 2, cursor: o1.continueCursor })).toMatchObject({ ns: [5], isDone: true });
  });

  test("an end cursor bounds the page inclusively and overrides the page size", () => {
    insertN(1, 2, 3, 4, 5, 6);
    const after2 = page(byN, { pageSize: 2 }).continueCursor;
    const after4 = page(byN, { pageSize: 2, cursor: after2 }).continueCursor;
    const upTo2 = page(byN, { pageSize: 1, endCursor: after2 });
    expect(upTo2).toMatchObject({ ns: [1, 2], isDone: false, continueCursor: after2 });
    expect(page(byN, { pageSize: 1, cursor: after2, endCursor: after4 })).toMatchObject({ ns: [3, 4], isDone: false });
    // The journal's end cursor is used when the arguments carry none.
    expect(page(byN, { pageSize: 1, previousEndCursor: after4 }).ns).toEqual([1, 2, 3, 4]);
    const end = page(byN, { pageSize: 10, cursor: after4 }).continueCursor;
    expect(page(byN, { pageSize: 1, cursor: after2, endCursor: end })).toMatchObject({ ns: [3, 4, 5, 6], isDone: true });
  });

  test("maximumRowsRead cuts the page short with SplitRequired and a split cursor", () => {
    insertN(1, 2, 3, 4, 5, 6);
    const split = page(byN, { pageSize: 5, maximumRowsRead: 2 });
    expect(split).toMatchObject({ ns: [1, 2], isDone: false, pageStatus: "SplitRequired" });
    expect(page(byN, { pageSize: 5, cursor: split.continueCursor }).ns).toEqual([3, 4, 5, 6]);
    expect(page(byN, { pageSize: 5, endCursor: split.splitCursor }).ns).toEqual([1]);
  });

  test("refuses page sizes below one or fractional, and zero read limits", () => {
    expect(errorCode(() => page(byN, { pageSize: 0 }))).toMatch(/^NoDocumentsForPagination/);
    expect(errorCode(() => page(byN, { pageSize: -1 }))).toMatch(/^NoDocumentsForPagination/);
    expect(errorCode(() => page(byN, { pageSize: 2.5 }))).toMatch(/^InvalidPageSize/);
    expect(errorCode(() => page(byN, { maximumRowsRead: 0 }))).toMatch(/^InvalidPaginationLimit/);
  });

  test("a cursor from another query, or no cursor at all, is InvalidCursor", () => {
    insertN(1, 2, 3);
    const cursor = page(byN, { pageSize: 1 }).continueCursor;
    const others: SerializedQuery[] = [
      tableScan("items"),
      indexRange("items.by_n", [], "desc"),
      indexRange("items.by_n", [r("Gt", "n", 1)]),
      indexRange("items.by_n", [], null, [{ filter: { $literal: true } }]),
    ];
    for (const other of others) {
      const message = errorCode(() => page(other, { cursor }));
      expect(message).toMatch(/^InvalidCursor: /);
      expect(message).toContain("InvalidCursor");
    }
    expect(errorCode(() => page(byN, { cursor: "garbage!" }))).toMatch(/^InvalidCursor/);
    expect(errorCode(() => page(byN, { cursor: cursor.slice(0, 10) }))).toMatch(/^InvalidCursor/);
    expect(errorCode(() => page(byN, { endCursor: page(tableScan("items"), {}).continueCursor }))).toMatch(/^InvalidCursor/);
  });

  test("a query's remembered fingerprint is the one computed afresh; cursors stay bound to their query and arguments", () => {
    insertN(1, 2, 3, 4);
    const queries: SerializedQuery[] = [
      byN,
      tableScan("items"),
      indexRange("items.by_n", [], "desc"),
      indexRange("items.by_n", [r("Gt", "n", 1)]),
      indexRange("items.by_n", [r("Gt", "n", 2)]),
      indexRange("items.by_n", [r("Eq", "n", "1")]),
      indexRange("items.by_n", [], null, [{ filter: { $literal: true } }]),
      indexRange("items.by_n", [], null, [{ limit: 2 }]),
    ];
    const fingerprints = queries.map((query) => {
      const plan = planQuery(store, query);
      const remembered = queryFingerprint(plan);
      // Asked again (remembered now), and for an equal query built afresh with its keys in another order.
      const reordered = JSON.parse(JSON.stringify({ operators: query.operators, source: query.source })) as SerializedQuery;
      expect(queryFingerprint(plan).equals(remembered)).toBe(true);
      expect(queryFingerprint(planQuery(store, reordered)).equals(remembered)).toBe(true);
      expect(computedFingerprint(plan).equals(remembered)).toBe(true);
      return remembered.toString("hex");
    });
    expect(new Set(fingerprints).size).toBe(queries.length);
    // With every fingerprint remembered, a cursor still works only for its own query.
    queries.forEach((query, i) => {
      const cursor = page(query, { pageSize: 1 }).continueCursor;
      expect(errorCode(() => page(query, { pageSize: 1, cursor }))).toBe("no error");
      const other = queries[(i + 1) % queries.length]!;
      expect(errorCode(() => page(other, { cursor }))).toBe(
        "InvalidCursor: InvalidCursor: the pagination cursor cannot be used with this query: it was returned by a different query.",
      );
    });
  });

  test("no gaps and no duplicates while documents come and go between pages (seed 5)", () => {
    const random = createSeededRandom(5);
    const initial = insertN(...Array.from({ length: 60 }, () => random.int(1000)));
    const alive = new Set(initial);
    const survivors = new Set(initial);
    const seen: string[] = [];
    let lastN = -Infinity;
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const result = page(byN, { pageSize: 7, cursor });
      for (const text of result.page) {
        const doc = JSON.parse(text);
        expect(doc.n).toBeGreaterThanOrEqual(lastN);
        lastN = doc.n;
        seen.push(doc._id);
      }
      if (result.isDone) break;
      cursor = result.continueCursor;
      inTransaction(store, () => {
        for (let i = 0; i < 3; i++) alive.add(store.insert("items", { n: random.int(1000), tag: "new" }));
        const victim = [...alive][random.int(alive.size)];
        store.delete(victim);
        alive.delete(victim);
        survivors.delete(victim);
      });
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of survivors) expect(seen).toContain(id);
  });

  test("re-running a page with its own continueCursor as end cursor grows it instead of shifting", () => {
    insertN(10, 20, 30, 40);
    const first = page(byN, { pageSize: 2 });
    expect(first.ns).toEqual([10, 20]);
    insertN(15);
    const rerun = page(byN, { pageSize: 2, previousEndCursor: first.continueCursor });
    expect(rerun).toMatchObject({ ns: [10, 15, 20], continueCursor: first.continueCursor });
    expect(page(byN, { pageSize: 2, cursor: first.continueCursor }).ns).toEqual([30, 40]);
  });
});
