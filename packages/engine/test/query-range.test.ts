import { defineSchema, defineTable } from "convex/server";
import { v } from "convex/values";
import { beforeEach, describe, expect, test } from "vitest";
import { isEngineError } from "../src/errors";
import { openQueryStream } from "../src/query/query-stream";
import { createReadSetRecorder } from "../src/query/read-set";
import type { SerializedQuery } from "../src/query/serialized-query";
import type { Store } from "../src/store/store";
import { schemaExport } from "./helpers/convex-json";
import { collect, indexRange, r, tableScan, UNDEFINED } from "./helpers/query-json";
import { compileIndexRange } from "../src/query/index-range";
import { inTransaction, openTestStore } from "./helpers/temp-store";

const schema = defineSchema({
  items: defineTable({ grp: v.optional(v.string()), n: v.optional(v.any()), tag: v.optional(v.string()) })
    .index("by_grp_n", ["grp", "n"])
    .index("by_tag", ["tag"]),
});

let store: Store;
let ids: Record<string, string>;
let times: Record<string, number>;

beforeEach(() => {
  ({ store } = openTestStore());
  store.applySchema(schemaExport(schema));
  ids = {};
  times = {};
  inTransaction(store, () => {
    const add = (name: string, fields: Record<string, string | number | bigint>) => {
      ids[name] = store.insert("items", { ...fields, tag: name });
    };
    add("a1", { grp: "a", n: 1 });
    add("a2", { grp: "a", n: 2 });
    add("a3", { grp: "a", n: 3 });
    add("a3bis", { grp: "a", n: 3 });
    add("aInt", { grp: "a", n: 2n });
    add("b1", { grp: "b", n: 1 });
    add("none", { n: 1 });
    add("nul", { grp: "a\0", n: 1 });
  });
  for (const doc of collect(store, tableScan("items"))) times[doc.tag as string] = doc._creationTime as number;
});

const tags = (query: SerializedQuery) => collect(store, query).map((d) => d.tag);

