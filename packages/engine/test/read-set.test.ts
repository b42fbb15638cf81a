import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { beforeEach, describe, expect, test } from "vitest";
import { countDocuments, readDocument } from "../src/query/document-reads";
import { paginateQuery } from "../src/query/paginate";
import { openQueryStream } from "../src/query/query-stream";
import { createReadSetRecorder, readSetIntersects, type ReadSetRecorder } from "../src/query/read-set";
import type { QueryOperator, SerializedQuery } from "../src/query/serialized-query";
import type { Store } from "../src/store/store";
import type { DocumentWrite } from "../src/store/write-set";
import { schemaExport } from "./helpers/convex-json";
import { collect, indexRange, r, tableScan } from "./helpers/query-json";
import { openTestStore } from "./helpers/temp-store";

const schema = defineSchema({
  likes: defineTable({ user: v.string(), post: v.number() }).index("by_user_post", ["user", "post"]),
  other: defineTable({}),
});

let store: Store;
beforeEach(() => {
  ({ store } = openTestStore());
  store.applySchema(schemaExport(schema));
  commit(() => {
    for (const post of [1, 2, 3, 4]) store.insert("likes", { user: "ada", post });
    store.insert("likes", { user: "bob", post: 1 });
  });
});

function commit(body: () => void): DocumentWrite[] {
  store.begin();
  body();
  return store.commit().writes;
}

/** Takes the first `n` documents of a stream, as `take(n)` would, and returns its recorder. */
function take(query: SerializedQuery, n: number): ReadSetRecorder {
  const recorder = createReadSetRecorder();
  const stream = openQueryStream(store, { ...query, operators: [...query.operators, { limit: n }] }, recorder);
  while (stream.next() !== null);
  return recorder;
}

const ada = (order: "asc" | "desc" | null = null) => indexRange("likes.by_user_post", [r("Eq", "user", "ada")], order);
const like = (user: string, post: number) => () => void store.insert("likes", { user, post });