function errorOf(query: SerializedQuery): { code: string; message: string } {
  try {
    openQueryStream(store, query, createReadSetRecorder()).next();
  } catch (e) {
    if (isEngineError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("expected the query to fail");
}

describe("index ranges", () => {
  test("an Eq prefix selects its group, ordered by the next fields then _creationTime", () => {
    // int64 2n sorts below every float64, so it comes first in group "a".
    expect(tags(indexRange("items.by_grp_n", [r("Eq", "grp", "a")]))).toEqual(["aInt", "a1", "a2", "a3", "a3bis"]);
    expect(tags(indexRange("items.by_grp_n", [r("Eq", "grp", "a")], "desc"))).toEqual(["a3bis", "a3", "a2", "a1", "aInt"]);
  });

  test("Eq on a missing field matches documents without it; `a` does not match `a\\0`", () => {
    expect(tags(indexRange("items.by_grp_n", [r("Eq", "grp", UNDEFINED)]))).toEqual(["none"]);
    expect(tags(indexRange("items.by_grp_n", [r("Eq", "grp", "a"), r("Eq", "n", 1)]))).toEqual(["a1"]);
    expect(tags(indexRange("items.by_grp_n", [r("Gt", "grp", "a")]))).toEqual(["nul", "b1"]);
    expect(tags(indexRange("items.by_grp_n", [r("Lte", "grp", "a")]))).toEqual(["none", "aInt", "a1", "a2", "a3", "a3bis"]);
  });

  test("lower and upper bounds on the field after the Eqs, inclusive and exclusive", () => {
    const a = r("Eq", "grp", "a");
    expect(tags(indexRange("items.by_grp_n", [a, r("Gt", "n", 1), r("Lte", "n", 3)]))).toEqual(["a2", "a3", "a3bis"]);
    expect(tags(indexRange("items.by_grp_n", [a, r("Gte", "n", 2), r("Lt", "n", 3)]))).toEqual(["a2"]);
    // Bounds compare by the total order: every float64 is above the int64 2n.
    expect(tags(indexRange("items.by_grp_n", [a, r("Gt", "n", { $integer: "AgAAAAAAAAA=" })]))).toEqual(["a1", "a2", "a3", "a3bis"]);
    // Upper bound before the lower one is accepted (the backend's lenient rule).
    expect(tags(indexRange("items.by_grp_n", [a, r("Lt", "n", 3), r("Gt", "n", 1)]))).toEqual(["a2"]);
  });

  test("Eqs may come in any order as long as they form a prefix", () => {
    expect(tags(indexRange("items.by_grp_n", [r("Eq", "n", 3), r("Eq", "grp", "a")]))).toEqual(["a3", "a3bis"]);
  });

  test("the implicit _creationTime and _id fields can be used after the declared ones", () => {
    const range = [r("Eq", "grp", "a"), r("Eq", "n", 3), r("Gt", "_creationTime", times.a3)];
    expect(tags(indexRange("items.by_grp_n", range))).toEqual(["a3bis"]);
    expect(tags(indexRange("items.by_creation_time", [r("Gte", "_creationTime", times.a3bis)]))).toEqual(["a3bis", "aInt", "b1", "none", "nul"]);
    expect(tags(indexRange("items.by_creation_time", [r("Eq", "_creationTime", times.a2), r("Eq", "_id", ids.a2)]))).toEqual(["a2"]);
    expect(tags(indexRange("items.by_id", [r("Eq", "_id", ids.b1)]))).toEqual(["b1"]);
  });

  test("an empty range and a full table scan read everything in _creationTime order", () => {
    const all = ["a1", "a2", "a3", "a3bis", "aInt", "b1", "none", "nul"];
    expect(tags(indexRange("items.by_creation_time"))).toEqual(all);
    expect(tags(tableScan("items"))).toEqual(all);
    expect(tags(tableScan("items", "desc"))).toEqual([...all].reverse());
    expect(tags(tableScan("never_created"))).toEqual([]);
  });

  test("rejects every malformed range shape with the backend's error", () => {
    const idx = "items.by_grp_n";
    expect(errorOf(indexRange(idx, [r("Eq", "grp", "a"), r("Eq", "grp", "b")])).code).toBe("AlreadyDefinedBound");
    expect(errorOf(indexRange(idx, [r("Eq", "grp", "a"), r("Gt", "n", 1), r("Gte", "n", 2)])).message).toContain(
      "Already defined lower bound in index range.",
    );
    expect(errorOf(indexRange(idx, [r("Eq", "grp", "a"), r("Lt", "n", 1), r("Lte", "n", 2)])).message).toContain("upper bound");
    expect(errorOf(indexRange(idx, [r("Gt", "grp", "a"), r("Lt", "n", 1)])).code).toBe("BoundsOnMultipleFields");
    expect(errorOf(indexRange(idx, [r("Eq", "grp", "a"), r("Gt", "grp", "a")])).code).toBe("AlreadyDefinedBound");
    expect(errorOf(indexRange(idx, [r("Eq", "tag", "x")])).code).toBe("FieldNotInIndex");
    const gap = errorOf(indexRange(idx, [r("Eq", "n", 1)]));
    expect(gap.code).toBe("InvalidIndexRange");
    expect(gap.message).toContain("Index fields: [grp, n, _creationTime, _id]");
    expect(errorOf(indexRange(idx, [r("Gt", "n", 1)])).code).toBe("InvalidIndexRange");
    const unknown = errorOf(indexRange("items.by_nothing", []));
    expect(unknown.code).toBe("IndexNotFound");
    expect(unknown.message).toContain("items.by_nothing");
    expect(errorOf(indexRange("items.toString", [])).code).toBe("IndexNotFound");
    const search: SerializedQuery = {
      source: { type: "Search", indexName: "items.search_tag", filters: [{ type: "Search", fieldPath: "tag", value: "a" }] },
      operators: [],
    };
    // No search index of that name was declared.
    expect(() => openQueryStream(store, search, createReadSetRecorder())).toThrow(/Index items.search_tag not found/);
  });
});

test("an eq-prefix range of strings (read without decoding them) is the range the general path makes of the same eqs", () => {
  const index = { name: "items.by_grp_n", table: "items", fields: ["grp", "n", "_creationTime", "_id"] };
  // The fast path hands out views, the general path Buffers: compared as bytes.
  const bytes = (range: { lo: Uint8Array; hi: Uint8Array | null }) => ({ lo: [...range.lo], hi: range.hi === null ? null : [...range.hi] });
  for (const [grp, n] of [["a", "x"], ["a\0", ""], ["é😀", "$b"], ["", "\ud800"]] as const) {
    const inOrder = [r("Eq", "grp", grp), r("Eq", "n", n)];
    // Reversed, the eqs are not in index order: `generalRange` decodes and sorts them.
    const general = bytes(compileIndexRange(index, [...inOrder].reverse()));
    expect(bytes(compileIndexRange(index, inOrder))).toEqual(general);
  }
  // A non-string value still decodes (`{"$integer": …}` is a bigint, not an object).
  const int = [r("Eq", "grp", "a"), r("Eq", "n", { $integer: "AgAAAAAAAAA=" })];
  expect(bytes(compileIndexRange(index, int))).toEqual(bytes(compileIndexRange(index, [...int].reverse())));
});