describe("read sets", () => {
  test("a stream stopped by a limit covers only up to the last key it read", () => {
    const readSet = take(ada(), 2).readSet();
    expect(readSet.intervals).toHaveLength(1);
    expect(readSetIntersects(readSet, commit(like("ada", 2.5)))).toBe(false);
    expect(readSetIntersects(readSet, commit(like("ada", 1.5)))).toBe(true);
    expect(readSetIntersects(readSet, commit(like("ada", 0)))).toBe(true);
  });

  test("descending, the interval runs from the last key read up to the range's end", () => {
    const readSet = take(ada("desc"), 2).readSet();
    expect(readSetIntersects(readSet, commit(like("ada", 2.5)))).toBe(false);
    expect(readSetIntersects(readSet, commit(like("ada", 3.5)))).toBe(true);
    expect(readSetIntersects(readSet, commit(like("ada", 9)))).toBe(true);
  });

  test("an exhausted stream covers its whole range and nothing outside it", () => {
    const recorder = createReadSetRecorder();
    expect(collect(store, ada(), recorder)).toHaveLength(4);
    const readSet = recorder.readSet();
    expect(readSetIntersects(readSet, commit(like("bob", 99)))).toBe(false);
    expect(readSetIntersects(readSet, commit(like("adam", 1)))).toBe(false);
    expect(readSetIntersects(readSet, commit(() => void store.insert("other", {})))).toBe(false);
    expect(readSetIntersects(readSet, commit(like("ada", 99)))).toBe(true);
  });

  test("first() reads exactly one row; take(0) reads none", () => {
    expect(take(ada(), 0).readSet().intervals).toEqual([]);
    const first = take(ada(), 1).readSet();
    expect(readSetIntersects(first, commit(like("ada", 1.5)))).toBe(false);
  });

  test("updates and deletes of a read document hit even when its keys do not move", () => {
    const recorder = createReadSetRecorder();
    const docs = collect(store, ada(), recorder);
    const target = docs[1]._id as string;
    const readSet = recorder.readSet();
    expect(readSetIntersects(readSet, commit(() => void store.replace(target, { user: "ada", post: 2 })))).toBe(true);
    expect(readSetIntersects(readSet, commit(() => void store.delete(target)))).toBe(true);
    // A document moving into the range from outside hits through its new key.
    const bob = collect(store, indexRange("likes.by_user_post", [r("Eq", "user", "bob")]))[0]._id as string;
    expect(readSetIntersects(readSet, commit(() => void store.replace(bob, { user: "ada", post: 7 })))).toBe(true);
  });

  test("get records the id, found or not; count depends on every insert and delete", () => {
    const recorder = createReadSetRecorder();
    const id = collect(store, tableScan("likes"))[0]._id as string;
    expect(readDocument(store, id, recorder)).not.toBeNull();
    const readSet = recorder.readSet();
    expect(readSet.ids).toEqual([id]);
    expect(readSetIntersects(readSet, commit(like("zed", 1)))).toBe(false);
    expect(readSetIntersects(readSet, commit(() => void store.replace(id, { user: "ada", post: 1 })))).toBe(true);

    const counting = createReadSetRecorder();
    expect(countDocuments(store, "likes", counting)).toBe(6);
    expect(readSetIntersects(counting.readSet(), commit(like("zed", 2)))).toBe(true);
    expect(readSetIntersects(counting.readSet(), commit(() => void store.insert("other", {})))).toBe(false);
  });

  test("a full scan of a table that does not exist yet is hit by its first insert", () => {
    const recorder = createReadSetRecorder();
    expect(collect(store, tableScan("later"), recorder)).toEqual([]);
    expect(readSetIntersects(recorder.readSet(), commit(() => void store.insert("later", {})))).toBe(true);
  });

  test("drain reads what next() until null reads: the same documents in order and the same read set", () => {
    commit(() => {
      for (const post of [5, 6, 7]) store.insert("likes", { user: "ada", post });
    });
    const hex = (recorder: ReadSetRecorder) => {
      const { intervals, ids } = recorder.readSet();
      return { intervals: intervals.map((i) => [i.index, Buffer.from(i.lo).toString("hex"), i.hi && Buffer.from(i.hi).toString("hex")]), ids };
    };
    const onlyEven: QueryOperator = { filter: { $eq: [{ $field: "post" }, { $literal: 2 }] } };
    const queries: SerializedQuery[] = [];
    // take(n) below, at and beyond the 7 rows of the range (one batch: drain's own path), both
    // orders, a full table scan, two limits, and shapes a stream reads row by row (a filter
    // before the limit, no limit at all).
    for (const n of [0, 1, 2, 7, 8]) for (const order of ["asc", "desc"] as const) queries.push(ada(order), { ...ada(order), operators: [{ limit: n }] });
    queries.push({ ...tableScan("likes", "desc"), operators: [{ limit: 3 }] });
    queries.push({ ...ada(), operators: [{ limit: 5 }, { limit: 2 }] });
    queries.push({ ...ada(), operators: [onlyEven, { limit: 1 }] }, { ...ada(), operators: [{ limit: 4 }, onlyEven] });
    for (const query of queries) {
      const byNext = createReadSetRecorder();
      const stream = openQueryStream(store, query, byNext);
      const expected: string[] = [];
      for (let text = stream.next(); text !== null; text = stream.next()) expected.push(text);

      const byDrain = createReadSetRecorder();
      const drained: string[] = [];
      openQueryStream(store, query, byDrain).drain((row) => drained.push(row.text));
      expect(drained).toEqual(expected);
      expect(hex(byDrain)).toEqual(hex(byNext));
    }
  });

  test("drain hands out rows one by one: an error from the callback leaves the read set at that row and ends the stream", () => {
    const recorder = createReadSetRecorder();
    const stream = openQueryStream(store, { ...ada(), operators: [{ limit: 3 }] }, recorder);
    const seen: number[] = [];
    expect(() =>
      stream.drain((row) => {
        seen.push(JSON.parse(row.text).post);
        if (seen.length === 2) throw new Error("over budget");
      }),
    ).toThrow("over budget");
    expect(seen).toEqual([1, 2]);
    expect(stream.next()).toBeNull();
    // Read as far as the second row: a write after it cannot change what was handed out.
    const readSet = recorder.readSet();
    expect(readSetIntersects(readSet, commit(like("ada", 2.5)))).toBe(false);
    expect(readSetIntersects(readSet, commit(like("ada", 1.5)))).toBe(true);
  });

  test("a page covers from just after its cursor through its last examined key", () => {
    const query = ada();
    const first = paginateQuery(store, query, { cursor: null, endCursor: null, pageSize: 1 }, createReadSetRecorder());
    const recorder = createReadSetRecorder();
    const second = paginateQuery(store, query, { cursor: first.continueCursor, endCursor: null, pageSize: 2 }, recorder);
    expect(second.page.map((t) => JSON.parse(t).post)).toEqual([2, 3]);
    const readSet = recorder.readSet();
    expect(readSetIntersects(readSet, commit(like("ada", 0.5)))).toBe(false);
    expect(readSetIntersects(readSet, commit(like("ada", 3.5)))).toBe(false);
    expect(readSetIntersects(readSet, commit(like("ada", 2.5)))).toBe(true);
  });
});
